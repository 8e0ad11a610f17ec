"""The upload of a distributed version's patches: each writer's ``PATCH`` manifest is stored
at a key of its own (:func:`receive_patch`) and stays there until the version is finished;
the core's commit (:func:`.store.commit.commit_version`) then folds every uploaded patch
under one write transaction. No writer's upload replaces another's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from . import blobs
from .files import UploadRejected, receive_to_staging, refuse_larger

if TYPE_CHECKING:
    from .state import ServerState


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
