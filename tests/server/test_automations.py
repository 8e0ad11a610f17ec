"""Automations on the embedded server, driven by the real wandb SDK: webhook integrations,
triggers that round-trip as ``wandb.automations`` objects, and webhooks POSTed on events."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pytest

from dagster_wandb_artifacts.server import LocalServer
from tests.support import ENTITY, PROJECT, graphql, sdk_api, sdk_run
from tests.webhooks import WebhookReceiver


@pytest.fixture
def server(tmp_path):
    """The embedded server, allowed to send webhooks to this test's receivers on loopback."""
    with LocalServer(tmp_path / "server", webhook_allow=["127.0.0.1"]) as running:
        yield running


pytestmark = pytest.mark.usefixtures("wandb_home")

CREATE_HOOK = """mutation($input: CreateGenericWebhookIntegrationInput!) {
  createGenericWebhookIntegration(input: $input) {
    integration { __typename ... on GenericWebhookIntegration { id name urlEndpoint } } } }"""


@pytest.fixture
def receiver():
    with WebhookReceiver().running() as running:
        yield running


def add_webhook(server, url: str, name: str = "dagster", **refs: str) -> dict:
    variables = {"input": {"entityName": ENTITY, "name": name, "urlEndpoint": url, **refs}}
    return graphql(server, CREATE_HOOK, variables)["createGenericWebhookIntegration"]["integration"]


def log_versions(server, name: str, count: int) -> None:
    import wandb

    run = sdk_run(server, job_type="train")
    for index in range(count):
        artifact = wandb.Artifact(name, type="model", metadata={"step": index})
        # Fresh bytes each time: equal ones would be deduplicated into no new version.
        weights = f"weights {index} {secrets.token_hex(4)}"
        artifact.add_file(_file(server, f"{name}-{index}.txt", weights))
        run.log_artifact(artifact)
        artifact.wait()
    run.finish()


def _file(server, name: str, text: str) -> str:
    path = server.root / name
    path.write_text(text)
    return str(path)


def test_sdk_automation_round_trip_and_webhook_on_alias(server, receiver):
    from wandb.automations import (
        ArtifactEvent,
        Automation,
        OnAddArtifactAlias,
        OnCreateArtifact,
        SendWebhook,
    )
    from wandb.errors import CommError

    add_webhook(server, receiver.url)
    log_versions(server, "model", 2)
    api = sdk_api(server)
    [hook] = list(api.webhook_integrations(entity=ENTITY))
    assert (hook.name, hook.url_endpoint) == ("dagster", receiver.url)
    assert list(api.slack_integrations(entity=ENTITY)) == []
    assert [i.name for i in api.integrations(entity=ENTITY)] == ["dagster"]

    project = api.project(PROJECT, entity=ENTITY)
    payload = {
        "event": "${event_type}",
        "by": "${event_author}",
        "version": "${artifact_version_string}",
        "collection": "${artifact_collection_name}",
        "alias": "${alias}",
        "artifact": "${artifact_version}",
        "text": "moved ${alias} in ${project_name}",
    }
    created = api.create_automation(
        OnAddArtifactAlias(scope=project, filter=ArtifactEvent.alias.eq("production"))
        >> SendWebhook.from_integration(hook, payload=payload),
        name="deploy-on-production",
        description="start the Dagster job",
    )
    assert isinstance(created, Automation)
    assert created.name == "deploy-on-production" and created.enabled
    fetched = api.automation(name="deploy-on-production", entity=ENTITY)
    assert fetched.id == created.id
    assert fetched.event.filter == created.event.filter
    assert fetched.action.request_payload == payload
    assert fetched.scope.id == project.id
    # The legacy walk over the viewer's projects finds it too.
    assert [a.name for a in api.automations()] == ["deploy-on-production"]
    with pytest.raises(CommError, match="exists"):
        api.create_automation(
            OnAddArtifactAlias(scope=project) >> SendWebhook.from_integration(hook),
            name="deploy-on-production",
        )

    version = api.artifact(f"{ENTITY}/{PROJECT}/model:v0")
    version.aliases.append("staging")
    version.save()  # an alias the filter does not take: no POST
    version.aliases.append("production")
    version.save()
    [request] = receiver.wait_for(1)
    body = request.json
    assert body["event"] == "ADD_ARTIFACT_ALIAS"
    assert body["version"] == f"{ENTITY}/{PROJECT}/model:v0"
    assert body["collection"] == "model" and body["alias"] == "production"
    assert body["artifact"]["metadata"] == {"step": 0}
    assert "production" in body["artifact"]["aliases"]
    assert body["text"] == f"moved production in {PROJECT}"
    assert body["by"] == server.entity

    # Disabled: the next alias move posts only for a second, enabled automation.
    fetched.enabled = False
    updated = api.update_automation(fetched)
    assert not updated.enabled
    collection = api.artifact_collection("model", f"{ENTITY}/{PROJECT}/model")
    api.create_automation(
        OnCreateArtifact(scope=collection)
        >> SendWebhook.from_integration(hook, payload={"new": "${artifact_version_string}"}),
        name="on-new-version",
    )
    moved = api.artifact(f"{ENTITY}/{PROJECT}/model:v1")
    moved.aliases.append("production")
    moved.save()
    log_versions(server, "model", 1)
    second = receiver.wait_for(2)[1]
    assert second.json == {"new": f"{ENTITY}/{PROJECT}/model:v2"}

    assert api.delete_automation(updated) is True
    assert [a.name for a in api.automations(entity=ENTITY)] == ["on-new-version"]
    with pytest.raises(CommError, match="not found"):
        api.update_automation(updated)


