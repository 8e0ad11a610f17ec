"""The ASGI application: its route table (``/graphql``, signed file URLs, run file streams,
W&B's artifact download path, then the web UI's) and each route's handler, which translates
the request into calls of the core (:mod:`.store`) through the server's state (:mod:`.state`)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from graphql import (
    ExecutionResult,
    GraphQLError,
    execute_sync,
)
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..formats.errors import InvalidInputError
from . import blobs, merging, ui
from .files import (
    UploadRejected,
    checked_object,
    error,
    manifest_check,
    read_json,
    receive_object,
    receive_to_staging,
    refuse_larger,
    serve_blob,
)
from .ids import MAX_ROW_ID, BadIdError
from .integrity import corrupt_message
from .limits import (
    LimitExceeded,
    check_cost,
)
from .resolvers import Root
from .resolvers.common import CURRENT, InvalidRequest, QueryStopped
from .resolvers.files import grant_path
from .state import ServerState
from .store import NotFound, StoreError, history
from .store.commit import md5_b64_to_hex

log = logging.getLogger("dagster_wandb_artifacts.server")

Handler = Callable[[ServerState, Request], Awaitable[Response]]

# GraphQLError: graphql-core's own (a variable of the wrong type) wrapped in another.
_EXPECTED_ERRORS = (StoreError, BadIdError, InvalidInputError, GraphQLError)
# Errors of input the client got wrong: the reply is a 400, as for a query that fails validation.
_MALFORMED = (BadIdError, InvalidInputError, InvalidRequest, QueryStopped)
_OBJECT_PREFIX = "/storage/obj/"


def _unauthorized() -> JSONResponse:
    message = "missing or wrong API key: send HTTP basic auth 'api:<key>'"
    return JSONResponse({"errors": [{"message": message}]}, status_code=401)


def _query(request: Request) -> dict[str, str]:
    # From the scope: building request.url and request.query_params costs more than the check.
    return dict(parse_qsl(request.scope["query_string"].decode("latin-1")))


def _signed(state: ServerState, request: Request, path: str | None = None) -> Response | None:
    """None when the request carries a valid signature for its method and path (``path``
    when the signature covers more than the URL's path)."""
    query = _query(request)
    reason = state.signer.check(
        request.method, path or request.scope["path"], query.get("expires"), query.get("signature")
    )
    return None if reason is None else error(403, reason)


def _missing_object(state: ServerState, md5_hex: str) -> str:
    if state.store.is_listed(md5_hex):
        return corrupt_message(md5_hex)
    return "no such object"


def _path_id(request: Request, name: str) -> int:
    """An integer of the URL's path, refused when SQLite could not hold it."""
    value = int(request.path_params[name])
    if value > MAX_ROW_ID:
        raise UploadRejected(400, f"{name} {value} is out of range")
    return value


def _not_pending(state: ServerState, artifact_id: int) -> Response | None:
    """A refusal when the version's bytes can no longer change (committed or deleted)."""
    artifact = state.store.get("artifacts", artifact_id)
    if artifact is None:
        return error(404, f"artifact {artifact_id} not found")
    if artifact["state"] != "PENDING":
        state_name = artifact["state"]
        return error(409, f"the version is {state_name}: its files can no longer change")
    return None


def _malformed_request(body: Any) -> str | None:
    """Why a GraphQL request body is not ``{query, variables, operationName}``, if it is not."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return "expected a JSON object {query, variables, operationName} with query a string"
    if not isinstance(body.get("variables") or {}, dict):
        return f"variables must be a JSON object, not {type(body['variables']).__name__}"
    if not isinstance(body.get("operationName") or "", str):
        return "operationName must be a string"
    return None


async def _set_when_disconnected(request: Request, cancelled: threading.Event) -> None:
    """Set ``cancelled`` when the client goes away (the body is read: the next message a
    request receives is its disconnection)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    cancelled.set()


def _malformed_file_stream(body: Any) -> str | None:
    """Why a ``file_stream`` body is not what the SDK sends, if it is not: ``files`` maps
    names to ``{offset, content: [lines]}``, the summary's last line is a JSON object, and
    ``exitcode`` is an integer."""
    if not isinstance(body, dict):
        return "expected a JSON object"
    files = body.get("files")
    files = {} if files is None else files
    if not isinstance(files, dict):
        return "files must be an object of file names"
    for name, chunk in files.items():
        if not isinstance(chunk, dict):
            return f"files[{name!r}] must be an object {{offset, content}}"
        content = chunk.get("content") or []
        if not isinstance(content, list) or not all(isinstance(line, str) for line in content):
            return f"files[{name!r}].content must be a list of strings (lines)"
    summary = (files.get("wandb-summary.json") or {}).get("content")
    if summary:
        try:
            last = json.loads(summary[-1])
        except ValueError:
            last = None
        if not isinstance(last, dict):
            return "the last line of wandb-summary.json must be a JSON object"
    exit_code = body.get("exitcode")
    if exit_code is not None and (not isinstance(exit_code, int) or isinstance(exit_code, bool)):
        return "exitcode must be an integer"
    return None


def _graphql_reply(result: ExecutionResult) -> JSONResponse:
    payload: dict[str, Any] = {"data": result.data}
    if not result.errors:
        return JSONResponse(payload)
    payload["errors"] = [_format_error(exc) for exc in result.errors]
    # A document that failed validation, or input the client got wrong: the client's error.
    malformed = result.data is None or any(
        isinstance(exc.original_error, _MALFORMED) for exc in result.errors
    )
    return JSONResponse(payload, status_code=400 if malformed else _error_status(result.errors))


def _format_error(exc: GraphQLError) -> dict[str, Any]:
    original = exc.original_error
    if original is not None and not isinstance(original, _EXPECTED_ERRORS):
        log.exception("resolver failed", exc_info=original)
        return {"message": f"internal server error: {type(original).__name__}", "path": exc.path}
    return exc.formatted


def _error_status(errors: list[GraphQLError]) -> int:
    """200, or the HTTP status W&B answers for an error the SDK tells apart by its status
    (a taken name is 409, a missing automation 404)."""
    for exc in errors:
        status = getattr(exc.original_error, "http_status", None)
        if status is not None:
            return int(status)
    return 200


async def graphql(state: ServerState, request: Request) -> Response:
    viewer = state.viewer(request)
    if viewer is None:
        return _unauthorized()
    body = await read_json(request, state.limits.graphql_body_bytes, "graphql_body_bytes")
    if refused := _malformed_request(body):
        return JSONResponse({"errors": [{"message": refused}]}, 400)
    variables = body.get("variables") or {}
    ctx = state.context(request, viewer)

    def execute() -> ExecutionResult:
        # In a worker thread, from the bounds of the text on: no query, however large,
        # holds the event loop (and so every other client) while it is parsed.
        loaded = state.documents.get(body["query"])
        if isinstance(loaded, list):
            return ExecutionResult(data=None, errors=loaded)
        document, shape = loaded
        try:
            check_cost(shape, variables, state.limits)
        except LimitExceeded as exc:
            return ExecutionResult(data=None, errors=[GraphQLError(str(exc))])
        token = CURRENT.set(ctx)
        try:
            return execute_sync(
                state.schema,
                document,
                root_value=Root(ctx),
                context_value=ctx,
                variable_values=variables,
                operation_name=body.get("operationName") or None,
                middleware=state.middleware(document, viewer),
            )
        finally:
            CURRENT.reset(token)

    watcher = asyncio.create_task(_set_when_disconnected(request, ctx.cancelled))
    try:
        result = await run_in_threadpool(execute)
    finally:
        watcher.cancel()
    for stopped in (
        e for e in result.errors or () if isinstance(e.original_error, QueryStopped)
    ):
        log.warning("a GraphQL query was stopped: %s", stopped.message)
        break
    return _graphql_reply(result)

async def put_object(state: ServerState, request: Request) -> Response:
    md5_hex = request.path_params["md5"]
    # An upload for a version: the URL names it, and the verified bytes are granted to it.
    grantee = _query(request).get("for") if request.scope["query_string"] else None
    signed_path = grant_path(md5_hex, int(grantee)) if grantee and grantee.isdigit() else None
    if denied := _signed(state, request, signed_path):
        return denied
    await receive_object(state, request, md5_hex, int(grantee) if signed_path else None)
    return Response(status_code=200)

async def get_object(state: ServerState, request: Request) -> Response:
    if denied := _signed(state, request):
        return denied
    md5_hex = request.path_params["md5"]
    if state.store.blob(md5_hex) is None:
        return error(404, _missing_object(state, md5_hex))
    key = blobs.object_key(md5_hex)
    return await serve_blob(state, key, request, checked_object(md5_hex))

async def put_manifest(state: ServerState, request: Request) -> Response:
    if denied := _signed(state, request):
        return denied
    artifact_id = _path_id(request, "artifact_id")
    manifest = state.store.manifest_of(artifact_id)
    if manifest is None:
        return error(404, "create the manifest before uploading it")
    if refused := _not_pending(state, artifact_id):
        return refused
    if not manifest["digest"]:
        return error(
            400, "the manifest has no md5: send its digest with updateArtifactManifest first"
        )
    expected = md5_b64_to_hex(manifest["digest"])
    refuse_larger(request, state.limits.manifest_bytes, "manifest_bytes")
    await receive_to_staging(state, request, expected, blobs.manifest_key(artifact_id))
    await run_in_threadpool(state.store.mark_manifest_uploaded, artifact_id)
    return Response(status_code=200)

async def put_patch(state: ServerState, request: Request) -> Response:
    if denied := _signed(state, request):
        return denied
    artifact_id = _path_id(request, "artifact_id")
    await merging.receive_patch(state, request, artifact_id, request.path_params["digest"])
    return Response(status_code=200)

async def get_manifest(state: ServerState, request: Request) -> Response:
    if denied := _signed(state, request):
        return denied
    artifact_id = _path_id(request, "artifact_id")
    key = blobs.manifest_key(artifact_id)
    if not state.blobs.exists(key):
        return error(404, "the manifest was not uploaded")
    return await serve_blob(state, key, request, manifest_check(state, artifact_id))

async def put_run_file(state: ServerState, request: Request) -> Response:
    if denied := _signed(state, request):
        return denied
    run_id, name = _path_id(request, "run_id"), request.path_params["name"]
    key = blobs.run_file_key(run_id, name)
    if not state.blobs.contains(blobs.run_file_folder(run_id), key):
        return error(400, f"run file name {name!r} leads outside the run's folder")
    size = await receive_to_staging(state, request, None, key)
    await run_in_threadpool(state.store.record_run_file, run_id, name, size)
    return Response(status_code=200)

async def put_part(state: ServerState, request: Request) -> Response:
    if denied := _signed(state, request):
        return denied
    upload_id, number = request.path_params["upload_id"], _path_id(request, "number")
    upload = state.store.multipart_upload(upload_id)
    if upload is None:
        return error(404, "no such multipart upload")
    declared = {p["partNumber"]: p["hexMD5"] for p in json.loads(upload["parts"])}
    if number not in declared:
        return error(400, f"part {number} was not declared")
    if refused := _not_pending(state, upload["artifact_id"]):
        return refused
    await receive_to_staging(
        state, request, declared[number], blobs.part_key(upload_id, number)
    )
    return Response(status_code=200, headers={"ETag": f'"{declared[number]}"'})

async def file_stream(state: ServerState, request: Request) -> Response:
    params = request.path_params
    viewer = state.viewer(request)
    if viewer is None or not state.access(viewer).may_write_named(
        params["entity"], params["project"]
    ):
        return _unauthorized()
    body = await read_json(request, state.limits.file_stream_bytes, "file_stream_bytes")
    if refused := _malformed_file_stream(body):
        return error(400, refused)
    run = state.store.require_run(params["entity"], params["project"], params["run"])
    lines = (body.get("files") or {}).get("wandb-history.jsonl") or {}
    if lines.get("content"):
        offset = lines.get("offset", 0)
        try:
            await run_in_threadpool(
                history.record, state.store, run["id"], offset, lines["content"]
            )
        except StoreError as exc:
            return error(400, str(exc))
    updates: dict[str, Any] = {}
    summary = (body.get("files") or {}).get("wandb-summary.json") or {}
    if summary.get("content"):
        updates["summary"] = summary["content"][-1]
    if body.get("complete"):
        exit_code = body.get("exitcode") or 0
        updates["state"] = "finished" if exit_code == 0 else "crashed"
        updates["exit_code"] = exit_code
    if updates:
        await run_in_threadpool(state.store.update_run, run["id"], **updates)
    return JSONResponse({"exitcode": None, "limits": {}})

async def artifact_file_fallback(state: ServerState, request: Request) -> Response:
    """W&B's authenticated download path for a file of an artifact version."""
    params = request.path_params
    viewer = state.viewer(request)
    if viewer is None:
        return _unauthorized()
    access = state.access(viewer)
    md5_hex = params["md5"]
    # Served only through a version of the named project that lists the object, and that
    # the caller may read: the md5 alone grants nothing.
    project = state.store.find_project(params["entity"], params["project"])
    listed = access.may_read_project(project) and any(
        map(access.may_read_artifact, state.store.versions_listing(md5_hex, project["id"]))
    )
    if not listed or state.store.blob(md5_hex) is None:
        return error(404, _missing_object(state, md5_hex) if listed else "no such file")
    key = blobs.object_key(md5_hex)
    return await serve_blob(state, key, request, checked_object(md5_hex))


#: Every route but the web UI's: (path, method, name counted in ``ServerState.requests``,
#: handler of the server's state and the request).
ROUTES: list[tuple[str, str, str, Handler]] = [
    ("/graphql", "POST", "graphql", graphql),
    ("/storage/obj/{md5:str}", "PUT", "object", put_object),
    ("/storage/obj/{md5:str}", "GET", "object", get_object),
    ("/storage/manifest/{artifact_id:int}/wandb_manifest.json", "PUT", "manifest", put_manifest),
    ("/storage/manifest/{artifact_id:int}/wandb_manifest.json", "GET", "manifest", get_manifest),
    (
        "/storage/manifest/{artifact_id:int}/patches/{digest:str}/wandb_manifest.json",
        "PUT",
        "manifest",
        put_patch,
    ),
    ("/storage/runfile/{run_id:int}/{name:path}", "PUT", "runfile", put_run_file),
    ("/storage/part/{upload_id:str}/{number:int}", "PUT", "part", put_part),
    ("/files/{entity}/{project}/{run}/file_stream", "POST", "file_stream", file_stream),
    (
        "/artifactsV2/default/{entity}/{project}/{collection}/{birth}/{md5:str}/{name:path}",
        "GET",
        "artifact_file",
        artifact_file_fallback,
    ),
]


def create_app(state: ServerState) -> ASGIApp:
    def counted(route: str, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            state.count_request(f"{request.method} {route}")
            try:
                return await handler(request)
            except UploadRejected as exc:
                return error(exc.status, str(exc))
            except NotFound as exc:
                return error(404, str(exc))
            except StoreError as exc:
                return error(400, str(exc))

        return endpoint

    def bound(route: str, handler: Handler) -> Callable[[Request], Any]:
        return counted(route, functools.partial(handler, state))

    routes = [
        Route(path, bound(name, handler), methods=[method])
        for path, method, name, handler in ROUTES
    ]
    # Last: the web UI's paths are as broad as /{entity}/{project}.
    routes.extend(ui.routes(state, counted))
    return _with_object_fast_path(
        Starlette(routes=routes),
        {"PUT": bound("object", put_object), "GET": bound("object", get_object)},
    )


def _with_object_fast_path(app: ASGIApp, handlers: dict[str, Callable[[Request], Any]]) -> ASGIApp:
    """``app``, with object PUTs and GETs handed straight to their handlers.

    Small files make those most requests, and Starlette's middleware and router cost about as
    much as the handlers themselves. Anything else (HEAD, a path of other shape) goes to ``app``.
    """

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        handler = handlers.get(scope.get("method", ""))
        md5_hex = path[len(_OBJECT_PREFIX) :] if path.startswith(_OBJECT_PREFIX) else ""
        if handler is None or not md5_hex or "/" in md5_hex:
            await app(scope, receive, send)
            return
        scope["path_params"] = {"md5": md5_hex}
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)

    return dispatch
