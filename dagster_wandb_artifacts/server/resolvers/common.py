"""What every resolver module shares: the request context, W&B's validation rules, Relay paging."""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from graphql import GraphQLSchema, build_schema

from .. import blobs
from ..filters import FilterError
from ..ids import decode_cursor, encode_cursor
from ..signing import URLSigner
from ..store import LATEST, Store, StoreError

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
    # Automations: Entity.triggers answers Api.automations(entity=...) in one query.
    "QUERY_AUTOMATIONS_ON_ENTITY",
)

DEFAULT_PAGE = 100
MAX_PAGE = 10_000

NAME = re.compile(r"^[\w\-.]+$")
TYPE_NAME = re.compile(r"^[-\w]+([ ]*[-.\w]+)*$")
TAG = re.compile(r"^[-\w]+([ ]+[-\w]+)*$")
MAX_NAME = 128
MAX_METADATA_KEYS = 100

# W&B's sentinels for ``ttlDurationSeconds``.
TTL_INHERIT = -1
TTL_DISABLED = -2


def load_schema() -> GraphQLSchema:
    # schema.graphql, then the schema_<domain>.graphql files that extend it.
    folder = resources.files("dagster_wandb_artifacts.server")
    names = sorted(p.name for p in folder.iterdir() if p.name.startswith("schema_"))
    sdl = "\n".join(folder.joinpath(name).read_text() for name in ["schema.graphql", *names])
    schema = build_schema(sdl)
    schema.type_map["ArtifactCollection"].resolve_type = lambda value, *_: value.typename
    schema.type_map["ArtifactCreator"].resolve_type = lambda value, *_: value.typename
    return schema


@dataclass
class Context:
    """What every resolver needs for one request."""

    store: Store
    blobs: blobs.BlobStore
    signer: URLSigner
    base_url: str
    entity: str
    #: The user whose key the request carries (``accounts.Viewer``); None means the
    #: server's administrator.
    viewer: Any = None

    def signed_url(self, method: str, path: str) -> str:
        return f"{self.base_url}{path}?{self.signer.sign(method, path)}"


def check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not value or len(value) > MAX_NAME or not pattern.match(value):
        raise StoreError(
            f"invalid {what} {value!r}: use letters, digits, '_', '-' and '.', at most "
            f"{MAX_NAME} characters"
        )
    return value


def check_alias(alias: str) -> str:
    if not alias or len(alias) > MAX_NAME or any(c in alias for c in "/:"):
        raise StoreError(f"invalid alias {alias!r}: no '/' or ':', at most {MAX_NAME} characters")
    return alias


def check_metadata(metadata: str | None) -> str | None:
    if metadata is None:
        return None
    try:
        parsed = json.loads(metadata)
    except ValueError as exc:
        raise StoreError("metadata must be a JSON object") from exc
    if not isinstance(parsed, dict):
        raise StoreError("metadata must be a JSON object")
    if len(parsed) > MAX_METADATA_KEYS:
        raise StoreError(f"metadata has {len(parsed)} keys; W&B allows {MAX_METADATA_KEYS}")
    return metadata


def md5_b64_to_hex(md5_b64: str) -> str:
    try:
        raw = base64.b64decode(md5_b64, validate=True)
    except binascii.Error as exc:
        raise StoreError(f"md5 {md5_b64!r} is not base64") from exc
    if len(raw) != 16:
        raise StoreError(f"md5 {md5_b64!r} is not 16 bytes")
    return raw.hex()


def split_name(name: str) -> tuple[str, str]:
    collection, _, alias = name.partition(":")
    return collection, alias or LATEST


def ttl_to_db(ttl: int | None) -> int | None:
    return None if ttl in (None, TTL_INHERIT) else ttl


# Pagination ------------------------------------------------------------------------------------


class Connection:
    """A Relay page of rows fetched by keyset (``id > cursor``), never by OFFSET."""

    def __init__(
        self,
        ctx: Context,
        sql: str,
        params: Sequence[Any],
        make_node: Callable[[sqlite3.Row], Any],
        *,
        after: str | None,
        first: int | None,
        key: str = "id",
        descending: bool = False,
        edge_fields: Callable[[sqlite3.Row], dict[str, Any]] | None = None,
    ) -> None:
        """``sql`` selects rows with a ``{where}`` placeholder that this class fills in."""
        self._ctx = ctx
        self._sql = sql
        self._params = list(params)
        limit = DEFAULT_PAGE if first is None else max(0, min(first, MAX_PAGE))
        cursor = decode_cursor(after)
        condition = "1"
        page_params: list[Any] = []
        if cursor is not None:
            condition = f"{key} {'<' if descending else '>'} ?"
            page_params.append(cursor)
        order = f"{key} {'DESC' if descending else 'ASC'}"
        rows = ctx.store.all(
            f"{sql.format(where=condition)} ORDER BY {order} LIMIT ?",
            [*self._params, *page_params, limit + 1],
        )
        self._has_next = len(rows) > limit
        self._rows = rows[:limit]
        self._key = key.rsplit(".", 1)[-1]
        self._make_node = make_node
        self._edge_fields = edge_fields

    def totalCount(self, info: Any) -> int:  # noqa: N802 - W&B's field name
        return self._ctx.store.one(
            f"SELECT COUNT(*) FROM ({self._sql.format(where='1')})", self._params
        )[0]

    @property
    def pageInfo(self) -> dict[str, Any]:  # noqa: N802
        end = encode_cursor(self._rows[-1][self._key]) if self._rows else None
        start = encode_cursor(self._rows[0][self._key]) if self._rows else None
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
    try:
        return select()
    except FilterError as exc:
        raise StoreError(str(exc)) from exc


class Node:
    def __init__(self, ctx: Context, row: sqlite3.Row) -> None:
        self.ctx = ctx
        self.row = row

    @property
    def createdAt(self) -> str:  # noqa: N802
        return self.row["created_at"]
