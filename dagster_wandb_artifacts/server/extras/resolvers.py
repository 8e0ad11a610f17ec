"""Sweeps, reports, custom charts and Launch queues over GraphQL (see
:mod:`..store.workspace`).

Stored and served so the SDK's calls succeed; nothing runs: ``pushToRunQueue`` (launching a
job) is refused, and sweep agents find no ``createAgent``.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import yaml
from graphql import GraphQLSchema

from ...formats.names import NAME
from ..ids import decode_id, encode_id
from ..resolvers.common import Context, check, positional_page
from ..resolvers.runs import EntityNode, ProjectNode
from ..store import NotFound, StoreError
from ..store.workspace import Workspace

LAUNCH_UNSUPPORTED = (
    "Launch is not supported by this server: run queues are stored, but nothing is ever "
    "launched from them"
)


def _workspace(ctx: Context) -> Workspace:
    return Workspace(ctx.store)


def _project(ctx: Context, entity: str | None, project: str | None) -> sqlite3.Row:
    check(NAME, project or "", "project name")
    ctx.access.write_named(entity or ctx.entity, project or "")
    return ctx.store.ensure_project(entity or ctx.entity, project or "")


def _entity_config(ctx: Context, project: sqlite3.Row, config_id: str) -> int:
    """A resource config of the project's own entity (another's answers as a missing one)."""
    row = ctx.store.get("resource_configs", decode_id(config_id, "DefaultResourceConfig"))
    if row is None or row["entity_id"] != project["entity_id"]:
        raise NotFound(f"resource config {config_id} not found")
    return row["id"]


def _sweep_method(config: str | None) -> str | None:
    try:
        parsed = yaml.safe_load(config or "") or {}
    except yaml.YAMLError as exc:
        raise StoreError("a sweep's config must be YAML or JSON") from exc
    return parsed.get("method") if isinstance(parsed, dict) else None


class SweepNode:
    def __init__(self, ctx: Context, row: sqlite3.Row) -> None:
        self.ctx = ctx
        self.row = row
        self.id = encode_id("Sweep", row["id"])
        self.name = row["name"]
        self.displayName = row["display_name"] or row["name"]  # noqa: N815
        self.method = row["method"]
        self.state = row["state"]
        self.description = row["description"]
        self.bestLoss = None  # noqa: N815
        self.config = row["config"]
        self.createdAt = row["created_at"]  # noqa: N815
        self.updatedAt = row["updated_at"]  # noqa: N815
        self.runCountExpected = None  # noqa: N815

    @property
    def runCount(self) -> int:  # noqa: N802
        return _workspace(self.ctx).run_count(self.row)

    @property
    def project(self) -> ProjectNode | None:
        row = self.ctx.access.project(self.row["project_id"])
        return ProjectNode(self.ctx, row) if row else None


def _view(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": encode_id("View", row["id"]),
        "name": row["name"],
        "displayName": row["display_name"],
        "description": row["description"],
        "type": row["type"],
        "user": {"username": row["author"], "photoUrl": None, "email": None, "id": "", "name": ""},
        "spec": row["spec"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def _queue(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    config_id = row["resource_config_id"]
    return {
        "id": encode_id("RunQueue", row["id"]),
        "name": row["name"],
        "access": row["access"],
        "defaultResourceConfigID": encode_id("DefaultResourceConfig", config_id)
        if config_id
        else None,
        "prioritizationMode": row["prioritization_mode"],
        "externalLinks": row["external_links"] or "{}",
        "runQueueItems": {
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
            "edges": [],
        },
    }


class WorkspaceMutations:
    ctx: Context

    def upsertSweep(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        workspace = _workspace(self.ctx)
        fields = {
            "display_name": input.get("displayName"),
            "description": input.get("description"),
            "config": input.get("config"),
            "method": _sweep_method(input.get("config")) if input.get("config") else None,
            "state": input.get("state"),
        }
        if input.get("id"):
            sweep_id = workspace.upsert_sweep(
                self.ctx.access, None, decode_id(input["id"], "Sweep"), **fields
            )
            inserted = False
        else:
            project = _project(self.ctx, input.get("entityName"), input.get("projectName"))
            sweep_id = workspace.upsert_sweep(self.ctx.access, project["id"], None, **fields)
            inserted = True
        row = self.ctx.store.get("sweeps", sweep_id)
        return {
            "sweep": SweepNode(self.ctx, row),
            "inserted": inserted,
            "configValidationWarnings": [],
        }

    def upsertView(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project = _project(self.ctx, input.get("entityName"), input.get("projectName"))
        viewer = getattr(self.ctx, "viewer", None)
        given = decode_id(input["id"], "View") if input.get("id") else None
        view_id = _workspace(self.ctx).upsert_view(
            project["id"],
            given,
            name=input.get("name"),
            display_name=input.get("displayName"),
            description=input.get("description"),
            type=input.get("type"),
            spec=input.get("spec"),
            author=viewer.username if viewer else self.ctx.entity,
        )
        row = self.ctx.store.get("views", view_id)
        return {"view": _view(self.ctx, row), "inserted": view_id != given}

    def createCustomChart(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        entity = self.ctx.access.write_entity(input["entity"])
        name = check(NAME, input["name"], "chart name")
        json.loads(input["spec"])
        _workspace(self.ctx).create_chart(
            entity["id"],
            name=name,
            display_name=input["displayName"],
            type=input["type"],
            access=input["access"],
            spec=input["spec"],
        )
        # W&B names a chart by its path, which is what plot_table's vega_spec_name takes.
        return {"chart": {"id": f"{entity['name']}/{name}", "name": name}}

    def createDefaultResourceConfig(  # noqa: N802
        self,
        info: Any,
        input: dict[str, Any],  # noqa: A002
    ) -> dict[str, Any]:
        entity = self.ctx.access.write_entity(input["entityName"])
        config_id = _workspace(self.ctx).create_resource_config(
            entity["id"], input["resource"], input["config"], input.get("templateVariables")
        )
        return {
            "defaultResourceConfigID": encode_id("DefaultResourceConfig", config_id),
            "success": True,
        }

    def createRunQueue(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project = _project(self.ctx, input["entityName"], input["projectName"])
        config = input.get("defaultResourceConfigID")
        queue_id = _workspace(self.ctx).upsert_queue(
            project["id"],
            check(NAME, input["queueName"], "queue name"),
            access=input["access"],
            prioritization_mode=input.get("prioritizationMode"),
            resource_config_id=_entity_config(self.ctx, project, config) if config else None,
        )
        return {"success": True, "queueID": encode_id("RunQueue", queue_id)}

    def upsertRunQueue(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project = _project(self.ctx, input["entityName"], input["projectName"])
        workspace = _workspace(self.ctx)
        config_id = workspace.create_resource_config(
            project["entity_id"],
            input["resourceType"],
            input["resourceConfig"],
            input.get("templateVariables"),
        )
        workspace.upsert_queue(
            project["id"],
            check(NAME, input["queueName"], "queue name"),
            prioritization_mode=input.get("prioritizationMode"),
            resource_config_id=config_id,
            external_links=input.get("externalLinks"),
        )
        return {"success": True, "configSchemaValidationErrors": []}

    def deleteRunQueues(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        ids = [decode_id(queue_id, "RunQueue") for queue_id in input["queueIDs"]]
        _workspace(self.ctx).delete_queues(self.ctx.access, ids)
        return {"success": True}

    def pushToRunQueue(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        raise StoreError(LAUNCH_UNSUPPORTED)

    def deleteFromRunQueue(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        # Enqueueing is refused, so a queue never holds the item.
        decode_id(input["queueID"], "RunQueue")
        raise NotFound(f"run queue item {input['runQueueItemId']!r} not found")


# Fields on other domains' types ----------------------------------------------------------------


def _sweep(project: ProjectNode, info: Any, sweepName: str) -> SweepNode | None:  # noqa: N803
    row = _workspace(project.ctx).sweep(project.row["id"], sweepName)
    return SweepNode(project.ctx, row) if row else None


def _sweeps(
    project: ProjectNode,
    info: Any,
    after: str | None = None,
    first: int | None = None,
    filters: str | None = None,
) -> dict[str, Any]:
    rows = _workspace(project.ctx).sweeps(project.row["id"])
    return positional_page(rows, lambda row: SweepNode(project.ctx, row), after=after, first=first)


def _total_sweeps(project: ProjectNode, info: Any) -> int:
    return len(_workspace(project.ctx).sweeps(project.row["id"]))


def _all_views(
    project: ProjectNode,
    info: Any,
    viewType: str | None = None,  # noqa: N803
    viewName: str | None = None,  # noqa: N803
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    rows = _workspace(project.ctx).views(project.row["id"], viewType, viewName)
    return positional_page(rows, lambda row: _view(project.ctx, row), after=after, first=first)


def _run_queue(project: ProjectNode, info: Any, name: str) -> dict[str, Any] | None:
    row = _workspace(project.ctx).queue(project.row["id"], name)
    return _queue(project.ctx, row) if row else None


def _run_queues(project: ProjectNode, info: Any) -> list[dict[str, Any]]:
    rows = _workspace(project.ctx).queues(project.row["id"])
    return [_queue(project.ctx, row) for row in rows]


def _resource_config(entity: EntityNode, info: Any, id: str) -> dict[str, Any]:  # noqa: A002
    row = entity.ctx.store.get("resource_configs", decode_id(id, "DefaultResourceConfig"))
    if row is None or row["entity_id"] != entity.row["id"]:
        raise NotFound(f"no resource config {id} in {entity.name}")
    variables = json.loads(row["template_variables"] or "{}")
    return {
        "id": id,
        "resource": row["resource"],
        "config": json.loads(row["config"]),
        "templateVariables": [
            {"name": name, "schema": json.dumps(schema)} for name, schema in variables.items()
        ],
    }


def bind(schema: GraphQLSchema) -> None:
    project = schema.type_map["Project"].fields  # type: ignore[union-attr]
    project["sweep"].resolve = _sweep
    project["sweeps"].resolve = _sweeps
    project["totalSweeps"].resolve = _total_sweeps
    project["allViews"].resolve = _all_views
    project["runQueue"].resolve = _run_queue
    project["runQueues"].resolve = _run_queues
    entity = schema.type_map["Entity"].fields  # type: ignore[union-attr]
    entity["defaultResourceConfig"].resolve = _resource_config
