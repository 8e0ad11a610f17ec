"""Actions in the web UI: each form posts the GraphQL mutation the SDK sends, so the real
SDK reads what a page did; every form needs the session's CSRF token, and a user may act
only where GraphQL lets it."""

from __future__ import annotations

import re

import pytest
import requests

from tests.server.test_users import add_user, client, log
from tests.support import ENTITY, PROJECT, graphql, sdk_api
from tests.webhooks import WebhookReceiver

pytestmark = pytest.mark.usefixtures("wandb_home")

VERSION = "/alice/private/artifacts/dataset/ds/v0"
COLLECTION = "/alice/private/artifacts/dataset/ds"
_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def token(server, key: str, path: str = VERSION) -> str:
    """The CSRF token a page of ``path`` gives the session of ``key``."""
    reply = requests.get(f"{server.base_url}{path}", auth=("api", key), timeout=30)
    assert reply.status_code == 200, reply.text[:300]
    return _TOKEN.search(reply.text)[1]


def post(server, key: str, path: str, fields: dict, csrf: str | None) -> requests.Response:
    data = {**fields, **({"csrf_token": csrf} if csrf is not None else {})}
    return requests.post(
        f"{server.base_url}{path}", data=data, auth=("api", key), timeout=30, allow_redirects=False
    )


@pytest.fixture
def users(server):
    """Alice, with versions ``ds:v0`` and ``v1`` in her own project; Bob, who may not use it."""
    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    alice = client(server, alice_key, "private")
    log(alice, "ds")
    run = alice.create_run()
    from dagster_wandb_artifacts.client import Artifact

    second = Artifact("ds", "dataset")
    with second.new_file("rows.csv") as file:
        file.write("a,b\n3,4\n")
    run.log_artifact(second)
    run.finish()
    log(client(server, bob_key, "own"), "mine")
    return {"alice": alice_key, "bob": bob_key}


def sdk(server, key: str):
    import wandb

    return wandb.Api(api_key=key, overrides={"base_url": server.base_url})


#: Each action: its URL under the version (or collection), its fields, and what the SDK
#: must read after it.
ACTIONS = [
    (f"{VERSION}/actions/add-aliases", {"alias": "best, gold"}),
    (f"{VERSION}/actions/add-tags", {"tag": "reviewed"}),
    (f"{VERSION}/actions/description", {"description": "checked by hand <b>"}),
    (f"{COLLECTION}/actions/description", {"description": "all the rows"}),
    (f"{COLLECTION}/actions/add-tags", {"tag": "curated, raw"}),
    (
        f"{VERSION}/actions/link",
        {"registry": "models", "collection": "ds-prod", "aliases": "production"},
    ),
]


def test_every_action_is_refused_without_the_token_or_by_another_user(server, users):
    alice, bob = users["alice"], users["bob"]
    alices_token = token(server, alice)
    bobs_token = token(server, bob, "/bob/own/artifacts/dataset/mine/v0")
    assert bobs_token != alices_token  # tied to the session
    forms = [
        *ACTIONS,
        (f"{VERSION}/actions/remove-aliases", {"alias": "latest"}),
        (f"{VERSION}/actions/remove-tags", {"tag": "x"}),
        (f"{COLLECTION}/actions/remove-tags", {"tag": "x"}),
        (f"{VERSION}/actions/delete", {}),
        (f"{VERSION}/actions/unlink", {}),
    ]
    for path, fields in forms:
        for csrf in (None, "", bobs_token, alices_token[:-1] + "0"):
            refused = post(server, alice, path, fields, csrf)
            assert refused.status_code == 403 and "CSRF token" in refused.text, (path, csrf)
        # Bob, with his own valid token, may not act on Alice's version: it is not there.
        assert post(server, bob, path, fields, bobs_token).status_code == 404, path
        assert post(server, bob, path, fields, None).status_code == 403, path
        assert requests.post(f"{server.base_url}{path}", data=fields, timeout=30).status_code == 401
        # No state change on GET.
        got = requests.get(f"{server.base_url}{path}", auth=("api", alice), timeout=30)
        assert got.status_code in (404, 405), path
    version = sdk(server, alice).artifact("alice/private/ds:v0")
    assert version.aliases == [] and version.tags == [] and version.description is None
    assert sdk(server, alice).artifact("alice/private/ds:v1").aliases == ["latest"]


