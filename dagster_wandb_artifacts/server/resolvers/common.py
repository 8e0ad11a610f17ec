"""What every resolver module shares: the request context, W&B's validation rules, Relay paging."""

from __future__ import annotations

import functools
import json
import math
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import Any

from graphql import GraphQLSchema, build_schema

from ...formats.names import (
    MAX_METADATA_KEYS,
    MAX_NAME_LENGTH,
    RUN_ID_RESERVED,
    fits,
    is_alias,
    is_run_id,
    unsafe_in_text,
)
from .. import blobs
from ..filters import FilterError
from ..ids import decode_cursor, encode_cursor
from ..signing import URLSigner
from ..store import LATEST, Store, StoreError
from ..store.listings import Listing

#: Features this server implements (``ServerFeaturesQuery``); the SDK takes other code
#: paths for each, so a feature is listed only once it works end to end.
FEATURES: tuple[str, ...] = (
    "ARTIFACT_REGISTRY_SEARCH",
    "INCLUDE_ARTIFACT_TYPES_IN_REGISTRY_CREATION",
    "ARTIFACT_COLLECTIONS_FILTERING_SORTING",
    "ARTIFACT_DIGEST_ALGORITHM",
    "ARTIFACT_TAGS",
    "CLIENT_IDS",
    "LARGE_FILENAMES",
    "ARTIFACT_MEMBERSHIP_IN_LINK_ARTIFACT_RESPONSE",
    "USE_ARTIFACT_WITH_ENTITY_AND_PROJECT_INFORMATION",
    "TOTAL_COUNT_IN_FILE_CONNECTION",
    "PROJECT_ARTIFACT_COLLECTION_MEMBERSHIP",
    "ARTIFACT_COLLECTION_MEMBERSHIP_FILES",
    # Automations: Entity.triggers answers Api.automations(entity=...) in one query; the
    # scopes, events and actions of resolvers/automations.py beyond W&B's ungated ones (the
    # run events are not declared: this server does not evaluate run metrics or states).
    "QUERY_AUTOMATIONS_ON_ENTITY",
    "AUTOMATION_SCOPE_ENTITY",
    "AUTOMATION_EVENT_ADD_ARTIFACT_TAG",
    "AUTOMATION_EVENT_REMOVE_ARTIFACT_TAG",
    "AUTOMATION_EVENT_ADD_COLLECTION_TAG",
    "AUTOMATION_EVENT_REMOVE_COLLECTION_TAG",
    "AUTOMATION_EVENT_UNLINK_ARTIFACT",
    "AUTOMATION_ACTION_NO_OP",
)

#: The newest ``wandb`` SDK line this server is tested with (``cliVersionInfo``).
MAX_CLI_VERSION = "0.31.0"

DEFAULT_PAGE = 100
MAX_PAGE = 10_000

# W&B's sentinels for ``ttlDurationSeconds``.
TTL_INHERIT = -1
TTL_DISABLED = -2


def load_schema(*extensions: str) -> GraphQLSchema:
    # schema.graphql, then the schema_<domain>.graphql files and ``extensions`` that extend it.
    folder = resources.files("dagster_wandb_artifacts.server")
    names = sorted(p.name for p in folder.iterdir() if p.name.startswith("schema_"))
    texts = [folder.joinpath(name).read_text() for name in ["schema.graphql", *names]]
    sdl = "\n".join([*texts, *extensions])
    schema = build_schema(sdl)
    schema.type_map["JSONString"].parse_value = _json_string  # type: ignore[attr-defined]
    schema.type_map["ArtifactCollection"].resolve_type = lambda value, *_: value.typename
    schema.type_map["ArtifactCreator"].resolve_type = lambda value, *_: value.typename
    return schema


class InvalidRequest(StoreError):
    """Malformed input (a bad filter, a wrongly typed operand): answered with HTTP 400."""


class QueryStopped(StoreError):
    """The query ran past its time, or its client went away: its work stops."""


