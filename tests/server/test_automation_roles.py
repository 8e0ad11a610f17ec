"""Who may do what with automations, tried as a second user with a key of their own: an
entity's admins add its integrations, secrets and automations (a user its personal entity, a
team's admins their team); an automation uses its own entity's integrations only; the event's
author is the user who caused it; secrets are encrypted at rest; text templates escape."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dagster_wandb_artifacts.server import LocalServer
from tests.server.test_automations import CREATE_HOOK, INSERT_SECRET
from tests.server.test_users import add_user, client, log, post
from tests.support import graphql
from tests.webhooks import WebhookReceiver

pytestmark = pytest.mark.usefixtures("wandb_home")

CREATE_TRIGGER = """mutation($input: CreateFilterTriggerInput!) {
  createFilterTrigger(input: $input) { trigger { id name } } }"""
PROJECT_ID = "query($e: String!, $p: String!) { project(entityName: $e, name: $p) { id } }"
DELIVERIES = """query($e: String!) { entity(name: $e) { triggers { edges { node {
  name deliveries { status attempts responseStatus payload eventType } } } } } }"""
ADD_ALIASES = """mutation($input: AddAliasesInput!) { addAliases(input: $input) { success } }"""


@pytest.fixture
def server(tmp_path):
    with LocalServer(tmp_path / "server", webhook_allow=["127.0.0.1"]) as running:
        yield running


def _sdk(server, key: str):
    import wandb

    return wandb.Api(overrides={"base_url": server.base_url}, api_key=key)


def _trigger_input(name: str, project_id: str, hook_id: str, payload: str | None = None) -> dict:
    return {
        "name": name,
        "enabled": True,
        "scopeType": "PROJECT",
        "scopeID": project_id,
        "triggeringEventType": "ADD_ARTIFACT_ALIAS",
        "eventFilter": "{}",
        "triggeredActionType": "GENERIC_WEBHOOK",
        "triggeredActionConfig": {
            "genericWebhookActionInput": {"integrationID": hook_id, "requestPayload": payload}
        },
    }


def _hook(server, key: str, entity: str, url: str, name: str = "hook", **refs: str) -> dict:
    variables = {"input": {"entityName": entity, "name": name, "urlEndpoint": url, **refs}}
    return post(server, key, CREATE_HOOK, variables)


def _alias(server, key: str, version, entity: str, project: str, collection: str, alias: str):
    aliases = [
        {
            "entityName": entity,
            "projectName": project,
            "artifactCollectionName": collection,
            "alias": alias,
        }
    ]
    variables = {"input": {"artifactID": version.id, "aliases": aliases}}
    return post(server, key, ADD_ALIASES, variables)


def test_team_roles_for_integrations_secrets_and_automations(server):
    from wandb.automations import OnAddArtifactAlias, SendWebhook

    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    # W&B: the organization's administrators create teams, naming their admin.
    team = _sdk(server, server.api_key).create_team("research", admin_username="alice")
    assert team.invite("bob")  # a plain member
    version = log(client(server, alice_key, "research/shared"), "model")
    research_project = post(server, alice_key, PROJECT_ID, {"e": "research", "p": "shared"})
    project_id = research_project["data"]["project"]["id"]

    with WebhookReceiver().running() as receiver:
        # A plain member neither adds a webhook nor sets (or overwrites) a team secret.
        refused = _hook(server, bob_key, "research", receiver.url)
        assert "permission denied" in refused["errors"][0]["message"]
        secret = {"entityName": "research", "secretName": "TOKEN", "secretValue": "team-value"}
        assert post(server, alice_key, INSERT_SECRET, {"input": secret})["data"]
        overwrite = {**secret, "secretValue": "bobs-value"}
        refused = post(server, bob_key, INSERT_SECRET, {"input": overwrite})
        assert "permission denied" in refused["errors"][0]["message"]
        added = _hook(server, alice_key, "research", receiver.url, accessTokenRef="TOKEN")
        team_hook = added["data"]["createGenericWebhookIntegration"]["integration"]["id"]

        # ... nor creates an automation on the team's webhook (the signed POST would start
        # the admin's Dagster job with the member's choice of version).
        forged = post(server, bob_key, CREATE_TRIGGER, {"input": _trigger_input(
            "deploy", project_id, team_hook)})  # fmt: skip
        assert "permission denied" in forged["errors"][0]["message"]
        # The team's admin does; the name is no project name (no registry prefix needed).
        made = post(server, alice_key, CREATE_TRIGGER, {"input": _trigger_input(
            "deploy", project_id, team_hook, '{"by": "${event_author}"}')})  # fmt: skip
        assert made["data"]["createFilterTrigger"]["trigger"]["name"] == "deploy"
        trigger_id = made["data"]["createFilterTrigger"]["trigger"]["id"]
        delete = "mutation($i: DeleteTriggerInput!) { deleteTrigger(input: $i) { success } }"
        refused = post(server, bob_key, delete, {"i": {"triggerID": trigger_id}})
        assert "permission denied" in refused["errors"][0]["message"]

        # A member's alias move fires it: the event's author is the member, not the org.
        assert "errors" not in _alias(
            server, bob_key, version, "research", "shared", "model", "production"
        )
        [request] = receiver.wait_for(1)
        assert request.json == {"by": "bob"}
        assert request.headers["Authorization"] == "Bearer team-value"

        # The delivery log is the automation's owners' to read.
        assert server.automations.dispatcher.wait_idle(10)
        log_entries = post(server, alice_key, DELIVERIES, {"e": "research"})
        [edge] = log_entries["data"]["entity"]["triggers"]["edges"]
        [entry] = edge["node"]["deliveries"]
        assert (entry["status"], entry["attempts"], entry["responseStatus"]) == (
            "delivered",
            1,
            200,
        )
        assert "errors" in post(server, bob_key, DELIVERIES, {"e": "research"})

        # A user administers their personal entity, through the SDK as W&B's own tests do,
        # with an automation of any name; but never on another entity's integration.
        own = log(client(server, bob_key, "own"), "mine")
        as_bob = _sdk(server, bob_key)
        assert "errors" not in _hook(server, bob_key, "bob", receiver.url)
        [bobs_hook] = list(as_bob.webhook_integrations(entity="bob"))
        project = as_bob.project("own", entity="bob")
        saved = as_bob.create_automation(
            OnAddArtifactAlias(scope=project)
            >> SendWebhook.from_integration(bobs_hook, payload={"v": "${artifact_version_string}"}),
            name="my-deploy",
        )
        assert saved.name == "my-deploy"
        own_project = post(server, bob_key, PROJECT_ID, {"e": "bob", "p": "own"})
        foreign = post(server, bob_key, CREATE_TRIGGER, {"input": _trigger_input(
            "steal", own_project["data"]["project"]["id"], team_hook)})  # fmt: skip
        assert "errors" in foreign and not _names(server, "bob") - {"my-deploy"}
        _alias(server, bob_key, own, "bob", "own", "mine", "best")
        second = receiver.wait_for(2)[1]
        assert second.json == {"v": "bob/own/mine:v0"}


def _names(server, entity: str) -> set[str]:
    found = graphql(server, "query($e: String!) { entity(name: $e) { triggers { edges { node "
                    "{ name } } } } }", {"e": entity})  # fmt: skip
    return {edge["node"]["name"] for edge in found["entity"]["triggers"]["edges"]}


def test_secrets_are_encrypted_at_rest_and_old_ones_are_migrated(tmp_path):
    root = tmp_path / "server"
    with LocalServer(root, webhook_allow=["127.0.0.1"]) as server:
        secret = {"entityName": "local", "secretName": "TOKEN", "secretValue": "sup3r-s3cret"}
        graphql(server, INSERT_SECRET, {"input": secret})
    key_file = root / "secrets-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    database = root / "server.db"
    assert b"sup3r-s3cret" not in _database_bytes(root)
    # A secret stored in clear by an older server is encrypted when the server starts.
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO secrets (entity_id, name, value, encrypted, created_at) "
            "SELECT id, 'OLD', 'pl4in-old', 0, '2024-01-01' FROM entities WHERE name = 'local'"
        )
    restarted = LocalServer(root, webhook_allow=["127.0.0.1"])
    with restarted as server, WebhookReceiver().running() as receiver:
        with sqlite3.connect(database) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert b"pl4in-old" not in _database_bytes(root)
        added = _hook(server, server.api_key, "local", receiver.url, accessTokenRef="OLD")
        assert "errors" not in added
        log(client(server, server.api_key, "local/proj"), "ds")
        _form_automation(server, added["data"]["createGenericWebhookIntegration"]["integration"])
        [request] = receiver.wait_for(1)
    assert request.headers["Authorization"] == "Bearer pl4in-old"
    # A text template escapes what it substitutes: metadata cannot add form fields.
    assert request.body == b"version=ds:v1&note=a%26admin%3D1&token=pl4in-old"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def _form_automation(server, hook: dict) -> None:
    """An automation with a text (form) template, then a version that fires it."""
    from dagster_wandb_artifacts.client import Artifact

    found = graphql(server, PROJECT_ID, {"e": "local", "p": "proj"})
    template = (
        "version=${artifact_collection_name}:${artifact_version.version}"
        "&note=${artifact_metadata.note}&token=${ACCESS_TOKEN}"
    )
    fields = _trigger_input("form", found["project"]["id"], hook["id"], template)
    graphql(server, CREATE_TRIGGER, {"input": {**fields, "triggeringEventType": "CREATE_ARTIFACT"}})
    run = client(server, server.api_key, "local/proj").create_run()
    artifact = Artifact("ds", "dataset", metadata={"note": "a&admin=1"})
    with artifact.new_file("rows.csv") as file:
        file.write("a\n2\n")
    run.log_artifact(artifact)
    run.finish()


def _database_bytes(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.glob("server.db*"))
