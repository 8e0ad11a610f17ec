"""The embedded server tried as an attacker with a valid key would: nothing outside its root,
committed versions immutable, malformed input answered 400, every request's work bounded."""

from __future__ import annotations

import base64
import http.client
from urllib.parse import unquote, urlsplit

import pytest
import requests

from dagster_wandb_artifacts.client import IntegrityError
from dagster_wandb_artifacts.server import LocalServer
from dagster_wandb_artifacts.server.signing import URLSigner
from tests.server.test_server import MANIFEST, commit, create_pending, manifest_for, md5_b64
from tests.support import graphql

RUN = """mutation { upsertBucket(input: {name: "r", modelName: "proj", entityName: "ent"})
  { bucket { id } } }"""
RUN_FILES = """mutation($files: [String!]!) { createRunFiles(input: {entityName: "ent",
  projectName: "proj", runName: "r", files: $files}) { runID files { name uploadUrl } } }"""

#: Names as they go on the wire (percent-encoded or not), each meant to leave its folder.
ESCAPES = [
    "../../../../../../{outside}/x.pth",
    "%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/{outside}/x.pth",
    "a%2F..%2F..%2F..%2F..%2F..%2F..%2F{outside}%2Fx.pth",
    "/{outside}/x.pth",
    "%2F{outside}%2Fx.pth",
    "a%00b",
    "..%5C..%5C..%5Cx.pth",
    "a/./b",
    "a//b",
    "..",
    "x" * 300,
]


def raw(server: LocalServer, method: str, target: str, body: bytes = b"", **headers: str):
    """One request with its target sent byte for byte (``requests`` would normalise it)."""
    parts = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def forged(server: LocalServer, method: str, target: str) -> str:
    """``target`` with a valid signature, as if the server had signed it: the route must
    refuse it on its own."""
    secret = (server.root / "url-signing-secret").read_text().strip().encode()
    return f"{target}?{URLSigner(secret).sign(method, unquote(target))}"


def run_id(server: LocalServer) -> int:
    graphql(server, RUN)
    ids = graphql(server, RUN_FILES, {"files": ["ok.txt"]})["createRunFiles"]["runID"]
    return int(base64.b64decode(ids).decode().partition(":")[2])


@pytest.mark.parametrize("template", ESCAPES)
def test_run_file_names_cannot_leave_the_run_folder(server, tmp_path, template):
    outside = tmp_path / "outside"
    outside.mkdir()
    name = template.format(outside=str(outside).strip("/"))
    the_run = run_id(server)
    reply = requests.post(
        f"{server.base_url}/graphql",
        json={"query": RUN_FILES, "variables": {"files": [unquote(name)]}},
        auth=("api", server.api_key),
        timeout=30,
    ).json()
    assert "errors" in reply and "invalid run file name" in reply["errors"][0]["message"], reply
    target = f"/storage/runfile/{the_run}/{name}"
    status, body = raw(server, "PUT", forged(server, "PUT", target), b"import os\n")
    assert status == 400, body
    assert list(outside.iterdir()) == []
    assert not any(p.name == "x.pth" for p in server.root.rglob("*"))


def test_run_file_through_a_symbolic_link_is_refused(server, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    the_run = run_id(server)
    folder = server.root / "storage" / "runs" / str(the_run)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "link").symlink_to(outside)
    status, body = raw(server, "PUT", forged(server, "PUT", f"/storage/runfile/{the_run}/link/x"))
    assert status == 400 and b"outside the run's folder" in body
    assert list(outside.iterdir()) == []
    ok = forged(server, "PUT", f"/storage/runfile/{the_run}/logs/out.txt")
    assert raw(server, "PUT", ok, b"fine")[0] == 200
    assert (folder / "logs" / "out.txt").read_bytes() == b"fine"