INSERT_SECRET = """mutation($input: InsertSecretInput!) {
  insertSecret(input: $input) { success } }"""


def test_link_webhook_with_secrets_retries_and_delivery_log(server):
    from wandb.automations import OnLinkArtifact, SendWebhook

    for name, value in (("TOKEN", "bearer-value"), ("SIGNING", "signing-key")):
        variables = {"input": {"entityName": ENTITY, "secretName": name, "secretValue": value}}
        assert graphql(server, INSERT_SECRET, variables)["insertSecret"]["success"]
    with WebhookReceiver(statuses=[503]).running() as receiver:
        add_webhook(server, receiver.url, accessTokenRef="TOKEN", secretRef="SIGNING")
        log_versions(server, "clf", 2)
        api = sdk_api(server)
        api.artifact(f"{ENTITY}/{PROJECT}/clf:v0").link(f"{ENTITY}/{PROJECT}/prod-models")
        portfolio = api.artifact_collection("model", f"{ENTITY}/{PROJECT}/prod-models")
        [hook] = list(api.webhook_integrations(entity=ENTITY))
        template = {"linked": "${artifact_version_string}", "token": "${ACCESS_TOKEN}"}
        api.create_automation(
            OnLinkArtifact(scope=portfolio) >> SendWebhook.from_integration(hook, payload=template),
            name="on-link",
        )
        run = sdk_run(server, job_type="promote")
        run.link_artifact(
            api.artifact(f"{ENTITY}/{PROJECT}/clf:v1"), f"{ENTITY}/{PROJECT}/prod-models"
        )
        run.finish()
        failed, delivered = receiver.wait_for(2)
    assert failed.body == delivered.body
    assert delivered.json == {
        "linked": f"{ENTITY}/{PROJECT}/prod-models:v1",
        "token": "bearer-value",
    }
    assert delivered.headers["Authorization"] == "Bearer bearer-value"
    # Signed: the timestamp and the delivery's ID with the body; a retry is the same delivery.
    stamp, delivery = delivered.headers["X-Wandb-Timestamp"], delivered.headers["X-Wandb-Delivery"]
    signed = f"{stamp}.{delivery}.".encode() + delivered.body
    signature = hmac.new(b"signing-key", signed, hashlib.sha256).hexdigest()
    assert delivered.headers["X-Wandb-Signature"] == signature
    assert failed.headers["X-Wandb-Delivery"] == delivery

    assert server.automations.dispatcher.wait_idle(10)
    [entry] = server.automations.tables.deliveries()
    assert (entry["status"], entry["attempts"], entry["response_status"]) == ("delivered", 2, 200)
    assert "bearer-value" not in entry["payload"] and "***" in entry["payload"]