def _json_string(value: Any) -> str:
    """A ``JSONString`` variable: JSON text, never a bare number, list or object."""
    if not isinstance(value, str):
        raise TypeError(f"a JSONString holds JSON as text, not a {type(value).__name__}")
    return value


@functools.cache
def server_version() -> str:
    """This package's version, which is the embedded server's."""
    try:
        return metadata.version("dagster-wandb-artifacts")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class Context:
    """What every resolver needs for one request."""

    store: Store
    blobs: blobs.BlobStore
    signer: URLSigner
    base_url: str
    entity: str
    #: Bytes one version's metadata JSON may have.
    metadata_bytes: int = 1 << 20
    #: ``time.monotonic()`` past which the query's work stops.
    deadline: float = math.inf
    #: Set when the client disconnects.
    cancelled: threading.Event = field(default_factory=threading.Event)
    #: The user whose key the request carries (``accounts.Viewer``); None means the
    #: server's administrator.
    viewer: Any = None
    #: That user's rights (``store.access.Access``): every node is fetched through it.
    access: Any = None
    #: The server's ``automations.Automations`` (its egress policy and secrets key).
    automations: Any = None

    def signed_url(self, method: str, path: str) -> str:
        joint = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{joint}{self.signer.sign(method, path)}"

    def keep_going(self) -> None:
        """Stop the query's work (raise) once its client left or its time ran out."""
        if self.cancelled.is_set():
            raise QueryStopped("the client disconnected: the query was stopped")
        if time.monotonic() > self.deadline:
            raise QueryStopped(
                "the query ran past its time limit (query_seconds): ask for smaller pages"
            )


#: The context of the query this thread executes (set by the endpoint around the execution).
CURRENT: ContextVar[Context | None] = ContextVar("graphql_context", default=None)


def keep_going() -> None:
    """Raise :class:`QueryStopped` when the current query must stop; called wherever a
    resolver starts a page of work, so a runaway query ends at its next page."""
    ctx = CURRENT.get()
    if ctx is not None:
        ctx.keep_going()


# A bad name, alias, tag or text is W&B's validation error, an HTTP 400 (InvalidRequest),
# refused before anything is written.


def check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not fits(pattern, value):
        raise InvalidRequest(
            f"invalid {what} {value!r}: use letters, digits, '_', '-' and '.', at most "
            f"{MAX_NAME_LENGTH} characters"
        )
    return value


def check_run_id(run_id: str) -> str:
    if not is_run_id(run_id):
        raise InvalidRequest(
            f"invalid run id {run_id!r}: no {''.join(sorted(RUN_ID_RESERVED))} or control "
            f"characters, no surrounding whitespace, at most {MAX_NAME_LENGTH} characters"
        )
    return run_id


def check_alias(alias: str) -> str:
    if not is_alias(alias):
        raise InvalidRequest(
            f"invalid alias {alias!r}: no '/' or ':', no control or format characters, at "
            f"most {MAX_NAME_LENGTH} characters"
        )
    return alias


def check_text(text: str | None, what: str) -> str | None:
    """Free text (a description, notes): any characters but controls other than tabs and
    line breaks, bidirectional overrides and unpaired surrogates."""
    if text is not None and (bad := unsafe_in_text(text)) is not None:
        raise InvalidRequest(
            f"invalid {what}: it holds the character U+{ord(bad):04X}; control characters "
            "other than tabs and line breaks, bidirectional overrides and unpaired surrogates "
            "are refused"
        )
    return text


def check_metadata(metadata: str | None, max_bytes: int) -> str | None:
    if metadata is None:
        return None
    if len(metadata) > max_bytes:
        raise InvalidRequest(
            f"metadata has {len(metadata)} characters; at most {max_bytes} (limit metadata_bytes)"
        )
    try:
        parsed = json.loads(metadata)
    except ValueError as exc:
        raise StoreError("metadata must be a JSON object") from exc
    if not isinstance(parsed, dict):
        raise StoreError("metadata must be a JSON object")
    if len(parsed) > MAX_METADATA_KEYS:
        raise StoreError(f"metadata has {len(parsed)} keys; W&B allows {MAX_METADATA_KEYS}")
    return metadata


