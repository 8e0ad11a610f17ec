"""Committing a version: one core operation, authorized on the version it changes.

A version is committed from its whole manifest: the one uploaded, or (an incremental version,
manifest type ``INCREMENTAL``) its base's entries with the uploaded ones on top, or (a
distributed version, ``upsert_artifact`` / ``finish_artifact``) the union of every writer's
``PATCH`` manifest. W&B commits each as the union of those manifests, later entries replacing
earlier ones of the same path.

Each writer's patch stays at its own key until the version is finished; finishing folds every
uploaded patch under one write transaction, so an acknowledged patch is never lost and a
patch recorded after the fold is refused.

Every stored file of the manifest must have been uploaded whole, and the caller must hold
its bytes: it may read a version that holds them, or this version's writer uploaded them (a
grant, see :mod:`.objects`). The first version to hold an object becomes its birth version.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Iterable

from ...formats.errors import InvalidInputError
from ...formats.manifest import Manifest, md5_b64_bytes
from .. import blobs
from ..ids import decode_id
from .access import Access
from .base import StoreError
from .versions import Store

#: The storage regions W&B knows (the SDK offers ``coreweave-us`` besides the default); this
#: server keeps every artifact's bytes in its one store, whichever was asked.
STORAGE_REGIONS = ("default", "coreweave-us")

#: A committed file: (name, md5 hex or None for a reference, size, ref, birth version id).
FileRow = tuple[str, str | None, int, str | None, int | None]


def check_storage_region(region: str | None) -> None:
    if region is not None and region not in STORAGE_REGIONS:
        known = ", ".join(map(repr, STORAGE_REGIONS))
        raise StoreError(f"unknown storage region {region!r}: use one of {known}")


def md5_b64_to_hex(md5_b64: str) -> str:
    try:
        raw = base64.b64decode(md5_b64, validate=True)
    except binascii.Error as exc:
        raise StoreError(f"md5 {md5_b64!r} is not base64") from exc
    if len(raw) != 16:
        raise StoreError(f"md5 {md5_b64!r} is not 16 bytes")
    return raw.hex()


def commit_version(access: Access, blob_store: blobs.BlobStore, artifact_id: int) -> sqlite3.Row:
    """Commit the PENDING version ``artifact_id`` from its uploaded manifest(s); the caller must
    be allowed to write its source project (a Registry link grants no write). A committed version is
    answered as it is (a retried commit)."""
    store = access.store
    artifact = access.writable_artifact(artifact_id)
    if artifact["state"] == "COMMITTED":
        return artifact
    manifest_row = store.manifest_of(artifact_id)
    if manifest_row is not None and manifest_row["type"] == "PATCH":
        return _finish_distributed(access, blob_store, artifact_id)
    if manifest_row is None or not manifest_row["uploaded"]:
        raise StoreError("upload the artifact's manifest before committing it")
    with blob_store.open(blobs.manifest_key(artifact_id)) as file:
        data = file.read()
    try:
        manifest = _parse(data)
        whole = _merged(blob_store, manifest_row, manifest)
    except InvalidInputError as exc:
        raise StoreError(f"the uploaded manifest is invalid: {exc}") from exc
    digest = manifest.digest()
    if digest != artifact["digest"]:
        raise StoreError(
            f"the manifest's digest {digest} differs from the artifact's {artifact['digest']}"
        )
    files = _stored_files(access, whole or manifest, artifact_id)
    if whole is not None:
        _keep_merged(store, blob_store, artifact_id, whole)
    return store.commit_artifact(
        artifact_id, files, digest=digest if whole is None else whole.digest()
    )


def _storage_region(manifest: bytes) -> str | None:
    """The region a manifest's storage policy asks for."""
    if b'"storageRegion"' not in manifest:  # most manifests: no second parse of a big one
        return None
    try:
        config = json.loads(manifest).get("storagePolicyConfig")
    except (ValueError, AttributeError):
        return None  # Manifest.from_bytes says what is wrong with it
    region = config.get("storageRegion") if isinstance(config, dict) else None
    return region if region is None else str(region)


