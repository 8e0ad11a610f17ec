"""Automations over GraphQL: W&B's triggers, integrations and team secrets.

The fields that extend Entity, Project and User are bound onto the schema by :func:`bind`
(so the node classes of other domains stay as they are); the mutations are mixed into
``Root`` by :class:`AutomationMutations`.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLSchema

from ...formats.names import TAG
from ..automations import AutomationTables, events
from ..automations.egress import EgressPolicy, TargetRefused
from ..ids import decode_id, encode_id
from ..store import NotFound, StoreError
from ..store.accounts import Accounts, PermissionDenied
from .artifacts import CollectionNode
from .common import Context, InvalidRequest, check, positional_page
from .runs import EntityNode, ProjectNode

#: The events this server runs automations on (the run events would never fire here: the
#: server does not evaluate run metrics or states).
SUPPORTED_EVENTS = frozenset(
    {
        events.CREATE_ARTIFACT,
        events.ADD_ARTIFACT_ALIAS,
        events.LINK_MODEL,
        events.UNLINK_ARTIFACT,
        events.ADD_ARTIFACT_TAG,
        events.REMOVE_ARTIFACT_TAG,
        events.ADD_COLLECTION_TAG,
        events.REMOVE_COLLECTION_TAG,
    }
)
SUPPORTED_ACTIONS = {
    "GENERIC_WEBHOOK": ("genericWebhookActionInput", "GenericWebhookIntegration"),
    "NOTIFICATION": ("notificationActionInput", "SlackIntegration"),
    "NO_OP": ("noOpActionInput", None),
}
_COLLECTION_IDS = ("ArtifactSequence", "ArtifactPortfolio", "ArtifactCollection")
MAX_TRIGGER_NAME = 255
MAX_PAYLOAD = 64 * 1024
MAX_DELIVERIES = 100


def _tables(ctx: Context) -> AutomationTables:
    return AutomationTables(ctx.store)


def _require_admin(ctx: Context, entity_id: int, what: str) -> None:
    """Only an entity's admins manage its integrations, secrets and automations (W&B's
    roles): the server's administrator, a user on its personal entity, a team's admins."""
    if not _tables(ctx).is_entity_admin(ctx.viewer, entity_id):
        entity = ctx.store.get("entities", entity_id)
        name = entity["name"] if entity is not None else entity_id
        raise PermissionDenied(f"permission denied: only the admins of {name!r} may {what}")


def _admin_entity_id(ctx: Context, entity: str, what: str) -> int:
    """The ID of an entity the viewer administers (refused alike when it does not exist,
    so that names cannot be probed)."""
    entity_id = _tables(ctx).entity_id(entity)
    if entity_id is None:
        if ctx.viewer is not None and not ctx.viewer.admin:
            raise PermissionDenied(f"permission denied: only the admins of {entity!r} may {what}")
        entity_id = ctx.store.ensure_entity(entity)["id"]
    _require_admin(ctx, entity_id, what)
    return entity_id


class _ScopeEntity(EntityNode):
    """An entity as an automation's scope (a team's, or the organization's, whose
    ``entityType`` the SDK reads to tell them apart)."""

    @property
    def entityType(self) -> str:  # noqa: N802
        return "organization" if self.row["name"] == self.ctx.entity else super().entityType


def _integration_node(row: sqlite3.Row) -> dict[str, Any]:
    node = {"__typename": row["kind"], "id": encode_id("Integration", row["id"])}
    node["createdAt"] = row["created_at"]
    if row["kind"] == "SlackIntegration":
        return {**node, "teamName": row["team_name"], "channelName": row["channel_name"]}
    return {
        **node,
        "name": row["name"],
        "urlEndpoint": row["url"],
        "secretRef": row["secret_ref"],
        "accessTokenRef": row["access_token_ref"],
    }


class TriggerNode:
    def __init__(self, ctx: Context, row: sqlite3.Row) -> None:
        self.ctx = ctx
        self.row = row
        self.id = encode_id("Trigger", row["id"])
        self.name = row["name"]
        self.description = row["description"]
        self.enabled = bool(row["enabled"])
        self.createdAt = row["created_at"]  # noqa: N815
        self.updatedAt = row["updated_at"]  # noqa: N815

    @property
    def scope(self) -> Any:
        store = self.ctx.store
        if self.row["scope_type"] == "PROJECT":
            return ProjectNode(self.ctx, store.get("projects", self.row["scope_id"]))
        if self.row["scope_type"] == "ENTITY":
            return _ScopeEntity(self.ctx, store.get("entities", self.row["scope_id"]))
        return CollectionNode(self.ctx, store.get("collections", self.row["scope_id"]))

    @property
    def triggeringCondition(self) -> dict[str, Any]:  # noqa: N802
        return {
            "__typename": "FilterEventTriggeringCondition",
            "eventType": self.row["event_type"],
            # Saved automations wrap the filter they were created with in a "filter" key.
            "filter": json.dumps({"filter": self.row["event_filter"]}),
        }

    def deliveries(self, info: Any, first: int | None = None) -> list[dict[str, Any]]:
        _require_admin(self.ctx, self.row["entity_id"], "read its automations' deliveries")
        limit = min(max(first or MAX_DELIVERIES, 0), MAX_DELIVERIES)
        return [
            {
                "id": encode_id("TriggerDelivery", row["id"]),
                "eventType": row["event_type"],
                "status": row["status"],
                "attempts": row["attempts"],
                "responseStatus": row["response_status"],
                "error": row["error"],
                "url": row["url"],
                "payload": row["payload"],
                "createdAt": row["created_at"],
                "finishedAt": row["finished_at"],
            }
            for row in _tables(self.ctx).deliveries_of([self.row["id"]], limit)
        ]

    @property
    def triggeredAction(self) -> dict[str, Any]:  # noqa: N802
        action = json.loads(self.row["action"])
        kind = self.row["action_type"]
        if kind == "NO_OP":
            return {"__typename": "NoOpTriggeredAction", "noOp": True}
        integration = _integration_node(_tables(self.ctx).integration(action["integration_id"]))
        if kind == "GENERIC_WEBHOOK":
            return {
                "__typename": "GenericWebhookTriggeredAction",
                "integration": integration,
                "requestPayload": action.get("request_payload"),
            }
        return {
            "__typename": "NotificationTriggeredAction",
            "integration": integration,
            "title": action.get("title"),
            "message": action.get("message"),
            "severity": action.get("severity"),
        }


def _scope(ctx: Context, scope_type: str, scope_id: str) -> tuple[int, int]:
    """(row id, entity id) of an automation's scope."""
    store = ctx.store
    if scope_type == "PROJECT":
        project = ctx.access.project(decode_id(scope_id, "Project"))
        if project is None:
            raise NotFound("no such project")
        return project["id"], project["entity_id"]
    if scope_type == "ARTIFACT_COLLECTION":
        collection = ctx.access.collection(decode_id(scope_id, *_COLLECTION_IDS))
        if collection is None:
            raise NotFound("no such artifact collection")
        return collection["id"], store.get("projects", collection["project_id"])["entity_id"]
    if scope_type == "ENTITY":
        entity = store.get("entities", decode_id(scope_id, "Entity"))
        if entity is None:
            raise NotFound("no such entity")
        if entity["name"] != ctx.entity and not Accounts(store, ctx.entity).is_team(entity["id"]):
            # As on W&B (the SDK reads an entity scope as a team's or an organization's).
            raise InvalidRequest("an automation's entity scope must be a team or the organization")
        return entity["id"], entity["id"]
    raise StoreError(f"this server has no automation scope {scope_type}")


