"""File endpoints: signed PUTs and GETs of bytes, strict like a cloud store's presigned URLs.

An upload is received (into memory when small, else into a staging file) while its md5 and
length are computed; only bytes whose ``Content-Length`` and md5 match what the URL was
issued for are stored and recorded, so one bad PUT can never poison deduplication.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..formats.hashing import THREADED_MD5_SIZE, ThreadedMD5
from ..formats.manifest import b64_to_hex
from . import blobs
from .integrity import corrupt_manifest_message, corrupt_message, set_aside
from .store import Store

if TYPE_CHECKING:
    from .state import ServerState

log = logging.getLogger("dagster_wandb_artifacts.server")

_CHUNK = 1 << 20
# Objects up to this size are received into memory and written once, at their key: a staging
# file would cost a second file creation, and creating files is what small uploads spend on.
IN_MEMORY_UPLOAD = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class UploadRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _declared_length(request: Request) -> int:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise UploadRejected(411, "Content-Length is required")
    return int(declared)


def _verify(
    request: Request, declared: int, received: int, md5: Any, expected_md5_hex: str | None
) -> None:
    """Refuse a body whose length or md5 is not what was declared and signed for."""
    if received != declared:
        raise UploadRejected(400, f"received {received} bytes, Content-Length said {declared}")
    content_md5 = request.headers.get("content-md5")
    if content_md5 is not None and content_md5 != base64.b64encode(md5.digest()).decode():
        raise UploadRejected(400, "the body does not match its Content-MD5 header")
    if expected_md5_hex is not None and md5.hexdigest() != expected_md5_hex:
        raise UploadRejected(400, "the body's md5 does not match the object it was signed for")


async def _pieces(request: Request) -> AsyncIterator[bytes]:
    """The body in pieces of about ``_CHUNK`` bytes: one md5 update and one write per piece
    rather than per network read (about 64 KiB)."""
    gathered: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        gathered.append(chunk)
        size += len(chunk)
        if size >= _CHUNK:
            yield gathered[0] if len(gathered) == 1 else b"".join(gathered)
            gathered, size = [], 0
    if gathered:
        yield b"".join(gathered)


async def receive_to_staging(
    state: ServerState, request: Request, expected_md5_hex: str | None, key: str
) -> int:
    """Stream the body into staging, verify it, and move it to ``key``; returns its size."""
    declared = _declared_length(request)
    md5 = ThreadedMD5() if declared >= THREADED_MD5_SIZE else hashlib.md5()
    received = 0
    with state.blobs.staging_file() as (file, path):
        async for piece in _pieces(request):
            md5.update(piece)
            file.write(piece)
            received += len(piece)
        file.flush()
        state.count_bytes(received)
        _verify(request, declared, received, md5, expected_md5_hex)
        file.close()
        state.blobs.commit(path, key)
    return received


async def _read_body(request: Request, declared: int) -> bytes:
    """The whole body, refused as soon as it outgrows its ``Content-Length``."""
    chunks = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > declared:
            raise UploadRejected(400, f"the body is longer than its Content-Length, {declared}")
        chunks.append(chunk)
    return b"".join(chunks)


async def receive_object(
    state: ServerState, request: Request, md5_hex: str, grantee: int | None = None
) -> None:
    """Receive, verify, store and record the object ``md5_hex`` (and a grant of it to the
    version ``grantee`` its writer uploads it for)."""
    key = blobs.object_key(md5_hex)
    declared = _declared_length(request)
    if declared > IN_MEMORY_UPLOAD:
        size = await receive_to_staging(state, request, md5_hex, key)
    else:
        body = await _read_body(request, declared)
        state.count_bytes(len(body))
        _verify(request, declared, len(body), hashlib.md5(body), md5_hex)
        size = len(body)
        await _store_once(state, md5_hex, key, body)
    await state.recorder.record(md5_hex, size, grantee)


async def _store_once(state: ServerState, md5_hex: str, key: str, body: bytes) -> None:
    """Write a verified object unless it is stored already: a key only ever holds verified
    bytes, so an object there is this one."""
    if state.blobs.local:
        if not state.blobs.exists(key):
            # In the event loop: writing a small file costs less than a hop to a worker thread.
            state.blobs.write(key, body)
    elif state.store.blob(md5_hex) is None:  # asking SQLite costs less than asking the bucket
        await run_in_threadpool(state.blobs.write, key, body)


class BlobRecorder:
    """Records stored objects in the blobs table, from the event loop when it can.

    A hop to a worker thread costs several times the insert itself, so the insert runs in the
    loop whenever SQLite's write lock is free, and in a worker thread when it is not (a wait
    there stalls no other request). Every ``checkpoint_every``-th record goes through a worker
    too: the loop's connection never checkpoints the WAL, and that commit does when due.
    """

    def __init__(self, store: Store, checkpoint_every: int = 64) -> None:
        self._store = store
        self._checkpoint_every = checkpoint_every
        self._recorded = 0

    async def record(self, md5_hex: str, size: int, grantee: int | None = None) -> None:
        """Record the object, and that version ``grantee`` (whose writer uploaded it) may
        list it, in one write."""
        rows = [(md5_hex, size)]
        grants = [] if grantee is None else [(grantee, md5_hex)]
        self._recorded += 1
        if self._recorded % self._checkpoint_every and self._store.try_record_blobs(rows, grants):
            return
        await asyncio.get_running_loop().run_in_executor(
            None, self._store.record_blobs, rows, grants
        )


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a single-range ``Range`` header asks for."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise UploadRejected(416, f"unsupported Range {header!r}")
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise UploadRejected(416, f"Range {header!r} is outside the {size} bytes")
    return start, end


class CorruptObject(Exception):
    """A streamed file turned out not to match its md5: the reply breaks off short of its
    length, so the client never receives the rotted bytes whole."""


@dataclass(frozen=True)
class Checked:
    """What a read is checked against: the md5 (hex) of the whole stored file, and what to
    do with a file that does not match it (``refused``: the message; ``set_aside``: whether
    the file is a content-addressed object, which its next upload repairs)."""

    md5_hex: str
    refused: str
    set_aside: bool


def checked_object(md5_hex: str) -> Checked:
    return Checked(md5_hex, corrupt_message(md5_hex), set_aside=True)


def manifest_check(state: ServerState, artifact_id: int) -> Checked | None:
    """A committed version's manifest is checked against the md5 recorded for it (a pending
    one's may still be uploaded again)."""
    artifact = state.store.get("artifacts", artifact_id)
    manifest = state.store.manifest_of(artifact_id)
    if (
        artifact is None
        or artifact["state"] != "COMMITTED"
        or not (manifest and manifest["digest"])
    ):
        return None
    md5_hex = b64_to_hex(manifest["digest"])
    return Checked(md5_hex, corrupt_manifest_message(artifact_id), set_aside=False)


