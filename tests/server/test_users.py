"""Users, keys and teams: a key belongs to a user, who uses its own entity and its teams' and
nothing else. The real SDK and our client both see the same."""

from __future__ import annotations

import re

import pytest
import requests

from dagster_wandb_artifacts.client import Api, Artifact, AuthenticationError, NotFoundError
from dagster_wandb_artifacts.server.cli import main
from tests.server.test_automations import CREATE_HOOK
from tests.support import sdk_api

pytestmark = pytest.mark.usefixtures("wandb_home")


def add_user(server, email: str) -> str:
    assert main(["user", "--root", str(server.root), "--email", email]) == 0
    return (server.root / "keys" / email.split("@")[0]).read_text()


def client(server, key: str, path: str) -> Api:
    """Our client with ``key``, writing to ``path`` (``[entity/]project``)."""
    entity, _, project = path.rpartition("/")
    overrides = {"base_url": server.base_url, "project": project}
    return Api(api_key=key, overrides={**overrides, "entity": entity} if entity else overrides)


def post(server, key: str, query: str, variables: dict) -> dict:
    """A GraphQL request with ``key``: its whole reply (data and errors)."""
    reply = requests.post(
        f"{server.base_url}/graphql",
        json={"query": query, "variables": variables},
        auth=("api", key),
        timeout=30,
    )
    return reply.json()


def log(api: Api, name: str) -> Artifact:
    run = api.create_run()
    artifact = Artifact(name, "dataset")
    with artifact.new_file("rows.csv") as file:
        file.write("a,b\n1,2\n")
    logged = run.log_artifact(artifact)
    run.finish()
    return logged


def test_second_user_cannot_read_or_write_first_users_project(server):
    import wandb
    from wandb.errors import CommError

    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    alice = client(server, alice_key, "private")
    bob = client(server, bob_key, "own")
    assert (alice.default_entity, bob.default_entity) == ("alice", "bob")
    logged = log(alice, "secret-ds")
    assert logged.qualified_name == "alice/private/secret-ds:v0"
    log(bob, "mine")  # bob writes to his own entity

    # A project bob may not see is answered as a missing one: nothing tells it exists.
    with pytest.raises(NotFoundError, match="not found"):
        bob.artifact("alice/private/secret-ds:latest")
    # An ID of a version bob may not read answers as a missing one does.
    with pytest.raises(NotFoundError, match="not found"):
        bob.artifact_by_id(logged.id)
    with pytest.raises(AuthenticationError, match="permission denied"):
        client(server, bob_key, "alice/private").create_run()
    assert [p.name for p in bob.projects("bob")] == ["own"]
    # Another's entity lists nothing, as a missing one does.
    assert list(bob.projects("alice")) == list(bob.projects("nobody")) == []

    # IDs name their project: bob cannot change alice's sweep by its ID either.
    sweep = "mutation($i: UpsertSweepInput!) { upsertSweep(input: $i) { sweep { id } } }"
    created = post(
        server,
        alice_key,
        sweep,
        {"i": {"entityName": "alice", "projectName": "private", "config": "{}"}},
    )
    sweep_id = created["data"]["upsertSweep"]["sweep"]["id"]
    # Answered as the ID of no sweep is (Sweep:9999): nothing tells it exists.
    told = [
        post(server, bob_key, sweep, {"i": {"id": some_id, "state": "FINISHED"}})["errors"]
        for some_id in (sweep_id, "U3dlZXA6OTk5OQ==")
    ]
    assert [re.sub(r"\d+", "N", errors[0]["message"]) for errors in told] == [
        "sweep N not found"
    ] * 2

    theirs = wandb.Api(overrides={"base_url": server.base_url}, api_key=bob_key)
    assert theirs.viewer.username == "bob" and theirs.default_entity == "bob"
    with pytest.raises(CommError, match="not found"):
        theirs.artifact("alice/private/secret-ds:latest")
    # The server's own key administers everything.
    assert sdk_api(server).artifact("alice/private/secret-ds:latest").digest == logged.digest


def test_teams_and_users_through_the_sdk(server):
    import wandb

    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    as_alice = wandb.Api(overrides={"base_url": server.base_url}, api_key=alice_key)
    # W&B: the organization's administrators create teams and name their admin.
    team = sdk_api(server).create_team("research", admin_username="alice")
    assert [m.username for m in team.members] == ["alice"]
    log(client(server, alice_key, "research/shared"), "features")
    with pytest.raises(NotFoundError, match="not found"):
        client(server, bob_key, "research/shared").artifact("features:latest")

    assert team.invite("bob")
    assert [m.username for m in as_alice.team("research").members] == ["alice", "bob"]
    # A webhook makes the server POST where its creator says: only an entity's admins add
    # one (a team's admins, a user on their personal entity; see test_automation_roles).
    hook = {"name": "hook", "urlEndpoint": "http://93.184.215.14/hook"}
    for key, entity in ((bob_key, "research"), (alice_key, "bob")):
        refused = post(server, key, CREATE_HOOK, {"input": {**hook, "entityName": entity}})
        assert "permission denied" in refused["errors"][0]["message"], entity
    for key, entity in ((alice_key, "research"), (alice_key, "alice")):
        added = post(server, key, CREATE_HOOK, {"input": {**hook, "entityName": entity}})
        assert added["data"]["createGenericWebhookIntegration"]["integration"]["name"] == "hook"
    as_bob = client(server, bob_key, "research/shared")
    assert as_bob.artifact("features:latest").version == "v0"
    log(as_bob, "more-features")

    admin = sdk_api(server)
    carol = admin.create_user("carol@example.com")
    assert carol.username == "carol" and not carol.admin
    assert admin.user("carol@example.com").username == "carol"
    assert sorted(u.username for u in admin.users("example.com")) == ["alice", "bob", "carol"]
    as_bob_sdk = wandb.Api(overrides={"base_url": server.base_url}, api_key=bob_key)
    assert as_bob_sdk.viewer.teams == ["research"]
    new_key = as_bob_sdk.viewer.generate_api_key("ci")
    assert client(server, new_key, "own").default_entity == "bob"


def test_users_and_teams_through_our_client(server, api):
    alice_key = add_user(server, "alice@example.com")
    carol = api.create_user("carol@example.com")
    assert (carol.username, carol.admin) == ("carol", False)
    assert api.user("carol@example.com").username == carol.username
    assert sorted(u.username for u in api.users("@example.com")) == ["alice", "carol"]
    as_alice = client(server, alice_key, "private")
    with pytest.raises(AuthenticationError, match="permission denied"):
        as_alice.create_user("dave@example.com")
    with pytest.raises(AuthenticationError, match="only an administrator may create teams"):
        as_alice.create_team("vision")
    team = api.create_team("vision", admin_username="alice")
    assert [(m.username, m.admin) for m in team.members] == [("alice", True)]
    assert team.invite("carol@example.com")
    assert [m.username for m in as_alice.team("vision").members] == ["alice", "carol"]