def split_name(name: str) -> tuple[str, str]:
    collection, _, alias = name.partition(":")
    return collection, alias or LATEST


def ttl_to_db(ttl: int | None) -> int | None:
    return None if ttl in (None, TTL_INHERIT) else ttl


# Pagination ------------------------------------------------------------------------------------


class Connection:
    """A Relay page of a store :class:`~..store.listings.Listing`, by keyset, never OFFSET."""

    def __init__(
        self,
        ctx: Context,
        listing: Listing,
        params: Sequence[Any],
        make_node: Callable[[sqlite3.Row], Any],
        *,
        after: str | None,
        first: int | None,
        edge_fields: Callable[[sqlite3.Row], dict[str, Any]] | None = None,
        visible: Callable[[sqlite3.Row], bool] | None = None,
    ) -> None:
        """``visible`` (the caller's right to read a row's object) leaves out the rows it
        refuses; the page's cursors still move past them."""
        keep_going()
        self._ctx = ctx
        self._listing = listing
        self._params = list(params)
        limit = DEFAULT_PAGE if first is None else max(0, min(first, MAX_PAGE))
        rows = ctx.store.page(listing, self._params, decode_cursor(after), limit + 1)
        self._has_next = len(rows) > limit
        self._scanned = rows[:limit]
        self._rows = [row for row in self._scanned if visible(row)] if visible else self._scanned
        self._key = listing.cursor_name
        self._make_node = make_node
        self._edge_fields = edge_fields

    def totalCount(self, info: Any) -> int:  # noqa: N802 - W&B's field name
        return self._ctx.store.count(self._listing, self._params)

    @property
    def pageInfo(self) -> dict[str, Any]:  # noqa: N802
        end = encode_cursor(self._scanned[-1][self._key]) if self._scanned else None
        start = encode_cursor(self._scanned[0][self._key]) if self._scanned else None
        return {
            "startCursor": start,
            "endCursor": end,
            "hasNextPage": self._has_next,
            "hasPreviousPage": False,
        }

    @property
    def edges(self) -> list[dict[str, Any]]:
        edges = []
        for row in self._rows:
            edge = {"node": self._make_node(row), "cursor": encode_cursor(row[self._key])}
            if self._edge_fields:
                edge.update(self._edge_fields(row))
            edges.append(edge)
        return edges


def positional_page(
    items: Sequence[Any],
    make_node: Callable[[Any], Any],
    *,
    after: str | None,
    first: int | None,
    edge_fields: Callable[[Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Relay page of items filtered and ordered in Python; its cursor is a position."""
    keep_going()
    start = (decode_cursor(after) or 0) if after else 0
    limit = DEFAULT_PAGE if first is None else max(0, min(first, MAX_PAGE))
    edges = []
    for position, item in enumerate(items[start : start + limit], start + 1):
        edge = {"node": make_node(item), "cursor": encode_cursor(position)}
        if edge_fields:
            edge.update(edge_fields(item))
        edges.append(edge)
    return {
        "totalCount": len(items),
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
            "hasNextPage": start + limit < len(items),
            "hasPreviousPage": start > 0,
        },
        "edges": edges,
    }


def searched(select: Callable[[], list[Any]]) -> list[Any]:
    """Runs a filtered selection, showing a bad filter to the client as a request error."""
    keep_going()
    try:
        return select()
    except FilterError as exc:
        raise InvalidRequest(str(exc)) from exc


class Node:
    def __init__(self, ctx: Context, row: sqlite3.Row) -> None:
        self.ctx = ctx
        self.row = row

    @property
    def createdAt(self) -> str:  # noqa: N802
        return self.row["created_at"]