async def serve_blob(
    state: ServerState, key: str, request: Request, check: Checked | None = None
) -> Response:
    """The file's bytes (see :func:`stream_blob`). A range of a checked file is served only
    once the whole file is known to match its md5 (hashed in a worker thread the first
    time, then remembered by the file's stamp): a corrupt one is refused, as a whole read of
    it is, and an object is set aside."""
    if check is not None and state.verify_reads and request.headers.get("range"):
        known = state.blobs.local and state.verified.known(check.md5_hex, state.blobs.stamp(key))
        if not known and not await run_in_threadpool(
            state.verified.check, state.blobs, key, check.md5_hex
        ):
            _corrupt(state, check)
            return error(404, check.refused)
        check = None  # checked whole: the range itself is not hashed again
    return stream_blob(state, key, request, check)


def _corrupt(state: ServerState, check: Checked) -> None:
    if check.set_aside:
        set_aside(state.store, state.blobs, check.md5_hex)
    else:
        log.error("%s", check.refused)


def stream_blob(
    state: ServerState, key: str, request: Request, check: Checked | None = None
) -> Response:
    """The file's bytes, honouring a single HTTP Range. A whole checked file is hashed as it
    is read, and never sent whole when it does not match: a small one is refused (404), a
    streamed one breaks off before its last piece; a corrupt object is set aside so that its
    next upload repairs it."""
    size = state.blobs.size(key)
    try:
        wanted = _parse_range(request.headers.get("range"), size)
    except UploadRejected as exc:
        return Response(str(exc), status_code=exc.status, headers={"Content-Range": f"*/{size}"})
    start, end = wanted or (0, size - 1)
    length = end - start + 1 if size else 0
    verified = check if state.verify_reads and not wanted else None
    stamp = state.blobs.stamp(key) if verified is not None else ()

    def matches(md5: Any) -> bool:
        if verified is None:
            return True
        if md5.hexdigest() != verified.md5_hex:
            _corrupt(state, verified)
            return False
        state.verified.remember(verified.md5_hex, stamp)
        return True

    def chunks() -> Iterator[bytes]:
        md5 = hashlib.md5()
        held = b""  # the last piece read, sent only once the whole file is hashed
        with state.blobs.open(key) as file:
            file.seek(start)
            remaining = length
            while remaining > 0:
                chunk = file.read(min(_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                md5.update(chunk)
                if held:
                    yield held
                held = chunk
        if not matches(md5):
            raise CorruptObject(verified.refused if verified else "")
        if held:
            yield held

    headers = {"Content-Length": str(length), "Accept-Ranges": "bytes"}
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if state.blobs.local and length <= _CHUNK:
        # One read in the event loop: a stream would hand each chunk to a worker thread.
        with state.blobs.open(key) as file:
            file.seek(start)
            body = file.read(length)
        if not matches(hashlib.md5(body)):
            return error(404, verified.refused if verified else "")
        return Response(
            body,
            status_code=206 if wanted else 200,
            headers=headers,
            media_type="application/octet-stream",
        )
    return StreamingResponse(
        chunks(),
        status_code=206 if wanted else 200,
        headers=headers,
        media_type="application/octet-stream",
    )


def refuse_larger(request: Request, max_bytes: int, limit: str) -> None:
    """Refuse at once a body whose declared length is over ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise UploadRejected(413, f"the body has {declared} bytes; at most {max_bytes} ({limit})")


async def read_json(request: Request, max_bytes: int, limit: str) -> Any:
    """The body's JSON, refused (413) past ``max_bytes``, declared or not."""
    refuse_larger(request, max_bytes, limit)
    chunks, received = [], 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise UploadRejected(413, f"the body is over {max_bytes} bytes ({limit})")
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        parsed = json.loads(data or b"null")
        # Only a \ud800-\udfff escape makes a surrogate; most are halves of a valid pair.
        if _SURROGATE_ESCAPE.search(data):
            json.dumps(parsed, ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise UploadRejected(
            400, "the body holds an unpaired surrogate escape (\\ud800-\\udfff): send valid Unicode"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise UploadRejected(400, "the body is not JSON (or nests too deep)") from exc
    return parsed
