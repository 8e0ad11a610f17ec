"""The core authorizes every object it returns or changes, for the caller: each attack below is
driven over HTTP by a second user (bob) with a key of his own against a first user's (alice's)
data, as an attacker would: nested fields, IDs from Registry links and from his own manifests,
file URLs with another project's md5, writes by ID, and names claimed first."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import requests

from dagster_wandb_artifacts.client import Api, Artifact, AuthenticationError, NotFoundError
from tests.server.test_users import add_user, client, post

pytestmark = pytest.mark.usefixtures("wandb_home")

REGISTRY = "wandb-registry-models"
SECRET = b"alice's never linked rows\n"
WEIGHTS = b"alice's model weights\n"


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def log_file(api: Api, name: str, data: bytes, aliases: list[str] | None = None) -> Artifact:
    run = api.create_run(config={"lr": 0.1, "secret": "alice's config"})
    artifact = Artifact(name, "dataset")
    with artifact.new_file("rows.csv", mode="wb") as file:
        file.write(data)
    logged = run.log_artifact(artifact, aliases=aliases)
    run.finish()
    return logged


@pytest.fixture
def world(server):
    """alice's private project: ``never-linked`` (never linked anywhere) and ``model`` (its
    ``production`` version linked into the organization's registry, which bob may read)."""
    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    alice = client(server, alice_key, "private")
    secret = log_file(alice, "never-linked", SECRET)
    model = log_file(alice, "model", WEIGHTS, aliases=["production"])
    model.link(f"{REGISTRY}/shared")
    return {
        "org": server.entity,
        "alice": alice_key,
        "bob": bob_key,
        "secret": secret,
        "model": model,
    }


def errors(reply: dict) -> str:
    return " ".join(error["message"] for error in reply.get("errors") or [])


def test_nested_entity_and_organization_fields_list_only_readable_projects(server, world):
    org = world["org"]
    client(server, server.api_key, f"{org}/admin-private").create_run().finish()
    query = """query($org: String!) {
      entity(name: $org) { projects { edges { node { name } } }
        project(name: "admin-private") { name runs { edges { node { config } } } } }
      organization(name: $org) { orgEntity {
        project(name: "admin-private") { name }
        projects { edges { node { name } } } } } }"""
    reply = post(server, world["bob"], query, {"org": org})
    data = reply["data"]
    listed = [e["node"]["name"] for e in data["entity"]["projects"]["edges"]]
    assert "admin-private" not in listed and REGISTRY in listed, reply
    assert data["entity"]["project"] is None
    org_entity = data["organization"]["orgEntity"]
    assert org_entity["project"] is None
    assert [e["node"]["name"] for e in org_entity["projects"]["edges"]] == [REGISTRY]
    # The administrator sees it all.
    mine = post(server, server.api_key, query, {"org": org})["data"]
    assert mine["entity"]["project"]["name"] == "admin-private"


LINKED = """query($org: String!) {
  project(entityName: $org, name: "wandb-registry-models") { artifact(name: "shared:v0") {
    id digest files { edges { node { name directUrl } } }
    artifactSequence { name description project { name
        artifact(name: "never-linked:v0") { id }
        runs { edges { node { config } } } }
      latestArtifact { id } artifacts { edges { node { id } } }
      artifactMembership(aliasName: "v0") { id } }
    createdBy { __typename ... on Run { name config } }
    usedBy { edges { node { name } } }
    aliases { alias artifactCollection { name } }
    artifactMemberships { edges { node { artifactCollection { name project { name } } } } }
  } } }"""


