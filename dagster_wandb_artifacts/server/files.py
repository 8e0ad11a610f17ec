"""File endpoints: signed PUTs and GETs of bytes, strict like a cloud store's presigned URLs.

An upload is streamed to a staging file while its md5 and length are computed; only bytes
whose ``Content-Length`` and md5 match what the URL was issued for are recorded, so one bad
PUT can never poison deduplication.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..client.cache import THREADED_MD5_SIZE, ThreadedMD5
from . import blobs
from .store import StoreError

if TYPE_CHECKING:
    from .app import ServerState
    from .graphql_api import Context

_CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UploadRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def receive_to_staging(
    state: ServerState, request: Request, expected_md5_hex: str | None, key: str
) -> int:
    """Stream the body into staging, verify it, and move it to ``key``; returns its size."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise UploadRejected(411, "Content-Length is required")
    md5 = ThreadedMD5() if int(declared) >= THREADED_MD5_SIZE else hashlib.md5()
    received = 0
    with state.blobs.staging_file() as (file, path):
        async for chunk in request.stream():
            md5.update(chunk)
            file.write(chunk)
            received += len(chunk)
        file.flush()
        state.count_bytes(received)
        if received != int(declared):
            raise UploadRejected(400, f"received {received} bytes, Content-Length said {declared}")
        content_md5 = request.headers.get("content-md5")
        if content_md5 is not None and content_md5 != base64.b64encode(md5.digest()).decode():
            raise UploadRejected(400, "the body does not match its Content-MD5 header")
        if expected_md5_hex is not None and md5.hexdigest() != expected_md5_hex:
            raise UploadRejected(400, "the body's md5 does not match the object it was signed for")
        file.close()
        state.blobs.commit(path, key)
    return received


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


def stream_blob(state: ServerState, key: str, request: Request) -> Response:
    """The object's bytes, honouring a single HTTP Range."""
    size = state.blobs.size(key)
    try:
        wanted = _parse_range(request.headers.get("range"), size)
    except UploadRejected as exc:
        return Response(str(exc), status_code=exc.status, headers={"Content-Range": f"*/{size}"})
    start, end = wanted or (0, size - 1)
    length = end - start + 1 if size else 0

    def chunks() -> Iterator[bytes]:
        with state.blobs.open(key) as file:
            file.seek(start)
            remaining = length
            while remaining > 0:
                chunk = file.read(min(_CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    headers = {"Content-Length": str(length), "Accept-Ranges": "bytes"}
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if state.blobs.local and length <= _CHUNK:
        # One read in the event loop: a stream would hand each chunk to a worker thread.
        with state.blobs.open(key) as file:
            file.seek(start)
            body = file.read(length)
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


def complete_multipart(ctx: Context, upload_id: str, parts: list[dict[str, Any]]) -> str:
    """Join uploaded parts into one object whose md5 must be the one declared at creation."""
    store = ctx.store
    upload = store.one("SELECT * FROM multipart_uploads WHERE id = ?", (upload_id,))
    if upload is None:
        raise StoreError(f"unknown multipart upload {upload_id}")
    if store.blob(upload["md5"]):
        # A retried completion whose first reply was lost: the object is already whole.
        return upload["md5"]
    declared = {part["partNumber"]: part["hexMD5"] for part in json.loads(upload["parts"])}
    numbers = sorted(part["partNumber"] for part in parts)
    if numbers != sorted(declared):
        raise StoreError("completedParts does not list the parts the upload was created with")
    md5 = hashlib.md5()
    size = 0
    with ctx.blobs.staging_file() as (file, path):
        for number in numbers:
            part_key = blobs.part_key(upload_id, number)
            if not ctx.blobs.exists(part_key):
                raise StoreError(f"part {number} of upload {upload_id} was not uploaded")
            part_md5 = hashlib.md5()
            with ctx.blobs.open(part_key) as part:
                while chunk := part.read(_CHUNK):
                    part_md5.update(chunk)
                    md5.update(chunk)
                    file.write(chunk)
                    size += len(chunk)
            if part_md5.hexdigest() != declared[number]:
                raise StoreError(f"part {number} does not match its declared md5")
        file.close()
        if md5.hexdigest() != upload["md5"]:
            raise StoreError("the joined parts do not match the file's md5")
        ctx.blobs.commit(path, blobs.object_key(upload["md5"]))
    store.record_blob(upload["md5"], size, None)
    ctx.blobs.remove(f"multipart/{upload_id}")
    return upload["md5"]


async def read_json(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise UploadRejected(400, "the body is not JSON") from exc
