"""The ASGI application: ``/graphql``, signed file URLs, run file streams."""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    execute_sync,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import blobs, ui, workspace
from .access import AccessGuard
from .accounts import Accounts, Viewer
from .automations import Automations
from .files import (
    BlobRecorder,
    UploadRejected,
    error,
    read_json,
    receive_object,
    receive_to_staging,
    stream_blob,
)
from .ids import BadIdError
from .resolvers import Context, Root, load_schema
from .signing import URLSigner
from .store import NotFound, Store, StoreError

log = logging.getLogger("dagster_wandb_artifacts.server")

_EXPECTED_ERRORS = (StoreError, BadIdError)
_OBJECT_PREFIX = "/storage/obj/"


class _Documents:
    """Parsed and validated GraphQL documents by query text. Clients send the same few queries
    over and over, and parsing and validating one costs more than running it."""

    def __init__(self, schema: GraphQLSchema, size: int = 256) -> None:
        self._schema = schema
        self.get = functools.lru_cache(maxsize=size)(self._load)

    def _load(self, query: str) -> DocumentNode | list[GraphQLError]:
        try:
            document = parse(query)
        except GraphQLError as exc:
            return [exc]
        return validate(self._schema, document) or document


@dataclass
class ServerState:
    """Everything the endpoints share; one per server (nothing global)."""

    store: Store
    blobs: blobs.BlobStore
    signer: URLSigner
    api_key: str
    entity: str
    schema: GraphQLSchema = field(default_factory=load_schema)
    requests: Counter[str] = field(default_factory=Counter)
    bytes_received: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.documents = _Documents(self.schema)
        self.recorder = BlobRecorder(self.store)
        self.automations = Automations(self.store)
        self.accounts = Accounts(self.store, self.entity)
        workspace.create_tables(self.store)
        self.guard = AccessGuard(self.store, self.entity)

    def count_request(self, route: str) -> None:
        with self._lock:
            self.requests[route] += 1

    def count_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes_received += n

    def context(self, request: Request, viewer: Viewer | None = None) -> Context:
        return Context(
            store=self.store,
            blobs=self.blobs,
            signer=self.signer,
            base_url=_base_url(request),
            entity=self.entity,
            viewer=viewer,
        )

    def viewer(self, request: Request) -> Viewer | None:
        """The user whose key the request carries (the server's key: its administrator),
        None without a valid key."""
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, key = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if user != "api" or not key:
            return None
        if hmac.compare_digest(key.encode(), self.api_key.encode()):
            return self.accounts.administrator()
        return self.accounts.viewer_for_key(key)

    def middleware(self, document: DocumentNode, viewer: Viewer) -> list[Any] | None:
        """The GraphQL middleware a request needs: graphql-core calls each for every field
        resolved, so the access guard runs only for a user's key (the administrator may use
        everything) and the event recorder only for mutations that can cause events."""
        chosen: list[Any] = []
        if not viewer.admin:
            chosen.append(self.guard)
        if self.automations.recorder.watches(document):
            chosen.append(self.automations.recorder)
        return chosen or None

    def authenticated(self, request: Request) -> bool:
        return self.viewer(request) is not None

    def may_use(self, request: Request, entity: str, project: str) -> bool:
        """Whether the request's key may use ``entity/project`` (file endpoints)."""
        viewer = self.viewer(request)
        return viewer is not None and viewer.may_use(entity, project, self.entity)


def _base_url(request: Request) -> str:
    """The URL the client reached us at (Starlette's ``request.base_url`` costs more than a
    small GraphQL request)."""
    scope = request.scope
    host = request.headers.get("host")
    if host is None:
        server_host, port = scope["server"]
        host = f"{server_host}:{port}"
    return f"{scope['scheme']}://{host}{scope.get('root_path', '')}".rstrip("/")


def _unauthorized() -> JSONResponse:
    message = "missing or wrong API key: send HTTP basic auth 'api:<key>'"
    return JSONResponse({"errors": [{"message": message}]}, status_code=401)


