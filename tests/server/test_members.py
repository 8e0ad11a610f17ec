"""W&B's account model that its Registry tests expect: registry members (users and teams with
roles) managed by the registry's admins only, a user's default entity (``updateUser``), the
``$contains`` filter, ``users(query:)`` for plain users, and a project the caller may not see
answered as a missing one. The real SDK is the referee, with users of their own keys."""

from __future__ import annotations

import pytest
import requests
import wandb

from dagster_wandb_artifacts.server import LocalServer
from tests.server.test_core_access import log_file
from tests.server.test_users import add_user, client, post
from tests.support import ENTITY, PROJECT, graphql, sdk_api, sdk_settings

pytestmark = pytest.mark.usefixtures("wandb_home")

UPDATE_USER = """mutation($input: UpdateUserInput!) { updateUser(input: $input) {
  user { id username entity } } }"""
VIEWER = "{ viewer { id username entity } }"
USERS = "query($q: String) { users(query: $q) { edges { node { username } } } }"
PROJECT_ID = "query($e: String!, $p: String!) { project(entityName: $e, name: $p) { id } }"


def sdk_as(server: LocalServer, key: str) -> wandb.Api:
    return wandb.Api(overrides={"base_url": server.base_url}, api_key=key)


def roles(members) -> dict[str, str]:
    return {getattr(m, "user", None) and m.user.username or m.team.name: m.role for m in members}


def test_registry_members_are_managed_by_its_admins_only(server):
    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    add_user(server, "carol@example.com")
    admin = sdk_api(server)
    squad = admin.create_team("squad", admin_username="bob")
    alice, bob = sdk_as(server, alice_key), sdk_as(server, bob_key)

    made = alice.create_registry("shared-models", visibility="organization")
    # Its creator is its first admin.
    assert roles(made.members()) == {"alice": "admin"}
    bob_user = alice.user("bob")  # a plain user finds a user it names exactly
    assert bob_user is not None and bob_user.username == "bob"
    made.add_members(bob_user, squad.id)
    assert roles(made.members()) == {"alice": "admin", "bob": "member", "squad": "member"}
    made.update_member(bob_user, "viewer").update_member(squad, "restricted_viewer")
    assert roles(alice.registry("shared-models").members()) == {
        "alice": "admin",
        "bob": "viewer",
        "squad": "restricted_viewer",
    }
    [bob_member] = [m for m in made.user_members() if m.user.username == "bob"]
    assert (bob_member.user.id, bob_member.user.email) == (bob_user.id, "bob@example.com")

    # Bob sees the registry and its members but, no admin of it, changes nothing.
    as_bob = bob.registry("shared-models")
    assert roles(as_bob.members()) == roles(made.members())
    carol = admin.user("carol")
    for attempt in (
        lambda: as_bob.add_members(carol),
        lambda: as_bob.remove_members(bob_user),
        lambda: as_bob.update_member(bob_user, "admin"),
    ):
        with pytest.raises(Exception, match="permission denied"):
            attempt()
    assert roles(made.members())["bob"] == "viewer"

    # Made an admin, through his team, he may.
    made.update_member(squad, "admin")
    as_bob.add_members(carol)
    assert roles(made.members())["carol"] == "member"

    made.remove_members(bob_user).remove_members(bob_user)  # removing twice is no error
    assert "bob" not in roles(made.members())
    # The server's administrator manages any registry's members.
    admin.registry("shared-models").update_member(carol, "admin")
    assert roles(made.members())["carol"] == "admin"


def test_linking_into_a_missing_registry_makes_the_linker_its_first_admin(server):
    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    model = log_file(client(server, alice_key, "private"), "model", b"weights\n")
    model.link("wandb-registry-fresh/shared")
    alice, bob = sdk_as(server, alice_key), sdk_as(server, bob_key)
    assert roles(alice.registry("fresh").members()) == {"alice": "admin"}
    # Another member, who did not create it, changes nothing of it.
    with pytest.raises(Exception, match="permission denied"):
        bob.registry("fresh").add_members(bob.user("bob"))
    alice.registry("fresh").add_members(alice.user("bob"))
    assert roles(alice.registry("fresh").members()) == {"alice": "admin", "bob": "member"}


