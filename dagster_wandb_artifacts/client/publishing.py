"""Logging a draft: the protocol's steps from ``CreateArtifact`` to ``CommitArtifact``.

1. ``CreateArtifact`` (with dedup, the server may answer with the collection's ``latest``);
2. ``CreateArtifactManifest``, with its upload URL; 3. ``CreateArtifactFiles`` (a null
upload URL means the server already has those bytes); 4. parallel PUTs, in parts for large
files (3 and 4 go batch by batch, so memory does not grow with the file count, and the next
batch is asked for while the one before uploads); 5. the manifest's own upload, alongside 3
and 4; 6. ``CommitArtifact``, after which the version is visible as ``vN`` and ``latest``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..formats.manifest import ManifestEntry
from . import queries
from .errors import ArtifactFinalizedError, ServerError
from .transfer import (
    Uploader,
    chunks,
    entries_progress,
    parallel_map,
    part_md5s,
    prefetched,
    requests_in_flight,
)

if TYPE_CHECKING:
    from .api import Api
    from .artifact import Artifact
    from .run import Run

#: Files named in one ``CreateArtifactFiles`` request.
FILES_PER_REQUEST = 1000
#: Files named in the first: uploads start on its reply (the server registers 1,000 files in
#: a few round trips' time), while the next batches are asked for.
FIRST_FILES_PER_REQUEST = 100

#: A file to upload: its entry, its ``CreateArtifactFiles`` node, its parts' md5s if multipart.
_Upload = tuple[ManifestEntry, dict[str, Any], list[dict[str, Any]] | None]


def log_artifact(
    api: Api, run: Run, artifact: Artifact, aliases: list[str], tags: list[str], *, dedup: bool
) -> Artifact:
    if not artifact.is_draft():
        raise ArtifactFinalizedError(
            f"{artifact.name} is already logged: call new_draft() to log changes as a new version"
        )
    artifact.finalize()
    manifest = artifact.manifest
    digest = manifest.digest()
    collection = artifact._collection_name
    sent_aliases = list(dict.fromkeys(["latest", *aliases]))
    sent_tags = list(dict.fromkeys(tags))
    created = api.client.execute(
        queries.CREATE_ARTIFACT,
        {
            "input": {
                "entityName": run.entity,
                "projectName": run.project,
                "artifactTypeName": artifact.type,
                "artifactCollectionName": collection,
                "runName": run.id,
                "digest": digest,
                "digestAlgorithm": "MANIFEST_MD5",
                "description": artifact.description,
                "metadata": json.dumps(artifact.metadata) if artifact.metadata else None,
                "ttlDurationSeconds": artifact._ttl_to_gql(),
                "aliases": [
                    {"artifactCollectionName": collection, "alias": alias} for alias in sent_aliases
                ],
                "tags": [{"tagName": tag} for tag in sent_tags],
                "enableDigestDeduplication": dedup,
                "storageRegion": manifest.storage_region,
                "distributedID": artifact.distributed_id,
                "clientID": secrets.token_hex(16),
                "sequenceClientID": secrets.token_hex(16),
            }
        },
    )["createArtifact"]["artifact"]
    artifact_id = created["id"]
    if created["state"] == "COMMITTED":
        logged = api.client.execute(queries.ARTIFACT_BY_ID, {"id": artifact_id})["artifact"]
    else:
        logged = _upload_and_commit(api, run, artifact, artifact_id)
        api.cache.note_version(digest)  # its files went into the cache while it committed
    manifest = artifact.manifest
    artifact._become_logged(api, logged)
    # The local manifest has the same digest as the logged one: no need to fetch it back.
    artifact._manifest, artifact._manifest_loaded = manifest, True
    return artifact


def _create_manifest(api: Api, run: Run, artifact: Artifact, artifact_id: str) -> dict[str, Any]:
    """``CreateArtifactManifest`` for the manifest as it is now, its upload URL included; the
    node and the bytes to upload there."""
    body = artifact.manifest.to_bytes()
    node = api.client.execute(
        queries.CREATE_MANIFEST,
        {
            "artifactID": artifact_id,
            "baseArtifactID": artifact._base_id,
            "name": "wandb_manifest.json",
            "digest": base64.b64encode(hashlib.md5(body).digest()).decode(),
            "entityName": run.entity,
            "projectName": run.project,
            "runName": run.id,
            "manifestType": "FULL",
            "includeUpload": True,
        },
    )["createArtifactManifest"]["artifactManifest"]
    return {"node": node, "body": body}


def _put_manifest(api: Api, created: dict[str, Any]) -> None:
    file, body = created["node"]["file"], created["body"]
    headers = dict(h.split(":", 1) for h in file.get("uploadHeaders") or [])
    headers["Content-Length"] = str(len(body))
    api.client.request("PUT", file["uploadUrl"], signed=True, data=body, headers=headers)


def _upload_and_commit(api: Api, run: Run, artifact: Artifact, artifact_id: str) -> dict[str, Any]:
    """Upload what the server lacks, then commit; returns the committed version's node.

    The manifest names each file's birth artifact, which ``CreateArtifactFiles`` answers. It
    is created and uploaded first on the likely guess that every new file is born in this
    version, while the files upload; only when the server already had some of them (born
    elsewhere) is the corrected manifest sent again before the commit.
    """
    manifest = artifact.manifest
    uploader = Uploader(api.client, api.transfer)
    # Entries carried over from an earlier version already have their bytes on the server.
    # Big files first, so the pool's tail is small files, not one long transfer.
    new_entries = sorted(
        (e for e in manifest.entries.values() if e.ref is None and e.birth_artifact_id is None),
        key=lambda e: -(e.size or 0),
    )
    for entry in new_entries:
        entry.birth_artifact_id = artifact_id
    guessed = _create_manifest(api, run, artifact, artifact_id)
    manifest_id = guessed["node"]["id"]
    born_elsewhere = False
    # Files the server already has count as done: the totals are known before any reply.
    progress = entries_progress("uploaded", new_entries, api.transfer)

    def registered() -> Iterator[_Upload]:
        """The files whose bytes the server still wants, registered one ``CreateArtifactFiles``
        batch at a time (only a batch or two of replies is held)."""
        nonlocal born_elsewhere
        for batch in chunks(new_entries, FILES_PER_REQUEST, FIRST_FILES_PER_REQUEST):
            specs = []
            for entry in batch:
                spec = {
                    "artifactID": artifact_id,
                    "artifactManifestID": manifest_id,
                    "name": entry.path,
                    "md5": entry.digest,
                }
                if (entry.size or 0) >= api.transfer.multipart_threshold:
                    spec["uploadPartsInput"] = part_md5s(
                        Path(entry.local_path), entry.size, api.transfer.part_size
                    )
                specs.append(spec)
            edges = api.client.execute(
                queries.CREATE_FILES, {"input": {"artifactFiles": specs, "storageLayout": "V2"}}
            )["createArtifactFiles"]["files"]["edges"]
            if len(edges) != len(batch):
                raise ServerError(
                    "the server answered CreateArtifactFiles for a different file count"
                )
            for entry, spec, edge in zip(batch, specs, edges, strict=True):
                node = edge["node"]
                birth = node["artifact"]["id"]
                if birth != artifact_id:
                    entry.birth_artifact_id = birth
                    born_elsewhere = True
                if node["uploadUrl"] or node.get("uploadMultipartUrls"):
                    yield entry, node, spec.get("uploadPartsInput")
                else:
                    progress.done(entry.size or 0)

    def upload(item: _Upload) -> None:
        entry, node, parts = item
        path = Path(entry.local_path)
        multipart = node.get("uploadMultipartUrls")
        if multipart and parts:
            urls = {int(p["partNumber"]): p["uploadUrl"] for p in multipart["uploadUrlParts"]}
            uploader.put_parts(urls, path, entry.size, progress)
            api.client.execute(
                queries.COMPLETE_MULTIPART,
                {
                    "completeMultipartAction": "Complete",
                    "completedParts": parts,
                    "artifactID": artifact_id,
                    "storagePath": node["storagePath"],
                    "uploadID": multipart["uploadID"],
                },
            )
        else:
            meter = progress.stream()
            metered = meter if progress.active else None
            uploader.put(node["uploadUrl"], path, node["uploadHeaders"] or [], entry.size, metered)
            meter.settle(entry.size or 0)
        progress.done()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wandb-log") as pool:
        manifest_upload = pool.submit(_put_manifest, api, guessed)
        # The next batch of upload URLs is asked for while the one before uploads.
        ahead = 2 * FILES_PER_REQUEST
        in_flight = requests_in_flight(api.transfer, api.client)
        with progress:
            parallel_map(upload, prefetched(registered(), ahead), in_flight)
        manifest_upload.result()
        if born_elsewhere:
            _put_manifest(api, _create_manifest(api, run, artifact, artifact_id))
        # The files go into the cache while the commit's round trip is under way.
        caching = pool.submit(artifact._cache_logged_files, api)
        committed = api.client.execute(queries.COMMIT_ARTIFACT, {"artifactID": artifact_id})
        caching.result()
    return committed["commitArtifact"]["artifact"]
