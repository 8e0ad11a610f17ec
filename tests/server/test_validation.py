"""Names, aliases, tags and descriptions with control characters, bidirectional overrides or
unpaired surrogates get W&B's validation error as an HTTP 400, never a 500, and nothing of
the request is stored."""

from __future__ import annotations

import json

import pytest
import requests

from dagster_wandb_artifacts.formats.names import NAME, TAG, fits, is_alias, unsafe_in_text
from tests.server.test_server import CREATE, commit, create_pending
from tests.support import ENTITY, PROJECT, graphql, sdk_api, sdk_run

BAD = {
    "NUL": "a\x00b",
    "newline": "best\n",
    "RTL override": "best\u202etxt.exe",
    "unpaired surrogate": "best\ud800",
}

UPDATE = """mutation($input: UpdateArtifactInput!) {
  updateArtifact(input: $input) { artifact { id description } } }"""
VERSION = """query { project(entityName: "ent", name: "proj") {
  artifactCollectionMembership(name: "raw:v0") { artifact { description tags { name }
    aliases { alias } } } } }"""


def post_raw(server, query: str, variables: dict) -> requests.Response:
    """Posted as Python's json does by default: non-ASCII as \\u escapes, an unpaired
    surrogate as a lone \\ud800 (what a client with a bug or an attacker sends)."""
    return requests.post(
        f"{server.base_url}/graphql",
        data=json.dumps({"query": query, "variables": variables}),
        headers={"Content-Type": "application/json"},
        auth=("api", server.api_key),
        timeout=30,
    )


def create_input(**changes: object) -> dict:
    fields = {
        "entityName": ENTITY,
        "projectName": PROJECT,
        "artifactTypeName": "dataset",
        "artifactCollectionName": "raw",
        "digest": "0" * 32,
        "digestAlgorithm": "MANIFEST_MD5",
    }
    return {**fields, **changes}


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
def test_bad_characters_are_refused_everywhere_with_a_400(server, bad):
    version = create_pending(server, {"a.txt": b"kept"})
    commit(server, version["id"])
    before = graphql(server, VERSION)
    refused = {
        "alias": (
            CREATE,
            {"input": create_input(aliases=[{"alias": bad, "artifactCollectionName": "raw"}])},
        ),
        "tag": (CREATE, {"input": create_input(tags=[{"tagName": bad}])}),
        "name": (CREATE, {"input": create_input(artifactCollectionName=bad)}),
        "description": (CREATE, {"input": create_input(description=f"text {bad}")}),
        "new alias": (
            UPDATE,
            {"input": {"artifactID": version["id"], "aliases": [{"alias": bad}]}},
        ),
        "new description": (
            UPDATE,
            {"input": {"artifactID": version["id"], "description": f"text {bad}"}},
        ),
    }
    if bad == BAD["newline"]:  # line breaks are fine in free text, not in names
        del refused["description"], refused["new description"]
    for what, (query, variables) in refused.items():
        reply = post_raw(server, query, variables)
        assert reply.status_code == 400, (what, reply.status_code, reply.text)
        assert "internal server error" not in reply.text
        assert "invalid" in reply.text or "unpaired surrogate" in reply.text, (what, reply.text)
    assert graphql(server, VERSION) == before  # nothing changed
    assert graphql(
        server,
        '{ project(entityName: "ent", name: "proj") { artifactCollections { edges { '
        "node { name } } } } }",
    )["project"]["artifactCollections"]["edges"] == [{"node": {"name": "raw"}}]


def test_multiline_descriptions_and_unicode_names_are_kept(server):
    version = create_pending(server, {"a.txt": b"kept"})
    commit(server, version["id"])
    text = "# Notes\n\n\tline two\r\nemoji 👨‍👩‍👧 and العربية"
    reply = post_raw(server, UPDATE, {"input": {"artifactID": version["id"], "description": text}})
    assert (
        reply.status_code == 200
        and reply.json()["data"]["updateArtifact"]["artifact"]["description"] == text
    )


def test_the_shared_rules():
    assert not fits(NAME, "name\n") and not fits(TAG, "tag\n") and fits(NAME, "données-v1")
    assert not is_alias("a\u202eb") and not is_alias("a\x00") and is_alias("prod 2")
    assert unsafe_in_text("a\u2066b") == "\u2066" and unsafe_in_text("a\nb\tc") is None


def test_the_sdk_gets_the_validation_error(server, wandb_home, tmp_path, monkeypatch):
    """The SDK checks only '/' and ':' in aliases: the server's 400 is what it reports."""
    import wandb

    monkeypatch.setenv("WANDB_BASE_URL", server.base_url)
    monkeypatch.setenv("WANDB_API_KEY", server.api_key)
    (tmp_path / "a.txt").write_text("a")
    run = sdk_run(server)
    draft = wandb.Artifact("data", "dataset")
    draft.add_file(str(tmp_path / "a.txt"))
    run.log_artifact(draft, aliases=["best\u202etxt"])
    with pytest.raises(ValueError, match="invalid alias"):
        draft.wait(timeout=60)
    run.finish()
    collections = sdk_api(server).project(PROJECT, ENTITY).collections()
    assert "data" not in {collection.name for collection in collections}