def _parse(data: bytes) -> Manifest:
    """A manifest's bytes, its storage region vetted before it is parsed."""
    check_storage_region(_storage_region(data))
    return Manifest.from_bytes(data)


def _read(blob_store: blobs.BlobStore, key: str) -> Manifest | None:
    if not blob_store.exists(key):
        return None
    with blob_store.open(key) as file:
        return Manifest.from_bytes(file.read())


def _union(manifests: Iterable[Manifest | None]) -> Manifest:
    merged = Manifest()
    for manifest in manifests:
        for entry in manifest or ():
            merged.add(entry)
    return merged


def _merged(
    blob_store: blobs.BlobStore, manifest_row: sqlite3.Row, uploaded: Manifest
) -> Manifest | None:
    """An incremental version's whole manifest: its base's entries with the uploaded ones on
    top; None when the upload is the whole manifest."""
    if manifest_row["type"] != "INCREMENTAL" or manifest_row["base_artifact_id"] is None:
        return None
    earlier = _read(blob_store, blobs.manifest_key(manifest_row["base_artifact_id"]))
    return None if earlier is None else _union((earlier, uploaded))


def _keep_merged(
    store: Store, blob_store: blobs.BlobStore, artifact_id: int, manifest: Manifest
) -> None:
    """Store a merged manifest as the version's own (its URL then serves the whole of it)."""
    data = manifest.to_bytes()
    blob_store.write(blobs.manifest_key(artifact_id), data)
    store.mark_manifest_merged(artifact_id, md5_b64_bytes(data))


def _finish_distributed(
    access: Access, blob_store: blobs.BlobStore, artifact_id: int
) -> sqlite3.Row:
    """Commit a distributed version as the union of every uploaded patch, in one write
    transaction: a patch is counted in before the fold reads the patches, or refused after."""
    store = access.store
    with store.write():
        patches = []
        for digest_hex in store.uploaded_patches(artifact_id):
            with blob_store.open(blobs.patch_key(artifact_id, digest_hex)) as file:
                patches.append(_parse(file.read()))
        if not patches:
            raise StoreError("upload the version's patch manifest before finishing it")
        whole = _union(patches)
        files = _stored_files(access, whole, artifact_id)
        _keep_merged(store, blob_store, artifact_id, whole)
        return store.commit_artifact(artifact_id, files, digest=whole.digest())


def _stored_files(access: Access, manifest: Manifest, artifact_id: int) -> list[FileRow]:
    """The rows of a version's files, from its whole manifest: each stored file must have
    been uploaded whole, for this version unless the caller reads another that holds it."""
    store = access.store
    files: list[FileRow] = []
    for entry in manifest:
        birth = entry.birth_artifact_id
        birth_id = decode_id(birth, "Artifact") if birth else None
        if entry.ref is not None:
            files.append((entry.path, None, entry.size or 0, entry.ref, birth_id))
            continue
        md5_hex = md5_b64_to_hex(entry.digest)
        blob = store.blob(md5_hex)
        if blob is None or blob["size"] != entry.size:
            raise StoreError(f"file {entry.path!r} was not uploaded: upload its bytes, then commit")
        birth_id = _birth(access, artifact_id, md5_hex, birth_id or blob["birth_artifact_id"])
        if birth_id is None:
            raise StoreError(
                f"file {entry.path!r} was not uploaded for this version: upload its "
                "bytes, then commit"
            )
        if blob["birth_artifact_id"] is None:
            store.set_birth(md5_hex, birth_id)
        files.append((entry.path, md5_hex, entry.size, None, birth_id))
    return files


def _birth(access: Access, artifact_id: int, md5_hex: str, named: int | None) -> int | None:
    """The birth version a committed entry records: the one its manifest (or the object)
    names, when the caller may read it, else a version the caller reads that holds the bytes,
    else this version when its writer uploaded them; None when none of those holds."""
    if access.admin:
        return named or artifact_id
    holder = access.version_holding(md5_hex, named)
    if holder is not None:
        return holder["id"]
    return artifact_id if access.store.granted(artifact_id, md5_hex) else None
