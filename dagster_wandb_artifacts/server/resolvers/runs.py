"""Entities, users, projects and runs, with the queries and mutations on them."""

from __future__ import annotations

import json
import secrets
import sqlite3
from functools import cached_property
from typing import Any

from ...formats.errors import InvalidInputError
from ...formats.names import NAME, TYPE_NAME
from ..filters import RUNS, run_document
from ..ids import decode_id, encode_id
from ..store import listings, registry
from ..store.accounts import Accounts
from . import artifacts
from .common import (
    FEATURES,
    MAX_CLI_VERSION,
    Connection,
    Context,
    Node,
    check,
    check_run_id,
    check_text,
    positional_page,
    searched,
    server_version,
    split_name,
)
from .history import RunHistoryFields


def _organization(ctx: Context) -> dict[str, Any]:
    """The server's one organization; its entity is the default entity."""
    org_entity = ctx.store.ensure_entity(ctx.entity)
    return {
        "id": encode_id("Organization", org_entity["id"]),
        "name": org_entity["name"],
        "orgEntity": EntityNode(ctx, org_entity, registry_view=True),
        "advancedRegistryFeatures": {"advancedSearch": False},
    }


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

    @cached_property
    def isTeam(self) -> bool:  # noqa: N802
        return Accounts(self.ctx.store, self.ctx.entity).is_team(self.row["id"])

    @property
    def entityType(self) -> str:  # noqa: N802
        # The SDK tells an automation's team scope from an organization's by it.
        if self._registry_view:
            return "organization"
        return "team" if self.isTeam else "user"

    @property
    def organization(self) -> dict[str, Any]:
        return _organization(self.ctx)

    @property
    def user(self) -> UserNode:
        return UserNode(self.ctx, organizations=[self.organization])

    def _projects(self, filters: str | None, order: str | None = None) -> list[sqlite3.Row]:
        readable = self.ctx.access.readable_projects
        if self._registry_view:
            return readable(
                searched(
                    lambda: registry.registries(self.ctx.store, self.row["id"], filters, order)
                )
            )
        rows = readable(self.ctx.store.projects_of_entity(self.row["id"]))
        return searched(
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
        row = self.ctx.access.project_named(self.row["name"], name) if name else None
        return ProjectNode(self.ctx, row) if row else None

    def _collections(
        self, project_filters: str | None, filters: str | None, order: str | None, kinds: Any
    ) -> list[sqlite3.Row]:
        projects = self._projects(project_filters)
        return searched(
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
            rows, lambda row: artifacts.CollectionNode(self.ctx, row), after=after, first=first
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
        rows = searched(lambda: registry.versions(self.ctx.store, collections, filters, order))

        def node(row: sqlite3.Row) -> artifacts.MembershipNode:
            membership = self.ctx.store.get("memberships", row["membership_id"])
            return artifacts.MembershipNode(self.ctx, membership, by_id[row["collection_id"]], row)

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
        rows = self.ctx.store.runs_of_project(self.row["id"])
        return searched(
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

    def artifactType(self, info: Any, name: str) -> artifacts.ArtifactTypeNode | None:  # noqa: N802
        row = self.ctx.store.find_type(self.row["id"], name)
        return artifacts.ArtifactTypeNode(self.ctx, row) if row else None

    def artifactTypes(  # noqa: N802
        self,
        info: Any,
        after: str | None = None,
        first: int | None = None,
        includeAll: bool | None = None,  # noqa: N803 - a registry's types are its project's
    ) -> Connection:
        return Connection(
            self.ctx,
            listings.ARTIFACT_TYPES_OF_PROJECT,
            [self.row["id"]],
            lambda row: artifacts.ArtifactTypeNode(self.ctx, row),
            after=after,
            first=first,
        )

    def artifactCollection(self, info: Any, name: str) -> artifacts.CollectionNode | None:  # noqa: N802
        row = self.ctx.store.find_collection(self.row["id"], name)
        return artifacts.CollectionNode(self.ctx, row) if row else None

    def artifactCollections(  # noqa: N802
        self,
        info: Any,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
        collectionTypes: list[str] | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        """The project's collections of every kind unless ``collectionTypes`` says."""
        kinds = collectionTypes or ["SEQUENCE", "PORTFOLIO"]
        rows = searched(
            lambda: registry.collections(self.ctx.store, [self.row], filters, order, kinds)
        )
        return positional_page(
            rows, lambda row: artifacts.CollectionNode(self.ctx, row), after=after, first=first
        )

    # The project's saved workspace views; this server keeps none.
    views = "{}"

    def artifactCollectionMembership(  # noqa: N802
        self, info: Any, name: str
    ) -> artifacts.MembershipNode | None:
        collection_name, alias = split_name(name)
        collection = self.artifactCollection(info, collection_name)
        return collection.artifactMembership(info, alias) if collection else None

    def artifact(self, info: Any, name: str) -> artifacts.ArtifactNode | None:
        membership = self.artifactCollectionMembership(info, name)
        return membership.artifact if membership else None


class RunNode(RunHistoryFields, Node):
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

    # Resuming a run (RunResumeStatus) reads these; this server keeps no logs or events.
    logLineCount = 0  # noqa: N815
    eventsLineCount = 0  # noqa: N815
    eventsTail = "[]"  # noqa: N815
    commit = None
    readOnly = False  # noqa: N815
    systemMetrics = "{}"  # noqa: N815

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
    def project(self) -> ProjectNode | None:
        row = self.ctx.access.project(self.row["project_id"])
        return ProjectNode(self.ctx, row) if row else None

    def outputArtifacts(  # noqa: N802
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection:
        return Connection(
            self.ctx,
            listings.RUN_OUTPUTS,
            [self.row["id"]],
            lambda row: artifacts.ArtifactNode(self.ctx, row),
            after=after,
            first=first,
            visible=lambda row: self.ctx.access.may_read_artifact(row["id"]),
        )

    def inputArtifacts(  # noqa: N802
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection:
        return Connection(
            self.ctx,
            listings.RUN_INPUTS,
            [self.row["id"]],
            lambda row: artifacts.ArtifactNode(self.ctx, row),
            after=after,
            first=first,
            edge_fields=lambda row: {"usedAs": [row["used_as"]] if row["used_as"] else []},
            visible=lambda row: self.ctx.access.may_read_artifact(row["id"]),
        )


class RunQueries:
    """Query and Mutation fields on entities, projects and runs."""

    ctx: Context

    def viewer(self, info: Any) -> UserNode:
        return UserNode(self.ctx)

    def serverInfo(self, info: Any) -> dict[str, Any]:  # noqa: N802
        features = [{"name": name, "isEnabled": True} for name in FEATURES]
        version = server_version()
        return {
            "features": features,
            # SDKs before wandb-core gate client ids (media in tables) and distributed
            # artifacts on the newest SDK the server supports.
            "cliVersionInfo": {"max_cli_version": MAX_CLI_VERSION},
            "latestLocalVersionInfo": {
                "outOfDate": False,
                "latestVersionString": version,
                "versionOnThisInstanceString": version,
            },
        }

    def entity(self, info: Any, name: str | None = None) -> EntityNode | None:
        row = self.ctx.access.entity_named(name or self.ctx.entity)
        return EntityNode(self.ctx, row) if row else None

    def project(
        self,
        info: Any,
        name: str | None = None,
        entityName: str | None = None,  # noqa: N803
    ) -> ProjectNode | None:
        if not name:
            return None
        row = self.ctx.access.project_named(entityName or self.ctx.entity, name)
        return ProjectNode(self.ctx, row) if row else None

    model = project

    def projects(
        self,
        info: Any,
        entityName: str | None = None,  # noqa: N803
        after: str | None = None,
        first: int | None = None,
    ) -> Connection:
        entity = self.ctx.store.find_entity(entityName or self.ctx.entity)
        return Connection(
            self.ctx,
            listings.PROJECTS_OF_ENTITY,
            [entity["id"] if entity else -1],
            lambda row: ProjectNode(self.ctx, row),
            after=after,
            first=first,
            visible=self.ctx.access.may_read_project,
        )

    models = projects

    def organization(self, info: Any, name: str) -> dict[str, Any] | None:
        found = _organization(self.ctx)
        return found if found["name"] == name else None

    def upsertBucket(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        viewer = self.ctx.viewer
        entity = input.get("entityName") or (viewer.default_entity if viewer else self.ctx.entity)
        project = input.get("modelName") or "uncategorized"
        name = input.get("name")
        if input.get("id"):
            existing = self.ctx.access.writable_run(decode_id(input["id"], "Run"))
            project_row = store.get("projects", existing["project_id"])
            entity = store.get("entities", project_row["entity_id"])["name"]
            project, name = project_row["name"], existing["name"]
        name = name or secrets.token_hex(4)
        check_run_id(name)
        check(NAME, project, "project name")
        self.ctx.access.write_named(entity, project)
        tags = input.get("tags")
        row, inserted = store.upsert_run(
            entity,
            project,
            name,
            {
                "display_name": check_text(input.get("displayName"), "display name"),
                "description": check_text(input.get("description"), "description"),
                "notes": check_text(input.get("notes"), "notes"),
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
        name = check(NAME, input.get("name") or "", "project name")
        access = input.get("access")
        if access is not None and access not in registry.VISIBILITIES:
            raise InvalidInputError(
                f"access must be one of {', '.join(registry.VISIBILITIES)}, not {access!r}"
            )
        types = [
            check(TYPE_NAME, spec["name"], "artifact type")
            for spec in input.get("artifactTypes") or []
        ]
        entity = input.get("entityName") or self.ctx.entity
        self.ctx.access.write_named(entity, name)
        self.ctx.access.named_registry(entity, name, "create or change")
        row, inserted = self.ctx.store.upsert_project(
            entity,
            name,
            description=check_text(input.get("description"), "description"),
            access=access,
            allow_all_types=input.get("allowAllArtifactTypesInRegistry"),
            types=types,
        )
        if inserted:
            creator = getattr(self.ctx, "viewer", None)
            self.ctx.store.project_created(row, creator.id if creator else 0, self.ctx.entity)
        node = ProjectNode(self.ctx, row)
        return {"project": node, "model": node, "inserted": inserted}

    def renameProject(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        self.ctx.access.write_named(input["entityName"], input["oldProjectName"])
        self.ctx.access.named_registry(input["entityName"], input["oldProjectName"], "rename")
        row = self.ctx.store.rename_project(
            input["entityName"],
            input["oldProjectName"],
            check(NAME, input["newProjectName"], "project name"),
        )
        node = ProjectNode(self.ctx, row)
        return {"project": node, "model": node, "inserted": False}

    def deleteModel(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project = self.ctx.access.writable_project(decode_id(input["id"], "Project"), "project")
        self.ctx.access.change_registry(project, "delete")
        self.ctx.store.delete_project(project["id"])
        return {"success": True}