def test_a_registry_link_reads_the_version_and_nothing_of_its_source(server, world):
    import wandb

    reply = post(server, world["bob"], LINKED, {"org": world["org"]})
    version = reply["data"]["project"]["artifact"]
    assert version["digest"] == world["model"].digest
    (file,) = version["files"]["edges"]
    assert requests.get(file["node"]["directUrl"], timeout=30).content == WEIGHTS
    sequence = version["artifactSequence"]
    assert sequence["name"] == "model"
    assert sequence["project"] is None and sequence["description"] is None
    assert sequence["latestArtifact"] is None and sequence["artifacts"] is None
    assert sequence["artifactMembership"] is None
    assert version["createdBy"] is None and version["usedBy"]["edges"] == []
    assert {a["artifactCollection"]["name"] for a in version["aliases"]} == {"shared"}
    homes = [e["node"]["artifactCollection"] for e in version["artifactMemberships"]["edges"]]
    assert homes == [{"name": "shared", "project": {"name": REGISTRY}}]
    # The owner still sees its source, its run and its alias there.
    owners = post(server, world["alice"], LINKED, {"org": world["org"]})["data"]
    assert owners["project"]["artifact"]["artifactSequence"]["project"]["name"] == "private"
    assert owners["project"]["artifact"]["createdBy"]["config"]
    # The SDK reads the linked version through the registry, its source unnamed.
    theirs = wandb.Api(overrides={"base_url": server.base_url}, api_key=world["bob"])
    fetched = theirs.artifact(f"{world['org']}/{REGISTRY}/shared:v0")
    assert fetched.digest == world["model"].digest and fetched.source_project == ""


MANIFEST = """mutation($id: ID!, $digest: String!) {
  createArtifactManifest(input: {artifactID: $id, name: "wandb_manifest.json", digest: $digest,
    entityName: "bob", projectName: "own", runName: "r", type: FULL}) {
    artifactManifest { file { uploadUrl } } } }"""
FILES = """mutation($input: CreateArtifactFilesInput!) {
  createArtifactFiles(input: $input) { files { edges { node {
    storagePath uploadUrl artifact { id description metadata } } } } } }"""
COMMIT = """mutation($id: ID!) { commitArtifact(input: {artifactID: $id}) { artifact { id } } }"""
OWN_FILES = """query($id: ID!) { artifact(id: $id) { files { edges { node { name
    artifact { id digest description files { edges { node { directUrl } } } } } } } } }"""