def test_members_input_is_checked(server):
    alice_key = add_user(server, "alice@example.com")
    registry = sdk_as(server, alice_key).create_registry("checked", visibility="organization")
    project_id = registry.id
    add = """mutation($input: CreateProjectMembersInput!) {
      createProjectMembers(input: $input) { success } }"""
    role = """mutation($input: UpdateProjectMemberInput!) {
      updateProjectMember(input: $input) { success } }"""
    alice_id = graphql(server, '{ users(query: "alice") { edges { node { id } } } }')["users"][
        "edges"
    ][0]["node"]["id"]
    cases = [
        (add, {"projectId": project_id, "userIds": ["VXNlcjo5OTk="]}, "no user with ID 999"),
        (add, {"projectId": project_id, "teamIds": [alice_id]}, "User"),
        (role, {"projectId": project_id, "userId": alice_id, "userProjectRole": "owner"}, "role"),
    ]
    for query, variables, message in cases:
        reply = post(server, alice_key, query, {"input": variables})
        assert message in reply["errors"][0]["message"], reply
    anonymous = requests.post(
        f"{server.base_url}/graphql",
        json={"query": add, "variables": {"input": {"projectId": project_id, "userIds": []}}},
        timeout=30,
    )
    assert anonymous.status_code == 401
    # A project that is no registry has no members to manage.
    graphql(server, 'mutation { upsertModel(input: {name: "plain"}) { project { id } } }')
    plain = graphql(server, PROJECT_ID, {"e": server.entity, "p": "plain"})["project"]["id"]
    reply = post(server, server.api_key, add, {"input": {"projectId": plain, "userIds": []}})
    assert "registry only" in reply["errors"][0]["message"]


def test_a_user_sets_its_default_entity_to_one_of_its_own(server, monkeypatch):
    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    sdk_api(server).create_team("labs", admin_username="alice")
    refused = post(server, alice_key, UPDATE_USER, {"input": {"defaultEntity": "bob"}})
    assert "may not use entity 'bob'" in refused["errors"][0]["message"]
    alice_id = post(server, alice_key, VIEWER, {})["data"]["viewer"]["id"]
    hijack = {"input": {"id": alice_id, "defaultEntity": "bob"}}
    assert "permission denied" in post(server, bob_key, UPDATE_USER, hijack)["errors"][0]["message"]

    changed = post(server, alice_key, UPDATE_USER, {"input": {"defaultEntity": "labs"}})
    assert changed["data"]["updateUser"]["user"]["entity"] == "labs"
    assert post(server, alice_key, VIEWER, {})["data"]["viewer"]["entity"] == "labs"
    # The SDK logs a run without an entity to the default one.
    settings = sdk_settings(server)
    settings.api_key = alice_key
    run = wandb.init(project="experiments", settings=settings)
    assert run.entity == "labs"
    run.finish()
    assert [r.name for r in sdk_as(server, alice_key).runs("labs/experiments")] == [run.name]


def test_contains_filters_runs_by_substring(server):
    for name, display in (("r1", "resnet-small"), ("r2", "resnet-large"), ("r3", "vit")):
        graphql(
            server,
            "mutation($n: String!, $d: String) { upsertBucket(input: {name: $n, displayName: $d, "
            'modelName: "proj", entityName: "ent"}) { bucket { id } } }',
            {"n": name, "d": display},
        )
    runs = sdk_api(server).runs(
        f"{ENTITY}/{PROJECT}", filters={"display_name": {"$contains": "resnet"}}
    )
    assert sorted(run.name for run in runs) == ["resnet-large", "resnet-small"]
    bad = post(
        server,
        server.api_key,
        'query { project(entityName: "ent", name: "proj") { runs(filters: '
        '"{\\"display_name\\": {\\"$contains\\": 5}}") { edges { node { id } } } } }',
        {},
    )
    assert "$contains takes a str" in bad["errors"][0]["message"]


def test_users_query_for_plain_users_finds_exact_names_only(server):
    alice_key = add_user(server, "alice@example.com")
    add_user(server, "bob@example.com")

    def found(key: str, query: str | None) -> list[str]:
        reply = post(server, key, USERS, {"q": query})
        assert "errors" not in reply, reply
        return [edge["node"]["username"] for edge in reply["data"]["users"]["edges"]]

    assert found(alice_key, "bob") == ["bob"]
    assert found(alice_key, "bob@example.com") == ["bob"]
    assert found(alice_key, "b") == [] and found(alice_key, "example.com") == []
    assert found(alice_key, None) == []
    assert found(server.api_key, "example.com") == ["alice", "bob"]  # the admin searches


def test_a_project_the_caller_may_not_see_is_answered_as_missing(server):
    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    settings = sdk_settings(server)
    settings.api_key = bob_key
    run = wandb.init(entity="bob", project="private", settings=settings)
    run.log_artifact(wandb.Artifact("ds", "dataset")).wait()
    run.finish()

    answers = [
        post(server, alice_key, PROJECT_ID, {"e": entity, "p": project})
        for entity, project in (("bob", "private"), ("bob", "absent"), ("alice", "absent"))
    ]
    assert answers == [{"data": {"project": None}}] * 3
    alice = sdk_as(server, alice_key)
    errors = []
    for path in ("bob/private/ds:v0", "bob/absent/ds:v0"):
        with pytest.raises(Exception) as raised:
            alice.artifact(path)
        errors.append((type(raised.value), str(raised.value).replace("private", "absent")))
    assert errors[0] == errors[1]
    assert sdk_as(server, bob_key).artifact("bob/private/ds:v0").version == "v0"