def test_notification_to_a_slack_integration_added_by_the_cli(server):
    from wandb.automations import OnCreateArtifact, SendNotification

    from dagster_wandb_artifacts.cli import main

    with WebhookReceiver().running() as receiver:
        argv = ["integration", "slack", "--root", str(server.root), "--entity", ENTITY]
        assert main([*argv, "--name", "ml-alerts", "--url", receiver.url, "--team", "acme"]) == 0
        log_versions(server, "ds", 1)
        api = sdk_api(server)
        [slack] = list(api.slack_integrations(entity=ENTITY))
        assert (slack.team_name, slack.channel_name) == ("acme", "ml-alerts")
        collection = api.artifact_collection("model", f"{ENTITY}/{PROJECT}/ds")
        saved = api.create_automation(
            OnCreateArtifact(scope=collection)
            >> SendNotification.from_integration(
                slack, title="New ${artifact_collection_name}", text="${artifact_version_string}"
            ),
            name="tell-slack",
        )
        assert (saved.action.title, saved.action.message) == (
            "New ${artifact_collection_name}",
            "${artifact_version_string}",
        )
        log_versions(server, "ds", 1)
        [request] = receiver.wait_for(1)
    assert request.json == {"text": f"New ds\n{ENTITY}/{PROJECT}/ds:v1"}


def test_entity_scope_tag_and_unlink_events_through_the_sdk(server, receiver):
    """The scopes and events the server declares: the SDK (which skips what a server does
    not declare) creates them, and each fires on its mutation."""
    from wandb.automations import (
        ArtifactEvent,
        OnAddArtifactTag,
        OnAddCollectionTag,
        OnRemoveArtifactTag,
        OnRemoveCollectionTag,
        OnUnlinkArtifact,
        SendWebhook,
    )

    api = sdk_api(server)
    team = api.create_team("research")
    variables = {"input": {"entityName": "research", "name": "hook", "urlEndpoint": receiver.url}}
    graphql(server, CREATE_HOOK, variables)
    run = sdk_run(server, entity="research", job_type="train")
    import wandb

    artifact = wandb.Artifact("model", type="model")
    artifact.add_file(_file(server, "w.txt", "weights"))
    run.log_artifact(artifact).wait()
    run.finish()
    version = api.artifact("research/proj/model:v0")
    version.link("research/proj/prod-models")
    collection = api.artifact_collection("model", "research/proj/model")
    portfolio = api.artifact_collection("model", "research/proj/prod-models")
    [hook] = list(api.webhook_integrations(entity="research"))
    payload = {"event": "${event_type}", "tag": "${tag}", "by": "${event_author}"}
    for name, event in (
        ("tagged", OnAddArtifactTag(scope=team, filter=ArtifactEvent.tag.eq("gold"))),
        ("untagged", OnRemoveArtifactTag(scope=collection)),
        ("collection-tagged", OnAddCollectionTag(scope=api.project("proj", entity="research"))),
        ("collection-untagged", OnRemoveCollectionTag(scope=collection)),
        ("unlinked", OnUnlinkArtifact(scope=portfolio)),
    ):
        action = SendWebhook.from_integration(hook, payload=payload)
        api.create_automation(event >> action, name=name)
    [tagged] = [a for a in api.automations(entity="research") if a.name == "tagged"]
    assert tagged.scope.scope_type == "ENTITY" and tagged.scope.name == "research"

    version.tags = ["silver"]  # the filter takes gold only
    version.save()
    version.tags = ["silver", "gold"]
    version.save()
    version.tags = []
    version.save()
    collection.tags = ["nlp"]
    collection.save()
    collection.tags = []
    collection.save()
    linked = api.artifact("research/proj/prod-models:v0")
    linked.unlink()
    # One target's deliveries are made one at a time, in the order of their events.
    got = [(r.json["event"], r.json["tag"], r.json["by"]) for r in receiver.wait_for(6)]
    assert got == [
        ("ADD_ARTIFACT_TAG", "gold", server.entity),
        ("REMOVE_ARTIFACT_TAG", "gold", server.entity),
        ("REMOVE_ARTIFACT_TAG", "silver", server.entity),
        ("ADD_COLLECTION_TAG", "nlp", server.entity),
        ("REMOVE_COLLECTION_TAG", "nlp", server.entity),
        ("UNLINK_ARTIFACT", "", server.entity),
    ]