#: Every route that takes a name or id from its URL, with a hostile value in that place.
HOSTILE = ["..", "%2E%2E", "..%2F..%2Fx", "%00", "a%5Cb", "%2Ftmp%2Fx", "9" * 40, "z" * 400]
ROUTES = [
    ("PUT", "/storage/obj/{v}"),
    ("GET", "/storage/obj/{v}"),
    ("PUT", "/storage/manifest/{v}"),
    ("GET", "/storage/manifest/{v}"),
    ("PUT", "/storage/runfile/{v}/x"),
    ("PUT", "/storage/part/{v}/1"),
    ("PUT", "/storage/part/" + "a" * 32 + "/{v}"),
    ("POST", "/files/{v}/proj/r/file_stream"),
    ("POST", "/files/ent/{v}/{v}/file_stream"),
    ("GET", "/artifactsV2/default/ent/proj/c/b/{v}/x"),
    ("GET", "/artifactsV2/default/ent/proj/c/b/" + "0" * 32 + "/{v}"),
    ("GET", "/{v}/proj/artifacts/dataset/raw/v0"),
    ("GET", "/ent/proj/artifacts/{v}/{v}/{v}"),
    ("GET", "/ent/{v}/runs/{v}"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_hostile_url_parts_are_refused_by_every_route(server, method, route, caplog):
    before = {p for p in server.root.rglob("*")}
    auth = "Basic " + base64.b64encode(f"api:{server.api_key}".encode()).decode()
    for value in HOSTILE:
        target = route.format(v=value)
        for signed in (target, forged(server, method, target)):
            status, body = raw(server, method, signed, b"{}", Authorization=auth)
            # Pages answer "not found" in HTML; every other route refuses with a 4xx.
            assert 400 <= status < 500 or (status == 200 and b"Not found" in body), (
                signed,
                status,
                body,
            )
    assert {p for p in server.root.rglob("*")} - before <= {
        p for p in server.root.rglob("*") if p.suffix in (".db-wal", ".db-shm")
    }
    assert "Traceback" not in caplog.text


# Committed versions are immutable ----------------------------------------------------------------


def _pending_with_manifest_url(server: LocalServer, files: dict[str, bytes], digest_of_manifest):
    manifest, digest = manifest_for(files)
    artifact = create_pending(server, files)
    node = graphql(server, MANIFEST, {"id": artifact["id"], "digest": digest_of_manifest(manifest)})
    url = node["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]
    return artifact, manifest, url, digest


def test_a_committed_manifest_cannot_be_rewritten(server, api):
    artifact, manifest, url, _ = _pending_with_manifest_url(server, {"a.txt": b"honest"}, md5_b64)
    assert requests.put(url, data=manifest, timeout=30).ok
    commit(server, artifact["id"])
    forged_manifest, _ = manifest_for({"a.txt": b"attacker"})
    for body in (forged_manifest, manifest):
        reply = requests.put(url, data=body, timeout=30)
        assert reply.status_code == 409 and "COMMITTED" in reply.json()["error"]
    assert api.artifact("ent/proj/raw:v0").manifest.get("a.txt").digest == md5_b64(b"honest")


def test_a_manifest_without_md5_cannot_be_uploaded(server):
    _, manifest, url, _ = _pending_with_manifest_url(server, {"a.txt": b"x"}, lambda _: "")
    reply = requests.put(url, data=manifest, timeout=30)
    assert reply.status_code == 400 and "no md5" in reply.json()["error"]
    variables = {"id": create_pending(server, {})["id"], "digest": "x"}
    refused = requests.post(
        f"{server.base_url}/graphql",
        json={"query": MANIFEST, "variables": variables},
        auth=("api", server.api_key),
        timeout=30,
    ).json()
    assert "is not base64" in refused["errors"][0]["message"]


def test_the_client_refuses_a_manifest_that_does_not_match_the_digest(server, api, tmp_path):
    artifact, manifest, url, _ = _pending_with_manifest_url(server, {"a.txt": b"honest"}, md5_b64)
    assert requests.put(url, data=manifest, timeout=30).ok
    commit(server, artifact["id"])
    # Rewritten behind the server's back (a disk edit, a restored backup, a bug).
    forged_manifest, _ = manifest_for({"a.txt": b"attacker"})
    stored = next((server.root / "storage" / "manifests").iterdir())
    stored.write_bytes(forged_manifest)
    version = api.artifact("ent/proj/raw:v0")
    with pytest.raises(IntegrityError, match="does not match the version's digest"):
        version.download(tmp_path / "out")
    assert not (tmp_path / "out" / "a.txt").exists()
