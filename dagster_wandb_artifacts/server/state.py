"""The server's state: everything its endpoints share, one per server (nothing global), and
the GraphQL documents it has parsed."""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate
from starlette.requests import Request

from . import blobs
from .access import AccessGuard
from .automations import Automations
from .files import BlobRecorder
from .integrity import VerifiedObjects
from .limits import LimitExceeded, Limits, Shape, paged_fields, parse_bounded, shape_of
from .resolvers import Context, load_schema
from .signing import URLSigner
from .store import Store, accounts, history, workspace
from .store.access import Access
from .store.accounts import Accounts, Viewer


class _Documents:
    """Parsed and validated GraphQL documents by query text. Clients send the same few queries
    over and over, and parsing and validating one costs more than running it. A text is
    bounded (``parse_bounded``) before it is parsed; only texts up to ``cached_bytes`` are
    kept, so the cache holds no large ones."""

    def __init__(
        self, schema: GraphQLSchema, limits: Limits, size: int = 256, cached_bytes: int = 64 << 10
    ) -> None:
        self._schema = schema
        self._limits = limits
        self._paged = paged_fields(schema)
        self._cached_bytes = cached_bytes
        self._cached = functools.lru_cache(maxsize=size)(self._load)

    def get(self, query: str) -> tuple[DocumentNode, Shape] | list[GraphQLError]:
        return (self._cached if len(query) <= self._cached_bytes else self._load)(query)

    def _load(self, query: str) -> tuple[DocumentNode, Shape] | list[GraphQLError]:
        try:
            document = parse_bounded(query, self._limits)
        except GraphQLError as exc:
            return [exc]
        except LimitExceeded as exc:
            return [GraphQLError(str(exc))]
        if errors := validate(self._schema, document):
            return errors
        try:
            return document, shape_of(document, self._paged, self._limits)
        except LimitExceeded as exc:
            return [GraphQLError(str(exc))]


@dataclass
class ServerState:
    """Everything the endpoints share; one per server (nothing global)."""

    store: Store
    blobs: blobs.BlobStore
    signer: URLSigner
    api_key: str
    entity: str
    schema: GraphQLSchema = field(default_factory=load_schema)
    #: Hash every whole object as it is served, and before the first range of it is (what
    #: detects rot on disk; costs CPU time).
    verify_reads: bool = True
    verified: VerifiedObjects = field(default_factory=VerifiedObjects)
    limits: Limits = field(default_factory=Limits)
    #: The URL clients reach this server at, which signed URLs start with (``--public-url``);
    #: None: the address each connection arrived at.
    public_url: str | None = None
    #: Build signed URLs from each request's ``Host`` header instead (``--trust-host-header``):
    #: only behind proxies that set it, as a benchmark's latency proxies do.
    trust_host_header: bool = False
    requests: Counter[str] = field(default_factory=Counter)
    bytes_received: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.documents = _Documents(self.schema, self.limits)
        self.recorder = BlobRecorder(self.store)
        self.automations = Automations(self.store)
        accounts.create_tables(self.store)
        history.create_tables(self.store)
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
            base_url=self._base_url(request),
            entity=self.entity,
            metadata_bytes=self.limits.metadata_bytes,
            deadline=time.monotonic() + self.limits.query_seconds,
            viewer=viewer,
            access=self.access(viewer or self.accounts.administrator()),
            automations=self.automations,
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

    def _base_url(self, request: Request) -> str:
        host = request.headers.get("host") if self.trust_host_header else None
        if host is not None:
            return f"{request.scope['scheme']}://{host}"
        return self.public_url or _local_address(request)

    def access(self, viewer: Viewer) -> Access:
        """The core's view of ``viewer``'s rights, which every read and write goes through."""
        return Access(self.store, viewer, self.entity)


def _local_address(request: Request) -> str:
    """The address the connection arrived at, for a server bound to every interface and given
    no public URL: never the request's ``Host`` header, which the client writes."""
    scope = request.scope
    host, port = scope["server"]
    host = f"[{host}]" if ":" in host else host
    return f"{scope['scheme']}://{host}:{port}{scope.get('root_path', '')}".rstrip("/")
