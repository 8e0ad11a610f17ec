"""Versions built from more than one manifest: incremental ones and distributed ones.

An incremental version (manifest type ``INCREMENTAL``) uploads only what it adds to its base
version; a distributed one (``upsert_artifact`` / ``finish_artifact``) receives one ``PATCH``
manifest per writer. W&B commits each as the union of those manifests, later entries
replacing earlier ones of the same path; so does :func:`merged`.

Each writer's ``PATCH`` manifest is uploaded to a key of its own (:func:`receive_patch`) and
stays there until the version is finished; :func:`finish_distributed` then folds every
uploaded patch under one write transaction. No writer's upload replaces another's, and a
patch recorded after the fold is refused, so an acknowledged patch is never lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..formats.manifest import Manifest, md5_b64_bytes
from . import blobs
from .files import UploadRejected, receive_to_staging, refuse_larger
from .store import Store, StoreError

if TYPE_CHECKING:
    from .state import ServerState

#: A version's committed rows from its whole manifest (see ``commit_artifact``).
FilesOf = Callable[[Manifest], list[tuple[str, str | None, int, str | None, int | None]]]


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


def merged(
    blob_store: blobs.BlobStore, manifest_row: sqlite3.Row, uploaded: Manifest
) -> Manifest | None:
    """An incremental version's whole manifest: its base's entries with the uploaded ones on
    top; None when the upload is the whole manifest."""
    if manifest_row["type"] != "INCREMENTAL" or manifest_row["base_artifact_id"] is None:
        return None
    earlier = _read(blob_store, blobs.manifest_key(manifest_row["base_artifact_id"]))
    return None if earlier is None else _union((earlier, uploaded))


def keep_merged(
    store: Store, blob_store: blobs.BlobStore, artifact_id: int, manifest: Manifest
) -> None:
    """Store a merged manifest as the version's own (its URL then serves the whole of it)."""
    data = manifest.to_bytes()
    blob_store.write(blobs.manifest_key(artifact_id), data)
    store.mark_manifest_merged(artifact_id, md5_b64_bytes(data))


async def receive_patch(
    state: ServerState, request: Request, artifact_id: int, digest_hex: str
) -> None:
    """Store one writer's ``PATCH`` manifest at its own key, then count it in."""
    if state.store.patch(artifact_id, digest_hex) is None:
        raise UploadRejected(
            404, "declare the patch with createArtifactManifest (its digest) before uploading it"
        )
    refuse_larger(request, state.limits.manifest_bytes, "manifest_bytes")
    await receive_to_staging(state, request, digest_hex, blobs.patch_key(artifact_id, digest_hex))
    await run_in_threadpool(state.store.mark_patch_uploaded, artifact_id, digest_hex)


def finish_distributed(
    store: Store,
    blob_store: blobs.BlobStore,
    artifact_id: int,
    check: Callable[[bytes], None],
    files_of: FilesOf,
) -> sqlite3.Row:
    """Commit a distributed version as the union of every uploaded patch, in one write
    transaction: a patch is counted in before the fold reads the patches, or refused after.
    ``check`` vets each patch's bytes before it is parsed."""
    with store.write():
        patches = []
        for digest_hex in store.uploaded_patches(artifact_id):
            with blob_store.open(blobs.patch_key(artifact_id, digest_hex)) as file:
                data = file.read()
            check(data)
            patches.append(Manifest.from_bytes(data))
        if not patches:
            raise StoreError("upload the version's patch manifest before finishing it")
        whole = _union(patches)
        files = files_of(whole)
        keep_merged(store, blob_store, artifact_id, whole)
        return store.commit_artifact(artifact_id, files, digest=whole.digest())
