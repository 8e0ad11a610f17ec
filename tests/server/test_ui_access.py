"""The web UI shows a user what GraphQL lets it use and nothing more: another user's project
answers 404 at every page, as a missing one does, and lists and lineage leave it out."""

from __future__ import annotations

import pytest
import requests

from tests.server.test_users import add_user, client, log

pytestmark = pytest.mark.usefixtures("wandb_home")


def page(server, key: str, path: str, status: int = 200) -> str:
    reply = requests.get(f"{server.base_url}{path}", auth=("api", key), timeout=30)
    assert reply.status_code == status, (path, reply.status_code, reply.text[:300])
    return reply.text


def test_a_user_sees_only_its_own_projects_and_the_registries(server):
    org = server.entity
    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    alice = client(server, alice_key, "private")
    secret = log(alice, "secret-ds")
    producer = secret.logged_by().id
    secret.link("wandb-registry-models/shared")
    bob = client(server, bob_key, "own")
    log(bob, "mine")
    reader = bob.create_run(job_type="reader")
    reader.use_artifact(bob.artifact(f"{org}/wandb-registry-models/shared:v0"))
    reader.finish()

    version = "/alice/private/artifacts/dataset/secret-ds/v0"
    alices = [
        "/alice/private",
        "/alice/private/runs",
        "/alice/private/artifacts/dataset",
        "/alice/private/artifacts/dataset/secret-ds",
        version,
        f"{version}/metadata",
        f"{version}/lineage",
        f"{version}/files/rows.csv",
        f"{version}/files/rows.csv?raw=1",
        f"/alice/private/runs/{producer}",
    ]
    missing = page(server, bob_key, "/alice/nothing", status=404)
    for path in alices:
        refused = page(server, bob_key, path, status=404)
        assert "rows.csv" not in refused and "/storage/obj/" not in refused
    # Refused as a missing project is: the same page, but for the name in the URL.
    assert page(server, bob_key, "/alice/private", 404) == missing.replace("nothing", "private")
    for path in alices[:-1]:
        assert page(server, alice_key, path.replace("?raw=1", "")), path
    assert "/storage/obj/" in page(server, alice_key, f"{version}/files/rows.csv")  # download

    home = page(server, bob_key, "/")
    assert 'href="/bob/own"' in home and "/alice/private" not in home
    assert "/alice/private" not in page(server, bob_key, "/alice/projects")
    assert "No match" in page(server, bob_key, "/?q=secret")
    assert "artifacts/dataset/secret-ds" in page(server, alice_key, "/?q=secret")
    assert f"/{org}/wandb-registry-models/artifacts/dataset/shared" in page(
        server, bob_key, "/?q=shared"
    )
    assert f'href="/orgs/{org}/registry/models"' in page(server, bob_key, "/registry")
    selection = f"/orgs/{org}/registry/models?selectionPath={org}%2Fwandb-registry-models%2Fshared"
    alices_run = f"/alice/private/runs/{producer}"
    assert alices_run not in page(server, bob_key, selection)  # the version, not who logged it
    assert alices_run in page(server, alice_key, selection)

    # The registry's version: bob sees it and his own run that used it, not alice's project.
    linked = f"/{org}/wandb-registry-models/artifacts/dataset/shared/v0"
    bobs_run = f"/bob/own/runs/{reader.id}"
    for path in (linked, f"{linked}/lineage"):
        shown = page(server, bob_key, path)
        assert bobs_run in shown and "alice/private" not in shown, path
    # Alice's own version: bob's run that used it (through the registry) is his own business.
    for path in (version, f"{version}/lineage"):
        shown = page(server, alice_key, path)
        assert alices_run in shown and bobs_run not in shown and "first 0" not in shown, path
        assert bobs_run in page(server, server.api_key, path)  # the administrator sees all
    admin_home = page(server, server.api_key, "/")
    assert 'href="/alice/private"' in admin_home and 'href="/bob/own"' in admin_home
