"""The GraphQL API: the SDL in ``schema.graphql`` and one resolver class per object type.

graphql-core's default resolver reads an attribute of the parent value and calls it with
``(info, **arguments)`` when it is callable, so each class below exposes W&B's field names.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

from graphql import GraphQLSchema, build_schema

from ..client.errors import InvalidInputError
from ..client.manifest import Manifest, hex_to_b64
from . import blobs, registry
from .filters import RUNS, FilterError, parse_filters, run_document
from .ids import decode_cursor, decode_id, encode_cursor, encode_id
from .signing import URLSigner
from .store import LATEST, NotFound, Store, StoreError

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
)

DEFAULT_PAGE = 100
MAX_PAGE = 10_000

_NAME = re.compile(r"^[\w\-.]+$")
_TYPE_NAME = re.compile(r"^[-\w]+([ ]*[-.\w]+)*$")
_TAG = re.compile(r"^[-\w]+([ ]+[-\w]+)*$")
_MAX_NAME = 128
_MAX_METADATA_KEYS = 100

# W&B's sentinels for ``ttlDurationSeconds``.
_TTL_INHERIT = -1
_TTL_DISABLED = -2


def load_schema() -> GraphQLSchema:
    sdl = resources.files(__package__).joinpath("schema.graphql").read_text()
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

    def signed_url(self, method: str, path: str) -> str:
        return f"{self.base_url}{path}?{self.signer.sign(method, path)}"


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not value or len(value) > _MAX_NAME or not pattern.match(value):
        raise StoreError(
            f"invalid {what} {value!r}: use letters, digits, '_', '-' and '.', at most "
            f"{_MAX_NAME} characters"
        )
    return value


def _check_alias(alias: str) -> str:
    if not alias or len(alias) > _MAX_NAME or any(c in alias for c in "/:"):
        raise StoreError(f"invalid alias {alias!r}: no '/' or ':', at most {_MAX_NAME} characters")
    return alias


def _check_metadata(metadata: str | None) -> str | None:
    if metadata is None:
        return None
    try:
        parsed = json.loads(metadata)
    except ValueError as exc:
        raise StoreError("metadata must be a JSON object") from exc
    if not isinstance(parsed, dict):
        raise StoreError("metadata must be a JSON object")
    if len(parsed) > _MAX_METADATA_KEYS:
        raise StoreError(f"metadata has {len(parsed)} keys; W&B allows {_MAX_METADATA_KEYS}")
    return metadata


def _md5_hex(md5_b64: str) -> str:
    try:
        raw = base64.b64decode(md5_b64, validate=True)
    except binascii.Error as exc:
        raise StoreError(f"md5 {md5_b64!r} is not base64") from exc
    if len(raw) != 16:
        raise StoreError(f"md5 {md5_b64!r} is not 16 bytes")
    return raw.hex()


def _split_name(name: str) -> tuple[str, str]:
    collection, _, alias = name.partition(":")
    return collection, alias or LATEST


def _ttl_to_db(ttl: int | None) -> int | None:
    return None if ttl in (None, _TTL_INHERIT) else ttl


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


def _searched(select: Callable[[], list[Any]]) -> list[Any]:
    """Runs a filtered selection, showing a bad filter to the client as a request error."""
    try:
        return select()
    except FilterError as exc:
        raise StoreError(str(exc)) from exc


def _organization(ctx: Context) -> dict[str, Any]:
    """The server's one organization; its entity is the default entity."""
    org_entity = ctx.store.ensure_entity(ctx.entity)
    return {
        "id": encode_id("Organization", org_entity["id"]),
        "name": org_entity["name"],
        "orgEntity": EntityNode(ctx, org_entity, registry_view=True),
        "advancedRegistryFeatures": {"advancedSearch": False},
    }


# Object types -------------------------------------------------------------------------------


class Node:
    def __init__(self, ctx: Context, row: sqlite3.Row) -> None:
        self.ctx = ctx
        self.row = row

    @property
    def createdAt(self) -> str:  # noqa: N802
        return self.row["created_at"]


