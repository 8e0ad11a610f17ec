"""Our client's automations and integrations against the embedded server: the SDK's method
names and shapes, a webhook POSTed on an alias move, and the SDK reading what we saved."""

from __future__ import annotations

import pytest

from dagster_wandb_artifacts.client import Artifact
from dagster_wandb_artifacts.client.automations import (
    ArtifactEvent,
    Automation,
    DoNothing,
    OnAddArtifactAlias,
    OnCreateArtifact,
    SendWebhook,
    WebhookIntegration,
)
from dagster_wandb_artifacts.server import LocalServer
from tests.support import ENTITY, PROJECT, sdk_api
from tests.webhooks import WebhookReceiver


@pytest.fixture
def server(tmp_path):
    """The embedded server, allowed to send webhooks to this test's receivers on loopback."""
    with LocalServer(tmp_path / "server", webhook_allow=["127.0.0.1"]) as running:
        yield running



def log(api, name: str, text: str):
    run = api.create_run()
    artifact = Artifact(name, "model", metadata={"text": text})
    with artifact.new_file("weights.txt") as file:
        file.write(text)
    logged = run.log_artifact(artifact)
    run.finish()
    return logged


def test_client_automations_end_to_end(api, server):
    with WebhookReceiver().running() as receiver:
        hook = api.create_webhook_integration("dagster", receiver.url, access_token_ref="TOKEN")
        api.insert_secret("TOKEN", "s3cret")
        assert list(api.webhook_integrations()) == [hook]
        assert isinstance(hook, WebhookIntegration) and hook.url_endpoint == receiver.url
        assert list(api.slack_integrations()) == []

        first = log(api, "clf", "one")
        project = api.project(PROJECT)
        created = api.create_automation(
            OnAddArtifactAlias(scope=project, filter=ArtifactEvent.alias.eq("production"))
            >> SendWebhook.from_integration(
                hook, payload={"version": "${artifact_version_string}", "auth": "${ACCESS_TOKEN}"}
            ),
            name="deploy",
        )
        assert isinstance(created, Automation) and created.enabled
        assert created.event.event_type == "ADD_ARTIFACT_ALIAS"
        with pytest.raises(ValueError, match="exists"):
            api.create_automation(OnCreateArtifact(scope=project) >> DoNothing(), name="deploy")
        assert api.create_automation(
            OnCreateArtifact(scope=project) >> DoNothing(), name="deploy", fetch_existing=True
        ) == api.automation("deploy")

        # The SDK reads what our client saved, as wandb.automations objects.
        [theirs] = list(sdk_api(server).automations(entity=ENTITY))
        assert theirs.name == "deploy"
        assert theirs.action.request_payload == created.action.request_payload

        first.aliases.append("production")
        first.save()
        [request] = receiver.wait_for(1)
    assert request.json == {"version": f"{ENTITY}/{PROJECT}/clf:v0", "auth": "s3cret"}
    assert request.headers["Authorization"] == "Bearer s3cret"

    created.description = "promote"
    updated = api.update_automation(created, enabled=False)
    assert (updated.description, updated.enabled) == ("promote", False)
    assert api.delete_automation(updated) is True
    assert list(api.automations()) == []
    with pytest.raises(ValueError, match="not found"):
        api.update_automation(updated)
    again = api.update_automation(updated, create_missing=True)
    assert again.name == "deploy" and again.id != updated.id


def test_client_entity_scoped_tag_automation(api, server):
    from dagster_wandb_artifacts.client import Api
    from dagster_wandb_artifacts.client.automations import (
        EntityScope,
        OnAddArtifactTag,
        OnUnlinkArtifact,
    )
    from tests.support import graphql

    api.create_team("research")
    research = Api(
        api_key=server.api_key,
        overrides={"base_url": server.base_url, "entity": "research", "project": PROJECT},
    )
    with WebhookReceiver().running() as receiver:
        hook = research.create_webhook_integration("dagster", receiver.url)
        logged = log(research, "clf", "one")
        entity_id = graphql(server, '{ entity(name: "research") { id } }')["entity"]["id"]
        scope = EntityScope(entity_id, "research")
        payload = {"event": "${event_type}", "tag": "${tag}"}
        personal = graphql(server, '{ entity(name: "ent") { id } }')["entity"]["id"]
        refused = EntityScope(personal, ENTITY)
        with pytest.raises(ValueError, match="must be a team or the organization"):
            research.create_automation(OnAddArtifactTag(scope=refused) >> DoNothing(), name="x")
        saved = research.create_automation(
            OnAddArtifactTag(scope=scope, filter=ArtifactEvent.tag.eq("gold"))
            >> SendWebhook.from_integration(hook, payload=payload),
            name="on-gold",
        )
        assert saved.scope == scope and saved.event.event_type == "ADD_ARTIFACT_TAG"
        assert OnUnlinkArtifact.event_type == "UNLINK_ARTIFACT"
        logged.tags = ["gold"]
        logged.save()
        [request] = receiver.wait_for(1)
    assert request.json == {"event": "ADD_ARTIFACT_TAG", "tag": "gold"}