def bobs_version(server, key: str, data: bytes, birth: str | None = None) -> tuple[str, dict]:
    """Steps 1-4 of logging ``rows.csv`` holding ``data`` to bob/own as bob: the pending
    version's ID and the node createArtifactFiles answered. ``birth`` is put in the manifest
    as the entry's birthArtifactID."""
    entry: dict = {"digest": md5_b64(data), "size": len(data)}
    if birth:
        entry["birthArtifactID"] = birth
    manifest = json.dumps(
        {
            "version": 1,
            "storagePolicy": "wandb-storage-policy-v1",
            "storagePolicyConfig": {"storageLayout": "V2"},
            "contents": {"rows.csv": entry},
        }
    ).encode()
    digest = hashlib.md5(f"wandb-artifact-manifest-v1\nrows.csv:{entry['digest']}\n".encode())
    create = """mutation($input: CreateArtifactInput!) { createArtifact(input: $input) {
      artifact { id } } }"""
    created = post(
        server,
        key,
        create,
        {
            "input": {
                "entityName": "bob",
                "projectName": "own",
                "artifactTypeName": "dataset",
                "artifactCollectionName": "probe",
                "digest": digest.hexdigest(),
                "digestAlgorithm": "MANIFEST_MD5",
            }
        },
    )
    artifact_id = created["data"]["createArtifact"]["artifact"]["id"]
    made = post(server, key, MANIFEST, {"id": artifact_id, "digest": md5_b64(manifest)})
    upload = made["data"]["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]
    assert requests.put(upload, data=manifest, timeout=30).ok
    specs = [{"artifactID": artifact_id, "name": "rows.csv", "md5": entry["digest"]}]
    answered = post(server, key, FILES, {"input": {"artifactFiles": specs, "storageLayout": "V2"}})
    assert "errors" not in answered, answered
    return artifact_id, answered["data"]["createArtifactFiles"]["files"]["edges"][0]["node"]


def test_a_birth_version_named_in_ones_own_manifest_is_not_read_through_file_artifact(
    server, world
):
    secret_id = world["secret"].id
    artifact_id, node = bobs_version(server, world["bob"], b"bob's own rows\n", birth=secret_id)
    assert requests.put(node["uploadUrl"], data=b"bob's own rows\n", timeout=30).ok
    assert post(server, world["bob"], COMMIT, {"id": artifact_id})["data"]["commitArtifact"]
    reply = post(server, world["bob"], OWN_FILES, {"id": artifact_id})
    (file,) = reply["data"]["artifact"]["files"]["edges"]
    seen = file["node"]["artifact"]
    assert seen is None or seen["id"] == artifact_id, seen
    assert world["secret"].digest not in json.dumps(reply)


def test_a_known_md5_neither_deduplicates_nor_serves_anothers_bytes(server, world):
    secret_id = world["secret"].id
    artifact_id, node = bobs_version(server, world["bob"], SECRET)
    # Not deduplicated against alice's version: bob is asked to upload, and sees his version.
    assert node["uploadUrl"] is not None
    assert node["artifact"]["id"] == artifact_id and secret_id not in json.dumps(node)
    # Committing without the upload is refused: knowing the md5 proves nothing.
    refused = post(server, world["bob"], COMMIT, {"id": artifact_id})
    assert "was not uploaded" in errors(refused)
    # W&B's download path under bob's own project serves nothing of alice's by her md5.
    md5_hex = hashlib.md5(SECRET).hexdigest()
    for project in ("bob/own", "alice/private"):
        url = f"{server.base_url}/artifactsV2/default/{project}/probe/{secret_id}/{md5_hex}/x"
        reply = requests.get(url, auth=("api", world["bob"]), timeout=30)
        assert reply.status_code == 404 and SECRET not in reply.content, project
    # alice reads her own file there; bob, once he uploads the bytes he holds, his own.
    alices = f"{server.base_url}/artifactsV2/default/alice/private/never-linked/1/{md5_hex}/x"
    assert requests.get(alices, auth=("api", world["alice"]), timeout=30).content == SECRET
    assert requests.put(node["uploadUrl"], data=SECRET, timeout=30).ok
    assert post(server, world["bob"], COMMIT, {"id": artifact_id})["data"]["commitArtifact"]
    bobs = url.replace("alice/private", "bob/own")
    assert requests.get(bobs, auth=("api", world["bob"]), timeout=30).content == SECRET


def test_declaring_an_md5_before_its_bytes_exist_grants_nothing(server, world):
    # bob guesses the md5 of rows alice has not logged yet and declares it first, with no
    # upload: only a verified upload may let his version list the object.
    future = b"alice's rows of tomorrow\n"
    artifact_id, node = bobs_version(server, world["bob"], future)
    log_file(client(server, world["alice"], "private"), "tomorrow", future)
    refused = post(server, world["bob"], COMMIT, {"id": artifact_id})
    assert "was not uploaded for this version" in errors(refused)
    md5_hex = hashlib.md5(future).hexdigest()
    url = f"{server.base_url}/artifactsV2/default/bob/own/probe/{artifact_id}/{md5_hex}/x"
    reply = requests.get(url, auth=("api", world["bob"]), timeout=30)
    assert reply.status_code == 404 and future not in reply.content
    # Once he uploads the bytes himself, his version holds them.
    assert requests.put(node["uploadUrl"], data=future, timeout=30).ok
    assert post(server, world["bob"], COMMIT, {"id": artifact_id})["data"]["commitArtifact"]
    assert requests.get(url, auth=("api", world["bob"]), timeout=30).content == future


BY_PROJECT_ID = {
    "deleteModel": "mutation($id: String!) { deleteModel(input: {id: $id}) { success } }",
    "createProjectMembers": """mutation($id: ID!) { createProjectMembers(input: {
      projectId: $id, userIds: []}) { success } }""",
}
BY_COLLECTION_ID = {
    "updateArtifactSequence": """mutation($id: ID!) { updateArtifactSequence(input: {
      artifactSequenceID: $id, description: "bob's"}) { artifactCollection { id } } }""",
    "deleteArtifactSequence": """mutation($id: ID!) { deleteArtifactSequence(input: {
      artifactSequenceID: $id}) { artifactCollection { id } } }""",
}


def test_project_and_collection_ids_of_others_answer_as_missing_ones(server, world):
    ids = """{ project(entityName: "alice", name: "private") { id
      artifactCollection(name: "never-linked") { id } } }"""
    alices = post(server, world["alice"], ids, {})["data"]["project"]
    project_id, collection_id = alices["id"], alices["artifactCollection"]["id"]
    missing_project = base64.b64encode(b"Project:999999").decode()
    missing_collection = base64.b64encode(b"ArtifactSequence:999999").decode()
    bob = world["bob"]
    for queries, theirs, missing in (
        (BY_PROJECT_ID, project_id, missing_project),
        (BY_COLLECTION_ID, collection_id, missing_collection),
    ):
        for field, query in queries.items():
            told = errors(post(server, bob, query, {"id": theirs}))
            assert "not found" in told and told == errors(post(server, bob, query, {"id": missing}))
            assert "permission denied" not in told, field
    read = "query($id: ID!) { artifactCollection(id: $id) { id name description } }"
    assert post(server, bob, read, {"id": collection_id}) == {"data": {"artifactCollection": None}}
    # Nothing changed: alice still reads her project and collection as they were.
    again = post(server, world["alice"], ids, {})["data"]["project"]
    assert again == alices


def test_root_reads_by_name_of_others_answer_as_missing_ones(server, world):
    reads = {
        "entity": """query($e: String!) { entity(name: $e) { name
          projects { edges { node { name } } } } }""",
        "project": """query($e: String!) { project(entityName: $e, name: "private") { id
          runs { edges { node { config } } } } }""",
        "projects": """query($e: String!) { projects(entityName: $e) { edges { node {
          name } } } }""",
    }
    for field, query in reads.items():
        theirs = post(server, world["bob"], query, {"e": "alice"})
        assert theirs == post(server, world["bob"], query, {"e": "nobody"}), field
        assert "errors" not in theirs and "private" not in json.dumps(theirs), theirs
    # alice reads them; bob his own entity and the organization's registries.
    mine = post(server, world["alice"], reads["project"], {"e": "alice"})["data"]["project"]
    assert "alice's config" in json.dumps(mine)
    assert post(server, world["bob"], reads["entity"], {"e": "bob"})["data"]["entity"]
    org = post(server, world["bob"], reads["projects"], {"e": world["org"]})["data"]
    assert REGISTRY in json.dumps(org)


def test_writes_by_id_through_a_registry_link_are_refused(server, world):
    model_id = world["model"].id
    bob, alice = world["bob"], world["alice"]
    update = """mutation($id: ID!) { updateArtifact(input: {artifactID: $id,
      description: "changed by bob"}) { artifact { id } } }"""
    assert "permission denied" in errors(post(server, bob, update, {"id": model_id}))
    move = """mutation($id: ID!) { deleteAliases(input: {artifactID: $id, aliases: [{
      entityName: "alice", projectName: "private", artifactCollectionName: "model",
      alias: "production"}]}) { success } }"""
    assert "permission denied" in errors(post(server, bob, move, {"id": model_id}))
    delete = """mutation($id: ID!) { deleteArtifact(input: {artifactID: $id,
      deleteAliases: true}) { artifact { id } } }"""
    assert "permission denied" in errors(post(server, bob, delete, {"id": model_id}))
    source = client(server, alice, "private").artifact("model:production")
    assert source.id == model_id and source.description is None
    assert "production" in source.aliases


def test_an_organization_registry_is_deleted_by_an_administrator_only(server, world):
    org = world["org"]
    found = post(
        server, world["bob"], 'query($o: String!) { project(entityName: $o, name: "'
        f'{REGISTRY}") {{ id }} }}', {"o": org}
    )
    registry_id = found["data"]["project"]["id"]
    delete = "mutation($id: String!) { deleteModel(input: {id: $id}) { success } }"
    refused = post(server, world["bob"], delete, {"id": registry_id})
    assert "only an administrator" in errors(refused)
    rename = """mutation($o: String!) { renameProject(input: {entityName: $o,
      oldProjectName: "wandb-registry-models", newProjectName: "wandb-registry-mine"}) {
      project { name } } }"""
    assert "only an administrator" in errors(post(server, world["bob"], rename, {"o": org}))
    still = client(server, world["bob"], "own").artifact(f"{org}/{REGISTRY}/shared:v0")
    assert still.digest == world["model"].digest
    done = post(server, server.api_key, delete, {"id": registry_id})
    assert done["data"]["deleteModel"]["success"]


def test_run_queues_of_others_cannot_be_deleted_by_id(server, world):
    queue = client(server, world["alice"], "private").create_run_queue(
        "gpu", "local-process", entity="alice"
    )
    delete = "mutation($ids: [ID!]!) { deleteRunQueues(input: {queueIDs: $ids}) { success } }"
    refused = post(server, world["bob"], delete, {"ids": [queue.id]})
    assert "not found" in errors(refused) and not (refused["data"] or {}).get("deleteRunQueues")
    assert client(server, world["alice"], "private").run_queue("alice", "gpu").id == queue.id


def test_view_and_resource_config_ids_of_others_answer_as_missing_ones(server, world):
    view = """mutation($i: UpsertViewInput!) { upsertView(input: $i) { view { id name
      description } inserted } }"""
    alices = {"entityName": "alice", "projectName": "private", "name": "hers", "spec": "{}"}
    made = post(server, world["alice"], view, {"i": alices})["data"]["upsertView"]["view"]
    # bob names her view's ID in his own project: a new view of his, hers untouched.
    bobs = {"id": made["id"], "entityName": "bob", "projectName": "own", "description": "bob"}
    answered = post(server, world["bob"], view, {"i": bobs})["data"]["upsertView"]
    assert answered["inserted"] and answered["view"]["id"] != made["id"]
    again = post(server, world["alice"], view, {"i": {**alices, "id": made["id"]}})
    assert again["data"]["upsertView"]["view"] == made
    config = """mutation { createDefaultResourceConfig(input: {entityName: "alice",
      resource: "local-process", config: "{}"}) { defaultResourceConfigID } }"""
    config_id = post(server, world["alice"], config, {})["data"]["createDefaultResourceConfig"][
        "defaultResourceConfigID"
    ]
    queue = """mutation($c: ID) { createRunQueue(input: {entityName: "bob", projectName: "own",
      queueName: "q", access: PROJECT, defaultResourceConfigID: $c}) { success queueID } }"""
    missing = base64.b64encode(b"DefaultResourceConfig:9999").decode()
    told = [errors(post(server, world["bob"], queue, {"c": c})) for c in (config_id, missing)]
    assert all("not found" in message for message in told), told


def test_a_team_name_cannot_be_claimed_by_a_user(server, world):
    import wandb

    as_bob = wandb.Api(overrides={"base_url": server.base_url}, api_key=world["bob"])
    # The SDK swallows the refused createTeam, then reads the team: no entity bob may use,
    # answered as a missing one (null), on which it fails.
    with pytest.raises((KeyError, TypeError)):
        as_bob.create_team("research")
    with pytest.raises(AuthenticationError, match="only an administrator may create teams"):
        client(server, world["bob"], "own").create_team("research", admin_username="bob")
    team = client(server, server.api_key, "x").create_team("research", admin_username="alice")
    assert [(m.username, m.admin) for m in team.members] == [("alice", True)]
    log_file(client(server, world["alice"], "research/shared"), "features", b"team rows\n")
    with pytest.raises(NotFoundError, match="not found"):
        client(server, world["bob"], "research/shared").artifact("features:latest")


def test_an_unreadable_version_is_missing_to_every_operation_by_id(server, world):
    """Reading alice's never-linked version through bob's own calls: as a base of his patch
    manifest, as an input of his run, as a link into the registry, by ID."""
    secret_id, bob = world["secret"].id, world["bob"]
    artifact_id, _ = bobs_version(server, bob, b"bob's rows\n")
    patch = """mutation($id: ID!, $base: ID!) { createArtifactManifest(input: {artifactID: $id,
      baseArtifactID: $base, name: "wandb_manifest.json", digest: "", entityName: "bob",
      projectName: "own", runName: "r", type: PATCH}) { artifactManifest { id } } }"""
    use = """mutation($id: ID!) { useArtifact(input: {artifactID: $id, entityName: "bob",
      projectName: "own", runName: "r"}) { artifact { id digest } } }"""
    link = """mutation($id: ID!, $o: String!) { linkArtifact(input: {artifactID: $id,
      entityName: $o, projectName: "wandb-registry-models", artifactPortfolioName: "stolen"}) {
      versionIndex } }"""
    read = "query($id: ID!) { artifact(id: $id) { digest } }"
    for query, variables in (
        (patch, {"id": artifact_id, "base": secret_id}),
        (use, {"id": secret_id}),
        (link, {"id": secret_id, "o": world["org"]}),
    ):
        reply = post(server, bob, query, variables)
        assert "not found" in errors(reply) and world["secret"].digest not in json.dumps(reply)
    assert post(server, bob, read, {"id": secret_id}) == {"data": {"artifact": None}}
    missing = post(server, bob, read, {"id": "QXJ0aWZhY3Q6OTk5"})  # Artifact:999
    assert missing == {"data": {"artifact": None}}