def _action(ctx: Context, action_type: str, config: dict[str, Any], entity_id: int) -> dict:
    if action_type not in SUPPORTED_ACTIONS:
        raise StoreError(
            f"this server cannot run {action_type} actions: use GENERIC_WEBHOOK, "
            "NOTIFICATION or NO_OP"
        )
    key, integration_kind = SUPPORTED_ACTIONS[action_type]
    given = (config or {}).get(key)
    if given is None:
        raise StoreError(f"a {action_type} action needs triggeredActionConfig.{key}")
    if integration_kind is None:
        return {"no_op": True}
    integration = _tables(ctx).integration(decode_id(given["integrationID"], "Integration"))
    if integration["kind"] != integration_kind or integration["entity_id"] != entity_id:
        raise StoreError(
            f"integration {given['integrationID']} is not a {integration_kind} of "
            "the automation's entity"
        )
    if action_type == "GENERIC_WEBHOOK":
        request_payload = given.get("requestPayload")
        if request_payload is not None and len(request_payload) > MAX_PAYLOAD:
            raise StoreError(f"the payload template exceeds {MAX_PAYLOAD} characters")
        return {"integration_id": integration["id"], "request_payload": request_payload}
    return {
        "integration_id": integration["id"],
        **{k: given.get(k) for k in ("title", "message", "severity")},
    }