def _signed(state: ServerState, request: Request) -> Response | None:
    """None when the request carries a valid signature for its method and path."""
    # From the scope: building request.url and request.query_params costs more than the check.
    query = dict(parse_qsl(request.scope["query_string"].decode("latin-1")))
    reason = state.signer.check(
        request.method, request.scope["path"], query.get("expires"), query.get("signature")
    )
    return None if reason is None else error(403, reason)


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

    async def graphql(request: Request) -> Response:
        viewer = state.viewer(request)
        if viewer is None:
            return _unauthorized()
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return JSONResponse({"errors": [{"message": "expected {query, variables}"}]}, 400)
        ctx = state.context(request, viewer)
        document = state.documents.get(body["query"])
        if isinstance(document, list):
            result = ExecutionResult(data=None, errors=document)
        else:
            result = await run_in_threadpool(
                execute_sync,
                state.schema,
                document,
                root_value=Root(ctx),
                context_value=ctx,
                variable_values=body.get("variables"),
                operation_name=body.get("operationName") or None,
                middleware=state.middleware(document, viewer),
            )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [_format_error(exc) for exc in result.errors]
            if result.data is None:
                # Validation failed: the document asked for something this API lacks.
                return JSONResponse(payload, status_code=400)
            return JSONResponse(payload, status_code=_error_status(result.errors))
        return JSONResponse(payload)

    async def put_object(request: Request) -> Response:
        if denied := _signed(state, request):
            return denied
        await receive_object(state, request, request.path_params["md5"])
        return Response(status_code=200)

    async def get_object(request: Request) -> Response:
        if denied := _signed(state, request):
            return denied
        md5_hex = request.path_params["md5"]
        if state.store.blob(md5_hex) is None:
            return error(404, "no such object")
        return stream_blob(state, blobs.object_key(md5_hex), request)

    async def put_manifest(request: Request) -> Response:
        if denied := _signed(state, request):
            return denied
        artifact_id = int(request.path_params["artifact_id"])
        manifest = state.store.manifest_of(artifact_id)
        if manifest is None:
            return error(404, "create the manifest before uploading it")
        expected = base64.b64decode(manifest["digest"]).hex() if manifest["digest"] else None
        await receive_to_staging(state, request, expected, blobs.manifest_key(artifact_id))
        await run_in_threadpool(state.store.mark_manifest_uploaded, artifact_id)
        return Response(status_code=200)

    async def get_manifest(request: Request) -> Response:
        if denied := _signed(state, request):
            return denied
        key = blobs.manifest_key(int(request.path_params["artifact_id"]))
        if not state.blobs.exists(key):
            return error(404, "the manifest was not uploaded")
        return stream_blob(state, key, request)

    async def put_run_file(request: Request) -> Response:
        if denied := _signed(state, request):
            return denied
        run_id, name = int(request.path_params["run_id"]), request.path_params["name"]
        size = await receive_to_staging(state, request, None, blobs.run_file_key(run_id, name))
        await run_in_threadpool(state.store.record_run_file, run_id, name, size)
        return Response(status_code=200)

    async def put_part(request: Request) -> Response:
        if denied := _signed(state, request):
            return denied
        upload_id, number = request.path_params["upload_id"], int(request.path_params["number"])
        upload = state.store.one("SELECT * FROM multipart_uploads WHERE id = ?", (upload_id,))
        if upload is None:
            return error(404, "no such multipart upload")
        declared = {p["partNumber"]: p["hexMD5"] for p in json.loads(upload["parts"])}
        if number not in declared:
            return error(400, f"part {number} was not declared")
        await receive_to_staging(
            state, request, declared[number], blobs.part_key(upload_id, number)
        )
        return Response(status_code=200, headers={"ETag": f'"{declared[number]}"'})

    async def file_stream(request: Request) -> Response:
        params = request.path_params
        if not state.may_use(request, params["entity"], params["project"]):
            return _unauthorized()
        body = await read_json(request)
        if not isinstance(body, dict):
            return error(400, "expected a JSON object")
        run = state.store.require_run(params["entity"], params["project"], params["run"])
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

    async def artifact_file_fallback(request: Request) -> Response:
        """W&B's authenticated download path for a file of an artifact version."""
        params = request.path_params
        if not state.may_use(request, params["entity"], params["project"]):
            return _unauthorized()
        md5_hex = request.path_params["md5"]
        listed = state.store.one("SELECT 1 FROM artifact_files WHERE md5 = ? LIMIT 1", (md5_hex,))
        if listed is None or state.store.blob(md5_hex) is None:
            return error(404, "no such file")
        return stream_blob(state, blobs.object_key(md5_hex), request)

    routes = [
        Route("/graphql", counted("graphql", graphql), methods=["POST"]),
        Route("/storage/obj/{md5:str}", counted("object", put_object), methods=["PUT"]),
        Route("/storage/obj/{md5:str}", counted("object", get_object), methods=["GET"]),
        Route(
            "/storage/manifest/{artifact_id:int}",
            counted("manifest", put_manifest),
            methods=["PUT"],
        ),
        Route(
            "/storage/manifest/{artifact_id:int}",
            counted("manifest", get_manifest),
            methods=["GET"],
        ),
        Route(
            "/storage/runfile/{run_id:int}/{name:path}",
            counted("runfile", put_run_file),
            methods=["PUT"],
        ),
        Route(
            "/storage/part/{upload_id:str}/{number:int}", counted("part", put_part), methods=["PUT"]
        ),
        Route(
            "/files/{entity}/{project}/{run}/file_stream",
            counted("file_stream", file_stream),
            methods=["POST"],
        ),
        Route(
            "/artifactsV2/default/{entity}/{project}/{collection}/{birth}/{md5:str}/{name:path}",
            counted("artifact_file", artifact_file_fallback),
            methods=["GET"],
        ),
        # Last: the web UI's paths are as broad as /{entity}/{project}.
        *ui.routes(state, counted),
    ]
    return _with_object_fast_path(
        Starlette(routes=routes),
        {"PUT": counted("object", put_object), "GET": counted("object", get_object)},
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