class EntityNode(Node):
    def __init__(self, ctx: Context, row: sqlite3.Row, *, registry_view: bool = False) -> None:
        """``registry_view``: this entity seen as an organization's, whose projects are the
        registries."""
        super().__init__(ctx, row)
        self._registry_view = registry_view

    @property
    def id(self) -> str:
        return encode_id("Entity", self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    isTeam = False  # noqa: N815

    @property
    def entityType(self) -> str:  # noqa: N802
        return "organization" if self._registry_view else "user"

    @property
    def organization(self) -> dict[str, Any]:
        return _organization(self.ctx)

    @property
    def user(self) -> UserNode:
        return UserNode(self.ctx, organizations=[self.organization])

    def _projects(self, filters: str | None, order: str | None = None) -> list[sqlite3.Row]:
        if self._registry_view:
            return _searched(
                lambda: registry.registries(self.ctx.store, self.row["id"], filters, order)
            )
        rows = self.ctx.store.all(
            "SELECT * FROM projects WHERE entity_id = ? ORDER BY id", (self.row["id"],)
        )
        return _searched(
            lambda: registry.REGISTRIES.select(
                ((registry.registry_document(row), row) for row in rows), filters, order
            )
        )

    def projects(
        self,
        info: Any,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        return positional_page(
            self._projects(filters, order),
            lambda row: ProjectNode(self.ctx, row),
            after=after,
            first=first,
        )

    def project(self, info: Any, name: str | None = None) -> ProjectNode | None:
        row = self.ctx.store.find_project(self.row["name"], name) if name else None
        return ProjectNode(self.ctx, row) if row else None

    def _collections(
        self, project_filters: str | None, filters: str | None, order: str | None, kinds: Any
    ) -> list[sqlite3.Row]:
        projects = self._projects(project_filters)
        return _searched(
            lambda: registry.collections(self.ctx.store, projects, filters, order, kinds)
        )

    def artifactCollections(  # noqa: N802
        self,
        info: Any,
        projectFilters: str | None = None,  # noqa: N803
        filters: str | None = None,
        collectionTypes: list[str] | None = None,  # noqa: N803
        after: str | None = None,
        first: int | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        rows = self._collections(projectFilters, filters, order, collectionTypes)
        return positional_page(
            rows, lambda row: CollectionNode(self.ctx, row), after=after, first=first
        )

    def artifactMemberships(  # noqa: N802
        self,
        info: Any,
        projectFilters: str | None = None,  # noqa: N803
        collectionFilters: str | None = None,  # noqa: N803
        filters: str | None = None,
        after: str | None = None,
        first: int | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        collections = self._collections(projectFilters, collectionFilters, None, None)
        by_id = {row["id"]: row for row in collections}
        rows = _searched(lambda: registry.versions(self.ctx.store, collections, filters, order))

        def node(row: sqlite3.Row) -> MembershipNode:
            membership = self.ctx.store.get("memberships", row["membership_id"])
            return MembershipNode(self.ctx, membership, by_id[row["collection_id"]], row)

        return positional_page(rows, node, after=after, first=first)


class UserNode:
    typename = "User"

    def __init__(self, ctx: Context, organizations: list[dict[str, Any]] | None = None) -> None:
        self.ctx = ctx
        self.organizations = organizations or []
        self.id = encode_id("User", 1)
        self.name = self.username = self.entity = ctx.entity
        self.email = None
        self.admin = False
        self.flags = "{}"
        self.deletedAt = None  # noqa: N815
        self.apiKeys = {"edges": []}  # noqa: N815

    def teams(self, info: Any, after: str | None = None, first: int | None = None) -> dict:
        return {"pageInfo": {"hasNextPage": False, "hasPreviousPage": False}, "edges": []}


class ProjectNode(Node):
    @property
    def id(self) -> str:
        return encode_id("Project", self.row["id"])

    @property
    def internalId(self) -> str:  # noqa: N802
        return encode_id("ProjectInternalId", self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    @cached_property
    def entity(self) -> EntityNode:
        return EntityNode(self.ctx, self.ctx.store.get("entities", self.row["entity_id"]))

    @property
    def entityName(self) -> str:  # noqa: N802
        return self.entity.name

    @property
    def description(self) -> str | None:
        return self.row["description"]

    @property
    def updatedAt(self) -> str:  # noqa: N802
        return self.row["updated_at"] or self.row["created_at"]

    @property
    def access(self) -> str:
        return self.row["access"] or registry.VISIBILITIES[0]

    @property
    def allowAllArtifactTypesInRegistry(self) -> bool:  # noqa: N802
        return bool(self.row["allow_all_types"])

    isBenchmark = False  # noqa: N815
    readOnly = False  # noqa: N815

    @property
    def user(self) -> UserNode:
        return UserNode(self.ctx)

    def _runs(self, filters: str | None, order: str | None) -> list[sqlite3.Row]:
        rows = self.ctx.store.all(
            "SELECT * FROM runs WHERE project_id = ? ORDER BY id", (self.row["id"],)
        )
        return _searched(
            lambda: RUNS.select(((run_document(row), row) for row in rows), filters, order)
        )

    def runCount(self, info: Any, filters: str | None = None) -> int:  # noqa: N802
        return len(self._runs(filters, None))

    def runs(
        self,
        info: Any,
        filters: str | None = None,
        order: str | None = None,
        after: str | None = None,
        first: int | None = None,
    ) -> dict[str, Any]:
        return positional_page(
            self._runs(filters, order), lambda row: RunNode(self.ctx, row), after=after, first=first
        )

    def run(self, info: Any, name: str) -> RunNode | None:
        row = self.ctx.store.find_run(self.row["id"], name)
        return RunNode(self.ctx, row) if row else None

    def bucket(self, info: Any, name: str, missingOk: bool | None = None) -> RunNode | None:  # noqa: N803
        return self.run(info, name)

    def artifactType(self, info: Any, name: str) -> ArtifactTypeNode | None:  # noqa: N802
        row = self.ctx.store.find_type(self.row["id"], name)
        return ArtifactTypeNode(self.ctx, row) if row else None

    def artifactTypes(  # noqa: N802
        self,
        info: Any,
        after: str | None = None,
        first: int | None = None,
        includeAll: bool | None = None,  # noqa: N803 - a registry's types are its project's
    ) -> Connection:
        return Connection(
            self.ctx,
            "SELECT * FROM artifact_types WHERE project_id = ? AND {where}",
            [self.row["id"]],
            lambda row: ArtifactTypeNode(self.ctx, row),
            after=after,
            first=first,
        )

    def artifactCollection(self, info: Any, name: str) -> CollectionNode | None:  # noqa: N802
        row = self.ctx.store.find_collection(self.row["id"], name)
        return CollectionNode(self.ctx, row) if row else None

    def artifactCollectionMembership(  # noqa: N802
        self, info: Any, name: str
    ) -> MembershipNode | None:
        collection_name, alias = _split_name(name)
        collection = self.artifactCollection(info, collection_name)
        return collection.artifactMembership(info, alias) if collection else None

    def artifact(self, info: Any, name: str) -> ArtifactNode | None:
        membership = self.artifactCollectionMembership(info, name)
        return membership.artifact if membership else None


class RunNode(Node):
    typename = "Run"

    @property
    def id(self) -> str:
        return encode_id("Run", self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def displayName(self) -> str:  # noqa: N802
        return self.row["display_name"] or self.row["name"]

    @property
    def description(self) -> str | None:
        return self.row["description"]

    @property
    def notes(self) -> str | None:
        return self.row["notes"]

    @property
    def group(self) -> str | None:
        return self.row["group_name"]

    @property
    def jobType(self) -> str | None:  # noqa: N802
        return self.row["job_type"]

    @property
    def state(self) -> str:
        return self.row["state"]

    @property
    def config(self) -> str:
        return self.row["config"] or "{}"

    @property
    def summaryMetrics(self) -> str:  # noqa: N802
        return self.row["summary"] or "{}"

    @property
    def tags(self) -> list[str]:
        return json.loads(self.row["tags"])

    def wandbConfig(self, info: Any, keys: list[str] | None = None) -> str:  # noqa: N802
        # The SDK's own "_wandb" config entry; its "t" key tells a resumable (started) run.
        wandb = (json.loads(self.config).get("_wandb") or {}).get("value") or {}
        return json.dumps(wandb if keys is None else {k: wandb[k] for k in keys if k in wandb})

    @property
    def sweepName(self) -> str | None:  # noqa: N802
        return self.row["sweep_name"]

    # Resuming a run (RunResumeStatus) reads these; this server keeps no history or events.
    historyLineCount = 0  # noqa: N815
    logLineCount = 0  # noqa: N815
    eventsLineCount = 0  # noqa: N815
    historyTail = "[]"  # noqa: N815
    eventsTail = "[]"  # noqa: N815
    commit = None
    readOnly = False  # noqa: N815
    systemMetrics = "{}"  # noqa: N815
    historyKeys = None  # noqa: N815

    @property
    def projectId(self) -> int:  # noqa: N802
        return self.row["project_id"]

    @property
    def user(self) -> UserNode:
        return UserNode(self.ctx)

    @property
    def heartbeatAt(self) -> str | None:  # noqa: N802
        return self.row["heartbeat_at"]

    @property
    def project(self) -> ProjectNode:
        return ProjectNode(self.ctx, self.ctx.store.get("projects", self.row["project_id"]))

    def outputArtifacts(  # noqa: N802
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection:
        return Connection(
            self.ctx,
            "SELECT * FROM artifacts WHERE created_by_run_id = ? AND state = 'COMMITTED' "
            "AND {where}",
            [self.row["id"]],
            lambda row: ArtifactNode(self.ctx, row),
            after=after,
            first=first,
        )

    def inputArtifacts(  # noqa: N802
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection:
        return Connection(
            self.ctx,
            "SELECT u.id AS use_id, u.used_as, a.* FROM artifact_uses u "
            "JOIN artifacts a ON a.id = u.artifact_id WHERE u.run_id = ? AND {where}",
            [self.row["id"]],
            lambda row: ArtifactNode(self.ctx, row),
            after=after,
            first=first,
            key="u.id",
            edge_fields=lambda row: {"usedAs": [row["used_as"]] if row["used_as"] else []},
        )


class ArtifactTypeNode(Node):
    @property
    def id(self) -> str:
        return encode_id("ArtifactType", self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def description(self) -> str | None:
        return self.row["description"]

    @property
    def project(self) -> ProjectNode:
        return ProjectNode(self.ctx, self.ctx.store.get("projects", self.row["project_id"]))

    def artifactCollection(self, info: Any, name: str) -> CollectionNode | None:  # noqa: N802
        row = self.ctx.store.find_collection(self.row["project_id"], name)
        if row is None or row["type_id"] != self.row["id"]:
            return None
        return CollectionNode(self.ctx, row)

    def artifactSequence(self, info: Any, name: str) -> CollectionNode | None:  # noqa: N802
        found = self.artifactCollection(info, name)
        return found if found and found.typename == "ArtifactSequence" else None

    def artifactCollections(  # noqa: N802
        self,
        info: Any,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        rows = self.ctx.store.all(
            "SELECT * FROM collections WHERE type_id = ? AND state = 'READY' ORDER BY id",
            (self.row["id"],),
        )
        selected = _searched(
            lambda: registry.select_collections(self.ctx.store, rows, filters, order)
        )
        return positional_page(
            selected, lambda row: CollectionNode(self.ctx, row), after=after, first=first
        )


class CollectionNode(Node):
    @property
    def typename(self) -> str:
        return "ArtifactSequence" if self.row["kind"] == "SEQUENCE" else "ArtifactPortfolio"

    @property
    def id(self) -> str:
        return encode_id(self.typename, self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def description(self) -> str | None:
        return self.row["description"]

    @property
    def updatedAt(self) -> str:  # noqa: N802
        return self.row["updated_at"]

    @property
    def state(self) -> str:
        return self.row["state"]

    @property
    def project(self) -> ProjectNode:
        return ProjectNode(self.ctx, self.ctx.store.get("projects", self.row["project_id"]))

    @property
    def defaultArtifactType(self) -> ArtifactTypeNode:  # noqa: N802
        return ArtifactTypeNode(self.ctx, self.ctx.store.get("artifact_types", self.row["type_id"]))

    def tags(self, info: Any, after: str | None = None, first: int | None = None) -> Connection:
        return Connection(
            self.ctx,
            "SELECT t.* FROM tags t JOIN collection_tags ct ON ct.tag_id = t.id "
            "WHERE ct.collection_id = ? AND {where}",
            [self.row["id"]],
            lambda row: TagNode(row),
            after=after,
            first=first,
            key="t.id",
        )

    def aliases(self, info: Any, after: str | None = None, first: int | None = None) -> Connection:
        return Connection(
            self.ctx,
            "SELECT * FROM aliases WHERE collection_id = ? AND {where}",
            [self.row["id"]],
            lambda row: AliasNode(self.ctx, row),
            after=after,
            first=first,
        )

    def artifacts(
        self,
        info: Any,
        after: str | None = None,
        first: int | None = None,
        order: str | None = None,
        filters: str | None = None,
    ) -> Connection | dict[str, Any]:
        def make_node(row: sqlite3.Row) -> ArtifactNode:
            return ArtifactNode(self.ctx, row)

        def version(row: sqlite3.Row) -> dict[str, Any]:
            return {"version": f"v{row['version_index']}"}

        if order or parse_filters(filters) not in (None, {"state": "COMMITTED"}):
            rows = _searched(lambda: registry.versions(self.ctx.store, [self.row], filters, order))
            return positional_page(rows, make_node, after=after, first=first, edge_fields=version)
        # Unfiltered listings page by key, so versions logged meanwhile never shift a page.
        return Connection(
            self.ctx,
            registry.MEMBERSHIP_ROWS
            + "WHERE m.collection_id = ? AND a.state = 'COMMITTED' AND {where}",
            [self.row["id"]],
            make_node,
            after=after,
            first=first,
            key="m.id",
            descending=True,
            edge_fields=version,
        )

    def artifactMembership(self, info: Any, aliasName: str) -> MembershipNode | None:  # noqa: N802,N803
        artifact = self.ctx.store.resolve_alias(self.row["id"], aliasName)
        if artifact is None:
            return None
        membership = self.ctx.store.membership(self.row["id"], artifact["id"])
        return MembershipNode(self.ctx, membership, self.row, artifact)

    def artifactMemberships(  # noqa: N802
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection:
        return Connection(
            self.ctx,
            "SELECT m.* FROM memberships m JOIN artifacts a ON a.id = m.artifact_id "
            "WHERE m.collection_id = ? AND a.state = 'COMMITTED' AND {where}",
            [self.row["id"]],
            lambda row: MembershipNode(self.ctx, row, self.row),
            after=after,
            first=first,
            key="m.id",
            descending=True,
        )

    @property
    def latestArtifact(self) -> ArtifactNode | None:  # noqa: N802
        row = self.ctx.store.latest_of(self.row["id"])
        return ArtifactNode(self.ctx, row) if row else None


class MembershipNode(Node):
    def __init__(
        self,
        ctx: Context,
        row: sqlite3.Row,
        collection: sqlite3.Row,
        artifact: sqlite3.Row | None = None,
    ) -> None:
        super().__init__(ctx, row)
        self._collection = collection
        self._artifact = artifact or ctx.store.get("artifacts", row["artifact_id"])

    @property
    def id(self) -> str:
        return encode_id("ArtifactCollectionMembership", self.row["id"])

    @property
    def versionIndex(self) -> int:  # noqa: N802
        return self.row["version_index"]

    @property
    def aliases(self) -> list[AliasNode]:
        rows = self.ctx.store.aliases_of(self._artifact["id"], self._collection["id"])
        return [AliasNode(self.ctx, row) for row in rows]

    @property
    def artifactCollection(self) -> CollectionNode:  # noqa: N802
        return CollectionNode(self.ctx, self._collection)

    @property
    def artifact(self) -> ArtifactNode:
        return ArtifactNode(self.ctx, self._artifact)

    def files(self, info: Any, **page: Any) -> Connection:
        return self.artifact.files(info, **page)


class ArtifactNode(Node):
    @property
    def id(self) -> str:
        return encode_id("Artifact", self.row["id"])

    @cached_property
    def _sequence(self) -> sqlite3.Row:
        return self.ctx.store.get("collections", self.row["sequence_id"])

    @property
    def artifactSequence(self) -> CollectionNode:  # noqa: N802
        return CollectionNode(self.ctx, self._sequence)

    @property
    def versionIndex(self) -> int | None:  # noqa: N802
        membership = self.ctx.store.membership(self.row["sequence_id"], self.row["id"])
        return membership["version_index"] if membership else None

    @property
    def artifactType(self) -> ArtifactTypeNode:  # noqa: N802
        return ArtifactTypeNode(self.ctx, self.ctx.store.get("artifact_types", self.row["type_id"]))

    @property
    def description(self) -> str | None:
        return self.row["description"]

    @property
    def metadata(self) -> str:
        return self.row["metadata"] or "{}"

    @property
    def ttlDurationSeconds(self) -> int:  # noqa: N802
        ttl = self.row["ttl_seconds"]
        return _TTL_DISABLED if ttl is None else ttl

    @property
    def ttlIsInherited(self) -> bool:  # noqa: N802
        return self.row["ttl_seconds"] is None

    @property
    def tags(self) -> list[TagNode]:
        return [TagNode(row) for row in self.ctx.store.artifact_tags(self.row["id"])]

    @property
    def historyStep(self) -> int | None:  # noqa: N802
        return self.row["history_step"]

    @property
    def state(self) -> str:
        return self.row["state"]

    @property
    def size(self) -> int:
        return self.row["size"]

    @property
    def digest(self) -> str:
        return self.row["digest"]

    @property
    def digestAlgorithm(self) -> str:  # noqa: N802
        return self.row["digest_algorithm"]

    @property
    def commitHash(self) -> str:  # noqa: N802
        return self.row["digest"][:12]

    @property
    def fileCount(self) -> int:  # noqa: N802
        return self.row["file_count"]

    @property
    def updatedAt(self) -> str:  # noqa: N802
        return self.row["updated_at"]

    @property
    def aliases(self) -> list[AliasNode]:
        return [AliasNode(self.ctx, row) for row in self.ctx.store.aliases_of(self.row["id"])]

    @property
    def currentManifest(self) -> ManifestNode | None:  # noqa: N802
        row = self.ctx.store.manifest_of(self.row["id"])
        return ManifestNode(self.ctx, row, with_upload=False) if row else None

    def files(
        self,
        info: Any,
        names: list[str] | None = None,
        after: str | None = None,
        first: int | None = None,
    ) -> Connection:
        sql = "SELECT * FROM artifact_files WHERE artifact_id = ? AND md5 IS NOT NULL"
        params: list[Any] = [self.row["id"]]
        if names is not None:
            # Looked up by (artifact, name) first: paging by id would scan the whole artifact.
            sql = (
                "WITH named AS MATERIALIZED (SELECT * FROM artifact_files WHERE artifact_id = ? "
                f"AND name IN ({', '.join('?' * len(names))})) "
                "SELECT * FROM named WHERE md5 IS NOT NULL"
            )
            params.extend(names)
        return Connection(
            self.ctx,
            sql + " AND {where}",
            params,
            lambda row: FileNode(self.ctx, row),
            after=after,
            first=first,
        )

    @property
    def createdBy(self) -> RunNode | None:  # noqa: N802
        run_id = self.row["created_by_run_id"]
        return RunNode(self.ctx, self.ctx.store.get("runs", run_id)) if run_id else None

    def usedBy(self, info: Any, after: str | None = None, first: int | None = None) -> Connection:  # noqa: N802
        return Connection(
            self.ctx,
            "SELECT u.id AS use_id, r.* FROM artifact_uses u JOIN runs r ON r.id = u.run_id "
            "WHERE u.artifact_id = ? AND {where}",
            [self.row["id"]],
            lambda row: RunNode(self.ctx, row),
            after=after,
            first=first,
            key="u.id",
        )

    def artifactMemberships(  # noqa: N802
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection:
        return Connection(
            self.ctx,
            "SELECT * FROM memberships WHERE artifact_id = ? AND {where}",
            [self.row["id"]],
            lambda row: MembershipNode(
                self.ctx, row, self.ctx.store.get("collections", row["collection_id"]), self.row
            ),
            after=after,
            first=first,
        )


class AliasNode(Node):
    @property
    def id(self) -> str:
        return encode_id("ArtifactAlias", self.row["id"])

    @property
    def alias(self) -> str:
        return self.row["alias"]

    @property
    def artifactCollection(self) -> CollectionNode:  # noqa: N802
        return CollectionNode(
            self.ctx, self.ctx.store.get("collections", self.row["collection_id"])
        )

    @property
    def artifact(self) -> ArtifactNode:
        return ArtifactNode(self.ctx, self.ctx.store.get("artifacts", self.row["artifact_id"]))


class TagNode:
    def __init__(self, row: sqlite3.Row) -> None:
        self.id = encode_id("Tag", row["id"])
        self.name = row["name"]
        self.tagCategoryName = None  # noqa: N815
        self.attributes = None


class ManifestNode(Node):
    def __init__(self, ctx: Context, row: sqlite3.Row, *, with_upload: bool) -> None:
        super().__init__(ctx, row)
        self._with_upload = with_upload

    @property
    def id(self) -> str:
        return encode_id("ArtifactManifest", self.row["id"])

    @property
    def type(self) -> str:
        return self.row["type"]

    @property
    def digest(self) -> str:
        return self.row["digest"]

    @property
    def file(self) -> dict[str, Any]:
        path = f"/storage/manifest/{self.row['artifact_id']}"
        url = self.ctx.signed_url("GET", path)
        return {
            "id": encode_id("File", -self.row["id"]),
            "name": self.row["name"],
            "displayName": self.row["name"],
            "url": url,
            "directUrl": url,
            "digest": self.row["digest"],
            "md5": self.row["digest"],
            "uploadUrl": self.ctx.signed_url("PUT", path) if self._with_upload else None,
            "uploadHeaders": [],
        }


class FileNode(Node):
    """A stored file of a committed version (references have no stored bytes)."""

    @property
    def id(self) -> str:
        return encode_id("File", self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    displayName = name  # noqa: N815

    @property
    def directUrl(self) -> str:  # noqa: N802
        return self.ctx.signed_url("GET", f"/storage/obj/{self.row['md5']}")

    url = directUrl

    @property
    def sizeBytes(self) -> int:  # noqa: N802
        return self.row["size"]

    @property
    def storagePath(self) -> str:  # noqa: N802
        return blobs.object_key(self.row["md5"])

    mimetype = None
    updatedAt = None  # noqa: N815

    @property
    def md5(self) -> str:
        return hex_to_b64(self.row["md5"])

    digest = md5
    uploadUrl = None  # noqa: N815
    uploadHeaders: list[str] = []  # noqa: N815, RUF012

    @property
    def artifact(self) -> ArtifactNode:
        birth = self.row["birth_artifact_id"] or self.row["artifact_id"]
        return ArtifactNode(self.ctx, self.ctx.store.get("artifacts", birth))


# Root ------------------------------------------------------------------------------------------


def _node(type_name: str) -> Callable[[Root, Any, str], Any]:
    """The query field that fetches one object by its global ID."""
    tables = {"Artifact": ("artifacts", ArtifactNode), "ArtifactCollection": ("collections", None)}
    table, node_class = tables[type_name]

    def fetch(self: Root, info: Any, id: str) -> Any:  # noqa: A002
        accepted = ("ArtifactSequence", "ArtifactPortfolio", "ArtifactCollection")
        row_id = decode_id(id, *(accepted if type_name == "ArtifactCollection" else (type_name,)))
        row = self.ctx.store.get(table, row_id)
        if row is None:
            return None
        return (node_class or CollectionNode)(self.ctx, row)

    return fetch


class Root:
    """Query and Mutation fields (graphql-core hands both the same root value)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # Queries -----------------------------------------------------------------------------------

    def viewer(self, info: Any) -> UserNode:
        return UserNode(self.ctx)

    def serverInfo(self, info: Any) -> dict[str, Any]:  # noqa: N802
        features = [{"name": name, "isEnabled": True} for name in FEATURES]
        return {"features": features, "cliVersionInfo": {}}

    def entity(self, info: Any, name: str | None = None) -> EntityNode:
        # Every entity name is accepted (one user owns the server), so each exists.
        return EntityNode(self.ctx, self.ctx.store.ensure_entity(name or self.ctx.entity))

    def project(
        self,
        info: Any,
        name: str | None = None,
        entityName: str | None = None,  # noqa: N803
    ) -> ProjectNode | None:
        if not name:
            return None
        row = self.ctx.store.find_project(entityName or self.ctx.entity, name)
        return ProjectNode(self.ctx, row) if row else None

    model = project

    def projects(
        self,
        info: Any,
        entityName: str | None = None,  # noqa: N803
        after: str | None = None,
        first: int | None = None,
    ) -> Connection:
        entity = self.ctx.store.one(
            "SELECT * FROM entities WHERE name = ?", (entityName or self.ctx.entity,)
        )
        return Connection(
            self.ctx,
            "SELECT * FROM projects WHERE entity_id = ? AND {where}",
            [entity["id"] if entity else -1],
            lambda row: ProjectNode(self.ctx, row),
            after=after,
            first=first,
        )

    models = projects

    def organization(self, info: Any, name: str) -> dict[str, Any] | None:
        found = _organization(self.ctx)
        return found if found["name"] == name else None

    artifact = _node("Artifact")
    artifactCollection = _node("ArtifactCollection")  # noqa: N815

    # Runs ----------------------------------------------------------------------------------------

    def upsertBucket(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        entity = input.get("entityName") or self.ctx.entity
        project = input.get("modelName") or "uncategorized"
        name = input.get("name")
        if input.get("id"):
            existing = store.get("runs", decode_id(input["id"], "Run"))
            if existing is None:
                raise NotFound(f"run {input['id']} not found")
            project_row = store.get("projects", existing["project_id"])
            entity = store.get("entities", project_row["entity_id"])["name"]
            project, name = project_row["name"], existing["name"]
        name = name or secrets.token_hex(4)
        _check(_NAME, name, "run id")
        _check(_NAME, project, "project name")
        tags = input.get("tags")
        row, inserted = store.upsert_run(
            entity,
            project,
            name,
            {
                "display_name": input.get("displayName"),
                "description": input.get("description"),
                "notes": input.get("notes"),
                "group_name": input.get("groupName"),
                "job_type": input.get("jobType"),
                "config": input.get("config"),
                "summary": input.get("summaryMetrics"),
                "state": input.get("state"),
                "sweep_name": input.get("sweep"),
                "tags": None if tags is None else json.dumps(tags),
            },
        )
        return {"bucket": RunNode(self.ctx, row), "inserted": inserted}

    def upsertModel(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        name = _check(_NAME, input.get("name") or "", "project name")
        access = input.get("access")
        if access is not None and access not in registry.VISIBILITIES:
            raise InvalidInputError(
                f"access must be one of {', '.join(registry.VISIBILITIES)}, not {access!r}"
            )
        types = [
            _check(_TYPE_NAME, spec["name"], "artifact type")
            for spec in input.get("artifactTypes") or []
        ]
        row, inserted = self.ctx.store.upsert_project(
            input.get("entityName") or self.ctx.entity,
            name,
            description=input.get("description"),
            access=access,
            allow_all_types=input.get("allowAllArtifactTypesInRegistry"),
            types=types,
        )
        node = ProjectNode(self.ctx, row)
        return {"project": node, "model": node, "inserted": inserted}

    def renameProject(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        row = self.ctx.store.rename_project(
            input["entityName"],
            input["oldProjectName"],
            _check(_NAME, input["newProjectName"], "project name"),
        )
        node = ProjectNode(self.ctx, row)
        return {"project": node, "model": node, "inserted": False}

    def deleteModel(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project_id = decode_id(input["id"], "Project")
        if self.ctx.store.get("projects", project_id) is None:
            raise NotFound("project not found")
        self.ctx.store.delete_project(project_id)
        return {"success": True}

    def createRunFiles(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        run = self.ctx.store.require_run(
            input["entityName"], input["projectName"], input["runName"]
        )
        files = []
        for name in input["files"]:
            path = f"/storage/runfile/{run['id']}/{name}"
            files.append({"name": name, "uploadUrl": self.ctx.signed_url("PUT", path)})
        return {"runID": encode_id("Run", run["id"]), "uploadHeaders": [], "files": files}

    # Artifacts -----------------------------------------------------------------------------------

    def createArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        names = input.get("artifactCollectionNames") or []
        collection = input.get("artifactCollectionName") or (names[0] if names else None)
        if not collection:
            raise StoreError("createArtifact needs artifactCollectionName")
        _check(_NAME, collection, "artifact name")
        _check(_TYPE_NAME, input["artifactTypeName"], "artifact type")
        _check(_NAME, input["projectName"], "project name")
        aliases = [
            _check_alias(alias["alias"])
            for alias in input.get("aliases") or []
            if alias["artifactCollectionName"] == collection
        ]
        row = self.ctx.store.create_artifact(
            entity=input["entityName"],
            project=input["projectName"],
            type_name=input["artifactTypeName"],
            collection_name=collection,
            digest=input["digest"],
            digest_algorithm=input["digestAlgorithm"],
            run_name=input.get("runName"),
            description=input.get("description"),
            metadata=_check_metadata(input.get("metadata")),
            ttl_seconds=_ttl_to_db(input.get("ttlDurationSeconds")),
            history_step=input.get("historyStep"),
            aliases=aliases,
            tags=[_check(_TAG, tag["tagName"], "tag") for tag in input.get("tags") or []],
            client_id=input.get("clientID"),
            dedup=bool(input.get("enableDigestDeduplication")),
        )
        return {"artifact": ArtifactNode(self.ctx, row)}

    def createArtifactManifest(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        base = input.get("baseArtifactID")
        row = self.ctx.store.upsert_manifest(
            decode_id(input["artifactID"], "Artifact"),
            name=input["name"],
            digest=input["digest"],
            manifest_type=input.get("type") or "FULL",
            base_artifact_id=decode_id(base, "Artifact") if base else None,
        )
        return {"artifactManifest": ManifestNode(self.ctx, row, with_upload=True)}

    def updateArtifactManifest(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        current = self.ctx.store.get(
            "manifests", decode_id(input["artifactManifestID"], "ArtifactManifest")
        )
        if current is None:
            raise NotFound("artifact manifest not found")
        base = input.get("baseArtifactID")
        row = self.ctx.store.upsert_manifest(
            current["artifact_id"],
            name=current["name"],
            digest=input.get("digest") or current["digest"],
            manifest_type=current["type"],
            base_artifact_id=decode_id(base, "Artifact") if base else current["base_artifact_id"],
        )
        return {"artifactManifest": ManifestNode(self.ctx, row, with_upload=True)}

    def createArtifactFiles(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        nodes = []
        # With ARTIFACT_DIGEST_ALGORITHM the SDK names each file's digest too; this server
        # keeps files by md5, which is the digest of MANIFEST_MD5 manifests.
        if input.get("digestAlgorithm") not in (None, "MANIFEST_MD5"):
            raise InvalidInputError("this server stores files by md5 only (MANIFEST_MD5)")
        for spec in input["artifactFiles"]:
            if spec.get("digest") not in (None, spec["md5"]):
                raise InvalidInputError(f"{spec['name']}: digest and md5 differ")
            artifact = store.require_artifact(decode_id(spec["artifactID"], "Artifact"))
            md5_hex = _md5_hex(spec["md5"])
            blob = store.blob(md5_hex)
            node: dict[str, Any] = {
                "name": spec["name"],
                "displayName": spec["name"],
                "storagePath": blobs.object_key(md5_hex),
                "md5": spec["md5"],
                "digest": spec["md5"],
                "uploadUrl": None,
                "uploadHeaders": [],
                "uploadMultipartUrls": None,
            }
            birth = artifact
            if blob is not None:
                birth = store.get("artifacts", blob["birth_artifact_id"] or artifact["id"])
            else:
                node["uploadUrl"] = self.ctx.signed_url("PUT", f"/storage/obj/{md5_hex}")
                node["uploadHeaders"] = [f"Content-MD5:{spec['md5']}"]
                parts = spec.get("uploadPartsInput")
                if parts:
                    node["uploadMultipartUrls"] = self._begin_multipart(artifact, md5_hex, parts)
            node["id"] = encode_id("File", 0)
            node["artifact"] = ArtifactNode(self.ctx, birth)
            nodes.append(node)
        edges = [{"node": node, "cursor": encode_cursor(i)} for i, node in enumerate(nodes)]
        return {
            "files": {
                "totalCount": len(nodes),
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
                "edges": edges,
            }
        }

    def _begin_multipart(
        self, artifact: sqlite3.Row, md5_hex: str, parts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        upload_id = secrets.token_hex(16)
        self.ctx.store.begin_multipart(upload_id, md5_hex, artifact["id"], json.dumps(parts))
        return {
            "uploadID": upload_id,
            "uploadUrlParts": [
                {
                    "partNumber": part["partNumber"],
                    "uploadUrl": self.ctx.signed_url(
                        "PUT", f"/storage/part/{upload_id}/{part['partNumber']}"
                    ),
                }
                for part in parts
            ],
        }

    def completeMultipartUploadArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        from .files import complete_multipart

        md5_hex = complete_multipart(self.ctx, input["uploadID"], input["completedParts"])
        return {"digest": hex_to_b64(md5_hex)}

    def commitArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        artifact_id = decode_id(input["artifactID"], "Artifact")
        artifact = store.require_artifact(artifact_id)
        if artifact["state"] == "COMMITTED":
            return {"artifact": ArtifactNode(self.ctx, artifact)}
        manifest = store.manifest_of(artifact_id)
        if manifest is None or not manifest["uploaded"]:
            raise StoreError("upload the artifact's manifest before committing it")
        with self.ctx.blobs.open(blobs.manifest_key(artifact_id)) as file:
            data = file.read()
        try:
            manifest = Manifest.from_bytes(data)
        except InvalidInputError as exc:
            raise StoreError(f"the uploaded manifest is invalid: {exc}") from exc
        digest = manifest.digest()
        if digest != artifact["digest"]:
            raise StoreError(
                f"the manifest's digest {digest} differs from the artifact's {artifact['digest']}"
            )
        files = []
        for entry in manifest:
            birth = entry.birth_artifact_id
            birth_id = decode_id(birth, "Artifact") if birth else None
            if entry.ref is None:
                md5_hex = _md5_hex(entry.digest)
                blob = store.blob(md5_hex)
                if blob is None or blob["size"] != entry.size:
                    raise StoreError(
                        f"file {entry.path!r} was not uploaded: upload its bytes, then commit"
                    )
                birth_id = birth_id or blob["birth_artifact_id"] or artifact_id
                if blob["birth_artifact_id"] is None:
                    with store.write() as db:
                        db.execute(
                            "UPDATE blobs SET birth_artifact_id = ? WHERE md5 = ?",
                            (birth_id, md5_hex),
                        )
                files.append((entry.path, md5_hex, entry.size, None, birth_id))
            else:
                files.append((entry.path, None, entry.size or 0, entry.ref, birth_id))
        row = store.commit_artifact(artifact_id, files)
        return {"artifact": ArtifactNode(self.ctx, row)}

    def useArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        artifact = store.require_artifact(decode_id(input["artifactID"], "Artifact"))
        run, _ = store.upsert_run(input["entityName"], input["projectName"], input["runName"], {})
        store.use_artifact(run["id"], artifact["id"], input.get("usedAs"))
        return {"artifact": ArtifactNode(self.ctx, artifact)}

    def updateArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        artifact_id = decode_id(input["artifactID"], "Artifact")
        with store.write():
            columns: dict[str, Any] = {}
            if input.get("description") is not None:
                columns["description"] = input["description"]
            if input.get("metadata") is not None:
                columns["metadata"] = _check_metadata(input["metadata"])
            if input.get("ttlDurationSeconds") is not None:
                columns["ttl_seconds"] = _ttl_to_db(input["ttlDurationSeconds"])
            store.update_artifact(artifact_id, **columns)
            if input.get("aliases") is not None:
                store.replace_custom_aliases(
                    artifact_id, [_check_alias(a["alias"]) for a in input["aliases"]]
                )
            store.add_artifact_tags(
                artifact_id,
                [_check(_TAG, t["tagName"], "tag") for t in input.get("tagsToAdd") or []],
            )
            store.delete_artifact_tags(
                artifact_id, [t["tagName"] for t in input.get("tagsToDelete") or []]
            )
        return {"artifact": ArtifactNode(self.ctx, store.get("artifacts", artifact_id))}

    def _alias_targets(self, input: dict[str, Any]) -> tuple[int, dict[int, list[str]]]:
        """The artifact and, per collection, the aliases an Add/DeleteAliases input names."""
        store = self.ctx.store
        artifact_id = decode_id(input["artifactID"], "Artifact")
        store.require_artifact(artifact_id)
        by_collection: dict[int, list[str]] = {}
        for alias in input["aliases"]:
            project = store.find_project(alias["entityName"], alias["projectName"])
            collection = project and store.find_collection(
                project["id"], alias["artifactCollectionName"]
            )
            if not collection or not store.membership(collection["id"], artifact_id):
                raise NotFound(
                    f"the artifact is not in collection {alias['entityName']}/"
                    f"{alias['projectName']}/{alias['artifactCollectionName']}"
                )
            by_collection.setdefault(collection["id"], []).append(_check_alias(alias["alias"]))
        return artifact_id, by_collection

    def addAliases(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        with self.ctx.store.write():
            artifact_id, by_collection = self._alias_targets(input)
            for collection_id, aliases in by_collection.items():
                self.ctx.store.add_aliases(artifact_id, collection_id, aliases)
        return {"success": True}

    def deleteAliases(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        with self.ctx.store.write():
            artifact_id, by_collection = self._alias_targets(input)
            for collection_id, aliases in by_collection.items():
                self.ctx.store.delete_aliases(artifact_id, collection_id, aliases)
        return {"success": True}

    def deleteArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        row = self.ctx.store.delete_artifact(
            decode_id(input["artifactID"], "Artifact"), bool(input.get("deleteAliases"))
        )
        return {"artifact": ArtifactNode(self.ctx, row)}

    def linkArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        if not input.get("artifactID"):
            raise StoreError("linkArtifact needs artifactID")
        artifact_id = decode_id(input["artifactID"], "Artifact")
        if input.get("artifactPortfolioID"):
            portfolio = store.get(
                "collections", decode_id(input["artifactPortfolioID"], "ArtifactPortfolio")
            )
            if portfolio is None:
                raise NotFound("no such portfolio")
            project = store.get("projects", portfolio["project_id"])
            entity = store.get("entities", project["entity_id"])["name"]
            target = (entity, project["name"], portfolio["name"])
        else:
            names = [input.get(k) for k in ("entityName", "projectName", "artifactPortfolioName")]
            if not all(names):
                raise StoreError(
                    "linkArtifact needs artifactPortfolioID, or entityName, projectName and "
                    "artifactPortfolioName"
                )
            target = (
                names[0],
                _check(_NAME, names[1], "project name"),
                _check(_NAME, names[2], "portfolio name"),
            )
        aliases = [_check_alias(a["alias"]) for a in input.get("aliases") or []]
        membership = store.link_artifact(artifact_id, *target, aliases)
        collection = store.get("collections", membership["collection_id"])
        return {
            "versionIndex": membership["version_index"],
            "artifactMembership": MembershipNode(self.ctx, membership, collection),
        }

    def _collection(self, global_id: str, kind: str = "ArtifactSequence") -> sqlite3.Row:
        row = self.ctx.store.get("collections", decode_id(global_id, kind))
        if row is None or row["state"] != "READY":
            raise NotFound("artifact collection not found")
        return row

    def _update_collection(self, collection: sqlite3.Row, input: dict[str, Any]) -> dict[str, Any]:
        columns = {}
        if input.get("name"):
            columns["name"] = _check(_NAME, input["name"], "collection name")
        if input.get("description") is not None:
            columns["description"] = input["description"]
        row = self.ctx.store.update_collection(collection["id"], **columns)
        return {"artifactCollection": CollectionNode(self.ctx, row)}

    def updateArtifactSequence(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        return self._update_collection(self._collection(input["artifactSequenceID"]), input)

    def updateArtifactPortfolio(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        portfolio = self._collection(input["artifactPortfolioID"], "ArtifactPortfolio")
        return self._update_collection(portfolio, input)

    def moveArtifactSequence(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        collection = self._collection(input["artifactSequenceID"])
        type_name = _check(_TYPE_NAME, input["destinationArtifactTypeName"], "artifact type")
        row = self.ctx.store.move_collection(collection["id"], type_name)
        return {"artifactCollection": CollectionNode(self.ctx, row)}

    def deleteArtifactSequence(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        collection = self._collection(input["artifactSequenceID"])
        row = self.ctx.store.delete_collection(collection["id"])
        return {"artifactCollection": CollectionNode(self.ctx, row)}

    def deleteArtifactPortfolio(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        portfolio = self._collection(input["artifactPortfolioID"], "ArtifactPortfolio")
        row = self.ctx.store.delete_collection(portfolio["id"])
        return {"artifactCollection": CollectionNode(self.ctx, row)}

    def _named_collection(self, input: dict[str, Any]) -> sqlite3.Row:
        project = self.ctx.store.find_project(input["entityName"], input["projectName"])
        collection = project and self.ctx.store.find_collection(
            project["id"], input["artifactCollectionName"]
        )
        if not collection:
            raise NotFound(f"collection {input['artifactCollectionName']} not found")
        return collection

    def createArtifactCollectionTagAssignments(  # noqa: N802
        self,
        info: Any,
        input: dict[str, Any],  # noqa: A002
    ) -> dict[str, Any]:
        collection = self._named_collection(input)
        tags = [_check(_TAG, tag["tagName"], "tag") for tag in input["tags"]]
        self.ctx.store.add_collection_tags(collection["id"], tags)
        rows = self.ctx.store.collection_tags(collection["id"])
        return {"tags": [TagNode(row) for row in rows if row["name"] in tags]}

    def deleteArtifactCollectionTagAssignments(  # noqa: N802
        self,
        info: Any,
        input: dict[str, Any],  # noqa: A002
    ) -> dict[str, Any]:
        collection = self._named_collection(input)
        self.ctx.store.delete_collection_tags(
            collection["id"], [tag["tagName"] for tag in input["tags"]]
        )
        return {"success": True}

    def unlinkArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        self.ctx.store.unlink_artifact(
            decode_id(input["artifactID"], "Artifact"),
            decode_id(input["artifactPortfolioID"], "ArtifactPortfolio", "ArtifactCollection"),
        )
        return {"success": True, "artifactID": input["artifactID"]}


__all__ = ["FEATURES", "Context", "Root", "load_schema"]