def test_each_action_is_recorded_as_the_api_records_it(server, users):
    alice = users["alice"]
    csrf = token(server, alice)
    assert token(server, alice, COLLECTION) == csrf  # one token for the whole session
    for path, fields in ACTIONS:
        done = post(server, alice, path, fields, csrf)
        assert done.status_code == 303, (path, done.status_code, done.text[:300])
    api = sdk(server, alice)
    version = api.artifact("alice/private/ds:v0")
    assert sorted(version.aliases) == ["best", "gold"]
    assert version.tags == ["reviewed"]
    assert version.description == "checked by hand <b>"
    collection = api.artifact_collection("dataset", "alice/private/ds")
    assert collection.description == "all the rows"
    assert sorted(collection.tags) == ["curated", "raw"]
    linked = api.artifact(f"{server.entity}/wandb-registry-models/ds-prod:production")
    assert linked.digest == version.digest
    assert f"/orgs/{server.entity}/registry/models?selectionPath=" in done.headers["location"]
    registry = requests.get(
        f"{server.base_url}{done.headers['location']}", auth=("api", alice), timeout=30
    ).text
    assert 'class="highlight"' in registry and '<span class="alias">production</span>' in registry
    page = requests.get(f"{server.base_url}{VERSION}", auth=("api", alice), timeout=30).text
    assert "checked by hand &lt;b&gt;" in page  # escaped
    page = requests.get(f"{server.base_url}{COLLECTION}", auth=("api", alice), timeout=30).text
    assert '<span class="description">all the rows</span>' in page

    for path, fields in (
        (f"{VERSION}/actions/remove-aliases", {"alias": "gold"}),
        (f"{VERSION}/actions/remove-tags", {"tag": "reviewed"}),
        (f"{COLLECTION}/actions/remove-tags", {"tag": "raw"}),
    ):
        assert post(server, alice, path, fields, csrf).status_code == 303
    version = sdk(server, alice).artifact("alice/private/ds:v0")
    assert version.aliases == ["best"] and version.tags == []
    collection = sdk(server, alice).artifact_collection("dataset", "alice/private/ds")
    assert collection.tags == ["curated"]

    # A refused mutation is the API's error, and changes nothing.
    bad = post(server, alice, f"{VERSION}/actions/add-aliases", {"alias": "v7"}, csrf)
    assert bad.status_code == 400 and "v7" in bad.text
    registry_version = f"/{server.entity}/wandb-registry-models/artifacts/dataset/ds-prod/v0"
    unlink = post(server, alice, f"{registry_version}/actions/unlink", {}, csrf)
    assert unlink.status_code == 303
    assert sdk(server, alice).artifact("alice/private/ds:v0").linked_artifacts == []


def test_delete_confirms_what_goes_and_where_latest_moves(server, users):
    alice = users["alice"]
    latest = "/alice/private/artifacts/dataset/ds/v1"
    csrf = token(server, alice, latest)
    added = post(server, alice, f"{latest}/actions/add-aliases", {"alias": "keep"}, csrf)
    assert added.status_code == 303
    confirm = requests.get(f"{server.base_url}{latest}/delete", auth=("api", alice), timeout=30)
    assert confirm.status_code == 200
    text = confirm.text
    assert "Delete ds:v1?" in text and "alice/private/ds:v1" in text
    assert '<span class="alias">keep</span>' in text
    assert "<code>latest</code> moves to <strong>v0</strong>" in text
    assert requests.get(f"{server.base_url}{latest}", auth=("api", alice), timeout=30).ok  # still
    done = post(server, alice, f"{latest}/actions/delete", {}, csrf)
    assert done.status_code == 303
    assert done.headers["location"] == "/alice/private/artifacts/dataset/ds"
    api = sdk(server, alice)
    assert api.artifact("alice/private/ds:latest").version == "v0"
    with pytest.raises(Exception, match="keep|not found|ds"):
        api.artifact("alice/private/ds:keep")


def test_promote_from_the_ui_fires_the_registry_automation(server):
    from wandb.automations import OnLinkArtifact, SendWebhook

    from tests.server.test_automations import CREATE_HOOK, log_versions

    with WebhookReceiver().running() as receiver:
        hook = {"entityName": server.entity, "name": "dagster", "urlEndpoint": receiver.url}
        graphql(server, CREATE_HOOK, {"input": hook})
        log_versions(server, "clf", 2)
        api = sdk_api(server)
        api.artifact(f"{ENTITY}/{PROJECT}/clf:v0").link("wandb-registry-model/clf-prod")
        registry = f"{server.entity}/wandb-registry-model"
        portfolio = api.artifact_collection("model", f"{registry}/clf-prod")
        [hook] = list(api.webhook_integrations(entity=server.entity))
        template = {"linked": "${artifact_version_string}", "event": "${event_type}"}
        api.create_automation(
            OnLinkArtifact(scope=portfolio) >> SendWebhook.from_integration(hook, payload=template),
            name="on-promote",
        )
        page = f"/{ENTITY}/{PROJECT}/artifacts/model/clf/v1"
        csrf = token(server, server.api_key, page)
        fields = {"registry": "model", "collection": "clf-prod", "aliases": "production"}
        assert post(server, server.api_key, f"{page}/actions/link", fields, csrf).status_code == 303
        [delivered] = receiver.wait_for(1)
    assert delivered.json["linked"] == f"{server.entity}/wandb-registry-model/clf-prod:v1"
    assert delivered.json["event"].startswith("LINK_")  # the event a link fires
    assert "production" in api.artifact(f"{server.entity}/wandb-registry-model/clf-prod:v1").aliases
