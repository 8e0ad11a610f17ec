"""``Api``'s automation and integration methods, named and typed as in ``wandb.Api``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from .automations import (
    Automation,
    Integration,
    NewAutomation,
    SlackIntegration,
    WebhookIntegration,
    integration_from,
    trigger_input,
)
from .errors import InvalidInputError, NotFoundError
from .paginators import Paginator
from .queries import automations as queries

if TYPE_CHECKING:
    from .api import Api
    from .transport import GraphQLClient


class Automations(Paginator[Automation]):
    QUERY = queries.ENTITY_AUTOMATIONS

    def _connection(self) -> dict[str, Any] | None:
        return ((self.last_response or {}).get("entity") or {}).get("triggers")

    def convert_objects(self) -> list[Automation]:
        return [Automation.from_node(edge["node"]) for edge in self._edges()]


class Integrations(Paginator[Integration]):
    """An entity's integrations; ``kind`` keeps one kind (W&B filters them client-side too)."""

    QUERY = queries.INTEGRATIONS

    def __init__(self, api: Api, entity: str, per_page: int, kind: type | None = None) -> None:
        super().__init__(api, {"entity": entity}, per_page)
        self._kind = kind

    def _connection(self) -> dict[str, Any] | None:
        return ((self.last_response or {}).get("entity") or {}).get("integrations")

    def convert_objects(self) -> list[Integration]:
        found = [integration_from(edge["node"]) for edge in self._edges()]
        return [i for i in found if self._kind is None or isinstance(i, self._kind)]


class AutomationMethods:
    """Mixed into ``Api``."""

    client: GraphQLClient
    path_entity: str

    def integrations(
        self, entity: str | None = None, *, per_page: int = 50, start: str | None = None
    ) -> Integrations:
        """Every integration (webhooks and Slack channels) of ``entity``."""
        found = Integrations(self, (entity or self.path_entity), per_page)  # type: ignore[arg-type]
        found.cursor = start
        return found

    def webhook_integrations(
        self, entity: str | None = None, *, per_page: int = 50, start: str | None = None
    ) -> Integrations:
        found = Integrations(self, (entity or self.path_entity), per_page, WebhookIntegration)  # type: ignore[arg-type]
        found.cursor = start
        return found

    def slack_integrations(
        self, *, entity: str | None = None, per_page: int = 50, start: str | None = None
    ) -> Integrations:
        found = Integrations(self, (entity or self.path_entity), per_page, SlackIntegration)  # type: ignore[arg-type]
        found.cursor = start
        return found

    def create_webhook_integration(
        self,
        name: str,
        url_endpoint: str,
        *,
        entity: str | None = None,
        secret_ref: str | None = None,
        access_token_ref: str | None = None,
    ) -> WebhookIntegration:
        """Add a webhook to ``entity`` (W&B does this in its UI; the GraphQL mutation is
        ``createGenericWebhookIntegration``). ``secret_ref`` names a team secret that signs
        each request (``X-Wandb-Signature``); ``access_token_ref`` one sent as a Bearer token."""
        reply = self.client.execute(
            queries.CREATE_WEBHOOK_INTEGRATION,
            {
                "input": {
                    "entityName": (entity or self.path_entity),
                    "name": name,
                    "urlEndpoint": url_endpoint,
                    "secretRef": secret_ref,
                    "accessTokenRef": access_token_ref,
                }
            },
        )
        return integration_from(reply["result"]["integration"])  # type: ignore[return-value]

    def insert_secret(self, name: str, value: str, *, entity: str | None = None) -> None:
        """Store a team secret that webhook integrations may reference by name."""
        self.client.execute(
            queries.INSERT_SECRET,
            {
                "input": {
                    "entityName": (entity or self.path_entity),
                    "secretName": name,
                    "secretValue": value,
                }
            },
        )

    def automations(
        self,
        entity: str | None = None,
        *,
        name: str | None = None,
        per_page: int = 50,
        start: str | None = None,
    ) -> Automations:
        """The automations of ``entity`` (the viewer's by default), or the one named ``name``."""
        filters = {"name": name} if name else None
        found = Automations(
            self,  # type: ignore[arg-type]
            {
                "entity": (entity or self.path_entity),
                "filters": json.dumps(filters) if filters else None,
            },
            per_page,
        )
        found.cursor = start
        return found

    def automation(self, name: str, *, entity: str | None = None) -> Automation:
        """The only automation named ``name``; ValueError when none or several match."""
        found = list(self.automations(entity, name=name))
        if not found:
            raise ValueError("No automations found")
        if len(found) > 1:
            raise ValueError("Multiple automations found")
        return found[0]

    def create_automation(
        self, obj: NewAutomation, *, fetch_existing: bool = False, **kwargs: Any
    ) -> Automation:
        """Save a new automation (``event >> action``); ``kwargs`` set ``name``,
        ``description``, ``enabled``, ``scope``, ``event`` or ``action``. With
        ``fetch_existing``, an automation of the same name is returned instead of an error."""
        variables = {"input": trigger_input(obj, **kwargs)}
        try:
            reply = self.client.execute(queries.CREATE_AUTOMATION, variables)
        except InvalidInputError as exc:
            if "exists" not in str(exc):
                raise
            name = variables["input"]["name"]
            if fetch_existing:
                return self.automation(name)
            raise ValueError(
                f"Automation {name!r} exists. Unable to create another with the same name."
            ) from None
        return Automation.from_node(reply["result"]["trigger"])

    def update_automation(
        self, obj: Automation, *, create_missing: bool = False, **kwargs: Any
    ) -> Automation:
        """Save the edited fields of ``obj`` (and ``kwargs``); with ``create_missing``, an
        automation that no longer exists is created again."""
        variables = {"input": {"id": obj.id, **trigger_input(obj, **kwargs)}}
        try:
            reply = self.client.execute(queries.UPDATE_AUTOMATION, variables)
        except NotFoundError:
            if create_missing:
                fields = {k: getattr(obj, k) for k in ("name", "description", "enabled", "scope")}
                return self.create_automation(
                    NewAutomation(event=obj.event, action=obj.action, **fields)
                )
            raise ValueError(f"Automation {obj.name!r} not found. Unable to edit it.") from None
        return Automation.from_node(reply["result"]["trigger"])

    def delete_automation(self, obj: Automation | str) -> Literal[True]:
        """Delete an automation (or the one with this ID)."""
        automation_id = obj if isinstance(obj, str) else obj.id
        reply = self.client.execute(queries.DELETE_AUTOMATION, {"id": automation_id})
        if not reply["result"]["success"]:
            raise RuntimeError(f"Failed to delete automation: {automation_id!r}")
        return True
