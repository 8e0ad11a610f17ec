"""Automations, named as in ``wandb.automations``: an event in a scope, then an action.

Example::

    hook = next(api.webhook_integrations(entity="team"))
    collection = api.artifact_collection("model", "team/proj/classifier")
    api.create_automation(
        OnAddArtifactAlias(scope=collection, filter=ArtifactEvent.alias.eq("production"))
        >> SendWebhook.from_integration(hook, payload={"version": "${artifact_version_string}"}),
        name="deploy",
    )

Only artifact events exist here (the embedded server runs nothing else); W&B's run events
and Launch actions are not offered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

# Integrations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookIntegration:
    """A webhook endpoint of an entity (``GenericWebhookIntegration``)."""

    id: str
    name: str
    url_endpoint: str


@dataclass(frozen=True)
class SlackIntegration:
    """A Slack channel of an entity."""

    id: str
    team_name: str
    channel_name: str


Integration = WebhookIntegration | SlackIntegration


def integration_from(node: dict[str, Any]) -> Integration:
    if node["__typename"] == "SlackIntegration":
        return SlackIntegration(node["id"], node["teamName"], node["channelName"])
    return WebhookIntegration(node["id"], node["name"], node["urlEndpoint"])


# Scopes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectScope:
    id: str
    name: str
    scope_type: ClassVar[str] = "PROJECT"


@dataclass(frozen=True)
class ArtifactCollectionScope:
    """A collection of logged versions (``ArtifactSequence``) or of links (a Registry
    collection, ``ArtifactPortfolio``)."""

    id: str
    name: str
    scope_type: ClassVar[str] = "ARTIFACT_COLLECTION"


@dataclass(frozen=True)
class EntityScope:
    """A team's or the organization's entity: every collection of its projects."""

    id: str
    name: str
    scope_type: ClassVar[str] = "ENTITY"


Scope = ProjectScope | ArtifactCollectionScope | EntityScope


def scope_of(value: Any) -> Scope:
    """The scope of a project or collection object (ours, the SDK's, or a scope already)."""
    if isinstance(value, (ProjectScope, ArtifactCollectionScope, EntityScope)):
        return value
    # Looked up on the class: a collection's ``aliases`` is a property that queries.
    if hasattr(type(value), "aliases"):
        return ArtifactCollectionScope(value.id, value.name)
    return ProjectScope(value.id, value.name)


def _scope_from(node: dict[str, Any]) -> Scope:
    if node["__typename"] == "Project":
        return ProjectScope(node["id"], node["name"])
    if node["__typename"] == "Entity":
        return EntityScope(node["id"], node["name"])
    return ArtifactCollectionScope(node["id"], node["name"])


# Filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str

    def eq(self, value: Any) -> dict[str, Any]:
        return {self.name: {"$eq": value}}

    def ne(self, value: Any) -> dict[str, Any]:
        return {self.name: {"$ne": value}}

    def in_(self, values: list[Any]) -> dict[str, Any]:
        return {self.name: {"$in": list(values)}}

    def matches_regex(self, pattern: str) -> dict[str, Any]:
        return {self.name: {"$regex": pattern}}


class ArtifactEvent:
    """Fields an artifact event's filter can test."""

    alias = _Field("alias")
    tag = _Field("tag")


def _wrapped(filter: dict[str, Any] | None) -> str:  # noqa: A002 - W&B's name
    """The filter as W&B's UI stores it: ``{"$or": [{"$and": [...]}]}``."""
    return json.dumps({"$or": [{"$and": [filter] if filter else []}]})


# Events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    scope: Any
    filter: dict[str, Any] | None = None
    event_type: ClassVar[str]

    def __rshift__(self, action: Action) -> NewAutomation:
        return NewAutomation(event=self, action=action)

    then = __rshift__


@dataclass(frozen=True)
class OnCreateArtifact(_Event):
    """A new version is committed into the scope's collection(s)."""

    event_type: ClassVar[str] = "CREATE_ARTIFACT"


@dataclass(frozen=True)
class OnAddArtifactAlias(_Event):
    """An alias is pointed at a version."""

    event_type: ClassVar[str] = "ADD_ARTIFACT_ALIAS"


@dataclass(frozen=True)
class OnLinkArtifact(_Event):
    """A version is linked into a portfolio or Registry collection."""

    event_type: ClassVar[str] = "LINK_MODEL"


@dataclass(frozen=True)
class OnUnlinkArtifact(_Event):
    """A version is unlinked from a portfolio or Registry collection."""

    event_type: ClassVar[str] = "UNLINK_ARTIFACT"


@dataclass(frozen=True)
class OnAddArtifactTag(_Event):
    """A tag is added to a version (``ArtifactEvent.tag`` filters on it)."""

    event_type: ClassVar[str] = "ADD_ARTIFACT_TAG"


@dataclass(frozen=True)
class OnRemoveArtifactTag(_Event):
    """A tag is removed from a version."""

    event_type: ClassVar[str] = "REMOVE_ARTIFACT_TAG"


@dataclass(frozen=True)
class OnAddCollectionTag(_Event):
    """A tag is added to a collection."""

    event_type: ClassVar[str] = "ADD_COLLECTION_TAG"


@dataclass(frozen=True)
class OnRemoveCollectionTag(_Event):
    """A tag is removed from a collection."""

    event_type: ClassVar[str] = "REMOVE_COLLECTION_TAG"


@dataclass(frozen=True)
class SavedEvent:
    """The event of a saved automation: its type and filter (W&B's JSON)."""

    event_type: str
    filter: dict[str, Any]


# Actions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendWebhook:
    """POST ``request_payload`` (with W&B's ``${...}`` variables filled in) to a webhook."""

    integration_id: str
    request_payload: dict[str, Any] | None = None
    action_type: ClassVar[str] = "GENERIC_WEBHOOK"

    @classmethod
    def from_integration(
        cls, integration: WebhookIntegration, *, payload: dict[str, Any] | None = None
    ) -> SendWebhook:
        return cls(integration.id, payload)

    def _config(self) -> dict[str, Any]:
        payload = None if self.request_payload is None else json.dumps(self.request_payload)
        return {
            "genericWebhookActionInput": {
                "integrationID": self.integration_id,
                "requestPayload": payload,
            }
        }


@dataclass(frozen=True)
class SendNotification:
    """Post a message to a Slack integration."""

    integration_id: str
    title: str = ""
    message: str = ""
    severity: Literal["INFO", "WARN", "ERROR"] = "INFO"
    action_type: ClassVar[str] = "NOTIFICATION"

    @classmethod
    def from_integration(
        cls,
        integration: SlackIntegration,
        *,
        title: str = "",
        text: str = "",
        level: Literal["INFO", "WARN", "ERROR"] = "INFO",
    ) -> SendNotification:
        return cls(integration.id, title, text, level)

    def _config(self) -> dict[str, Any]:
        return {
            "notificationActionInput": {
                "integrationID": self.integration_id,
                "title": self.title,
                "message": self.message,
                "severity": self.severity,
            }
        }


@dataclass(frozen=True)
class DoNothing:
    """An action that does nothing (to test an automation's event)."""

    action_type: ClassVar[str] = "NO_OP"

    def _config(self) -> dict[str, Any]:
        return {"noOpActionInput": {"noOp": True}}


Action = SendWebhook | SendNotification | DoNothing


def _action_from(node: dict[str, Any]) -> Action:
    if node["__typename"] == "GenericWebhookTriggeredAction":
        payload = node.get("requestPayload")
        return SendWebhook(node["integration"]["id"], json.loads(payload) if payload else None)
    if node["__typename"] == "NotificationTriggeredAction":
        return SendNotification(
            node["integration"]["id"],
            node.get("title") or "",
            node.get("message") or "",
            node.get("severity") or "INFO",
        )
    return DoNothing()


# Automations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAutomation:
    """An automation not saved yet: ``event >> action``, then a name."""

    event: _Event | SavedEvent
    action: Action
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    scope: Any = None


@dataclass
class Automation:
    """A saved automation; edit its fields and pass it to ``Api.update_automation``."""

    id: str
    name: str
    description: str | None
    enabled: bool
    scope: Scope
    event: SavedEvent
    action: Action
    created_at: str
    updated_at: str | None = field(default=None)

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> Automation:
        condition = node["triggeringCondition"]
        saved = json.loads(condition["filter"]).get("filter") or "{}"
        return cls(
            id=node["id"],
            name=node["name"],
            description=node.get("description"),
            enabled=node["enabled"],
            scope=_scope_from(node["scope"]),
            event=SavedEvent(
                condition["eventType"], json.loads(saved) if isinstance(saved, str) else saved
            ),
            action=_action_from(node["triggeredAction"]),
            created_at=node["createdAt"],
            updated_at=node.get("updatedAt"),
        )


def filter_json(event: _Event | SavedEvent) -> str:
    if isinstance(event, SavedEvent):
        return json.dumps(event.filter)
    return _wrapped(event.filter)


def trigger_input(obj: NewAutomation | Automation, **overrides: Any) -> dict[str, Any]:
    """The ``CreateFilterTriggerInput`` fields of an automation, with ``overrides`` applied
    (``name``, ``description``, ``enabled``, ``scope``, ``event``, ``action``)."""
    if isinstance(obj, NewAutomation):
        obj = replace(obj, **overrides)
        scope = scope_of(obj.scope or obj.event.scope)  # type: ignore[union-attr]
    else:
        obj = replace(obj, **overrides)
        scope = scope_of(obj.scope)
    if not obj.name:
        raise ValueError("an automation needs a name: pass name=...")
    return {
        "name": obj.name,
        "description": obj.description,
        "enabled": True if obj.enabled is None else obj.enabled,
        "scopeType": scope.scope_type,
        "scopeID": scope.id,
        "triggeringEventType": obj.event.event_type,
        "eventFilter": filter_json(obj.event),
        "triggeredActionType": obj.action.action_type,
        "triggeredActionConfig": obj.action._config(),
    }