def _event(event_type: str, event_filter: str) -> tuple[str, str]:
    if event_type not in SUPPORTED_EVENTS:
        raise StoreError(
            f"this server runs automations on artifact events only "
            f"({', '.join(sorted(SUPPORTED_EVENTS))}), not {event_type}"
        )
    try:
        json.loads(event_filter)
    except ValueError as exc:
        raise StoreError("eventFilter must be JSON") from exc
    return event_type, event_filter


def _name(name: str) -> str:
    if not name or len(name) > MAX_TRIGGER_NAME:
        raise StoreError(f"an automation's name has 1 to {MAX_TRIGGER_NAME} characters")
    return name


def _webhook_url(url: str, policy: EgressPolicy) -> str:
    """The URL, when the server may send to it now (it is checked again at each delivery)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StoreError(f"a webhook's URL must be http(s)://host/..., not {url!r}")
    try:
        policy.check(url)
    except TargetRefused as exc:
        raise StoreError(f"the server may not send webhooks to {url!r}: {exc}") from exc
    return url


class AutomationMutations:
    """Mutation fields of automations, integrations and secrets."""

    ctx: Context

    def createFilterTrigger(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        scope_id, entity_id = _scope(self.ctx, input["scopeType"], input["scopeID"])
        _require_admin(self.ctx, entity_id, "create its automations")
        event_type, event_filter = _event(input["triggeringEventType"], input["eventFilter"])
        fields = {
            "name": _name(input["name"]),
            "description": input.get("description"),
            "enabled": input["enabled"],
            "scope_type": input["scopeType"],
            "scope_id": scope_id,
            "event_type": event_type,
            "event_filter": event_filter,
            "action_type": input["triggeredActionType"],
            "action": _action(
                self.ctx,
                input["triggeredActionType"],
                input["triggeredActionConfig"],
                entity_id,
            ),
        }
        row = _tables(self.ctx).create_trigger(entity_id, fields)
        return {"trigger": TriggerNode(self.ctx, row)}

    def updateFilterTrigger(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        tables = _tables(self.ctx)
        current = tables.trigger(decode_id(input["id"], "Trigger"))
        _require_admin(self.ctx, current["entity_id"], "change its automations")
        fields: dict[str, Any] = {}
        if input.get("name") is not None:
            fields["name"] = _name(input["name"])
        for key, column in (("description", "description"), ("enabled", "enabled")):
            if input.get(key) is not None:
                fields[column] = input[key]
        entity_id = current["entity_id"]
        if input.get("scopeType") and input.get("scopeID"):
            fields["scope_id"], entity_id = _scope(self.ctx, input["scopeType"], input["scopeID"])
            fields["scope_type"] = input["scopeType"]
        if input.get("triggeringEventType") or input.get("eventFilter"):
            fields["event_type"], fields["event_filter"] = _event(
                input.get("triggeringEventType") or current["event_type"],
                input.get("eventFilter") or current["event_filter"],
            )
        if input.get("triggeredActionType") and input.get("triggeredActionConfig"):
            fields["action_type"] = input["triggeredActionType"]
            fields["action"] = _action(
                self.ctx, input["triggeredActionType"], input["triggeredActionConfig"], entity_id
            )
        if entity_id != current["entity_id"]:
            raise StoreError("an automation cannot move to another entity")
        row = tables.update_trigger(current["id"], fields) if fields else current
        return {"trigger": TriggerNode(self.ctx, row)}

    def deleteTrigger(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        tables = _tables(self.ctx)
        current = tables.trigger(decode_id(input["triggerID"], "Trigger"))
        _require_admin(self.ctx, current["entity_id"], "delete its automations")
        tables.delete_trigger(current["id"])
        return {"success": True}

    def createGenericWebhookIntegration(  # noqa: N802
        self,
        info: Any,
        input: dict[str, Any],  # noqa: A002
    ) -> dict[str, Any]:
        # A webhook makes the server POST to a URL of its creator's choice: as on W&B, only
        # an entity's admins manage its integrations.
        _admin_entity_id(self.ctx, input["entityName"], "add its integrations")
        tables = _tables(self.ctx)
        integration_id = tables.add_integration(
            input["entityName"],
            "GenericWebhookIntegration",
            check(TAG, input["name"], "webhook name"),
            _webhook_url(input["urlEndpoint"], self.ctx.automations.dispatcher.egress),
            secret_ref=input.get("secretRef"),
            access_token_ref=input.get("accessTokenRef"),
        )
        return {"integration": _integration_node(tables.integration(integration_id))}

    def insertSecret(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        entity_id = _admin_entity_id(self.ctx, input["entityName"], "set its secrets")
        name = check(TAG, input["secretName"], "secret name")
        box = self.ctx.automations.dispatcher.box
        if box is None:
            raise StoreError("this server has no secrets key: it cannot keep secrets")
        _tables(self.ctx).set_secret(entity_id, name, box.seal(input["secretValue"]))
        return {"success": True}


# Fields on other domains' types ----------------------------------------------------------------


def _entity_triggers(
    entity: EntityNode,
    info: Any,
    after: str | None = None,
    first: int | None = None,
    order: str | None = None,
    filters: str | None = None,
) -> dict[str, Any]:
    rows = _tables(entity.ctx).triggers_of_entity(entity.name)
    wanted = json.loads(filters) if filters else {}
    if not isinstance(wanted, dict):
        raise StoreError("filters must be a JSON object")
    if "name" in wanted:
        rows = [row for row in rows if row["name"] == wanted["name"]]
    return positional_page(rows, lambda row: TriggerNode(entity.ctx, row), after=after, first=first)


def _entity_integrations(
    entity: EntityNode, info: Any, after: str | None = None, first: int | None = None
) -> dict[str, Any]:
    rows = _tables(entity.ctx).integrations(entity.name)
    return positional_page(rows, _integration_node, after=after, first=first)


def _project_triggers(project: ProjectNode, info: Any) -> list[TriggerNode]:
    rows = _tables(project.ctx).triggers_of_project(project.row["id"])
    return [TriggerNode(project.ctx, row) for row in rows]


def _scope_type(value: Any, *_: Any) -> str:
    if isinstance(value, CollectionNode):
        return value.typename
    return "Project" if isinstance(value, ProjectNode) else "Entity"


def _by_typename(value: Any, *_: Any) -> str:
    return value["__typename"]


def bind(schema: GraphQLSchema) -> None:
    """Attach the resolvers of the fields this module adds to other domains' types."""
    for type_name, field_name, resolver in (
        ("Entity", "triggers", _entity_triggers),
        ("Entity", "integrations", _entity_integrations),
        ("Project", "triggers", _project_triggers),
    ):
        schema.type_map[type_name].fields[field_name].resolve = resolver  # type: ignore[union-attr]
    schema.type_map["TriggerScope"].resolve_type = _scope_type  # type: ignore[union-attr]
    for union in ("TriggeringCondition", "TriggeredAction", "Integration"):
        schema.type_map[union].resolve_type = _by_typename  # type: ignore[union-attr]
