"""Versions built from more than one manifest: incremental ones and distributed ones.

An incremental version (manifest type ``INCREMENTAL``) uploads only what it adds to its base
version; a distributed one (``upsert_artifact`` / ``finish_artifact``) receives one ``PATCH``
manifest per writer. W&B commits each as the union of those manifests, later entries
replacing earlier ones of the same path; so does :func:`merged`.

The manifest key holds one upload at a time, so each ``PATCH`` upload is folded into the
version's patch key (:func:`fold_patch`) before the next writer's manifest replaces it.
"""

from __future__ import annotations

import sqlite3

from ..formats.manifest import Manifest, md5_b64_bytes
from . import blobs
from .store import Store


def _read(blob_store: blobs.BlobStore, key: str) -> Manifest | None:
    if not blob_store.exists(key):
        return None
    with blob_store.open(key) as file:
        return Manifest.from_bytes(file.read())


def _union(*manifests: Manifest | None) -> Manifest:
    merged = Manifest()
    for manifest in manifests:
        for entry in manifest or ():
            merged.add(entry)
    return merged


def fold_patch(store: Store, blob_store: blobs.BlobStore, artifact_id: int) -> None:
    """Keep the uploaded ``PATCH`` manifest of a pending version before another replaces it."""
    manifest = store.manifest_of(artifact_id)
    if manifest is None or manifest["type"] != "PATCH" or not manifest["uploaded"]:
        return
    uploaded = _read(blob_store, blobs.manifest_key(artifact_id))
    if uploaded is None:
        return
    key = blobs.patches_key(artifact_id)
    blob_store.write(key, _union(_read(blob_store, key), uploaded).to_bytes())


def merged(
    blob_store: blobs.BlobStore, manifest_row: sqlite3.Row, uploaded: Manifest
) -> Manifest | None:
    """The version's whole manifest: its base's entries (incremental) or the earlier writers'
    (distributed) with the uploaded ones on top; None when the upload is the whole manifest."""
    if manifest_row["type"] == "INCREMENTAL" and manifest_row["base_artifact_id"] is not None:
        earlier = _read(blob_store, blobs.manifest_key(manifest_row["base_artifact_id"]))
    elif manifest_row["type"] == "PATCH":
        earlier = _read(blob_store, blobs.patches_key(manifest_row["artifact_id"]))
    else:
        return None
    return None if earlier is None else _union(earlier, uploaded)


def keep_merged(
    store: Store, blob_store: blobs.BlobStore, manifest_row: sqlite3.Row, manifest: Manifest
) -> None:
    """Store a merged manifest as the version's own (its URL then serves the whole of it)."""
    artifact_id = manifest_row["artifact_id"]
    data = manifest.to_bytes()
    blob_store.write(blobs.manifest_key(artifact_id), data)
    store.mark_manifest_merged(artifact_id, md5_b64_bytes(data))
    if manifest_row["type"] == "PATCH":
        blob_store.remove(blobs.patches_key(artifact_id))
