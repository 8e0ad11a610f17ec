"""The embedded server tried as an attacker with a valid key would: nothing outside its root,
committed versions immutable, malformed input answered 400, every request's work bounded."""

from __future__ import annotations

import base64
import functools
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import unquote, urlsplit

import pytest
import requests

from dagster_wandb_artifacts.client import Artifact, IntegrityError, InvalidInputError
from dagster_wandb_artifacts.server import Limits, LocalServer, filters
from dagster_wandb_artifacts.server.signing import URLSigner, signing_key
from tests.server.test_server import (
    CREATE,
    MANIFEST,
    commit,
    create_pending,
    manifest_for,
    md5_b64,
)
from tests.support import CLI, graphql

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
    secret = (server.root / "url-signing-secret").read_text().strip()
    signer = URLSigner(signing_key(secret, server.api_key))
    return f"{target}?{signer.sign(method, unquote(target))}"


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
    ("PUT", "/storage/manifest/{v}/wandb_manifest.json"),
    ("GET", "/storage/manifest/{v}/wandb_manifest.json"),
    ("PUT", "/storage/runfile/{v}/x"),
    ("PUT", "/storage/part/{v}/1"),
    ("PUT", "/storage/part/" + "a" * 32 + "/{v}"),
    ("POST", "/files/{v}/proj/r/file_stream"),
    ("POST", "/files/ent/{v}/{v}/file_stream"),
    ("GET", "/artifactsV2/default/ent/proj/c/b/{v}/x"),
    ("GET", "/artifactsV2/default/ent/proj/c/b/" + "0" * 32 + "/{v}"),
    ("GET", "/orgs/{v}/registry/{v}"),
    ("GET", "/{v}/{v}"),
    ("GET", "/{v}/proj/artifacts/dataset/raw/v0"),
    ("GET", "/ent/proj/artifacts/{v}/{v}/{v}"),
    ("GET", "/ent/proj/artifacts/dataset/raw/v0/files/{v}"),
    ("GET", "/ent/proj/artifacts/dataset/raw/v0/{v}"),
    ("GET", "/ent/{v}/runs/{v}"),
    ("GET", "/ent/proj/runs/r/{v}"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_hostile_url_parts_are_refused_by_every_route(server, method, route, caplog):
    commit(server, create_pending(server, {"a.txt": b"x"})["id"])  # raw:v0, of run r
    before = {p for p in server.root.rglob("*")}
    auth = "Basic " + base64.b64encode(f"api:{server.api_key}".encode()).decode()
    for value in HOSTILE:
        target = route.format(v=value)
        for signed in (target, forged(server, method, target)):
            status, body = raw(server, method, signed, b"{}", Authorization=auth)
            # A page may answer 200 for a tab it does not know; nothing answers 5xx.
            assert 400 <= status < 500 or (status == 200 and method == "GET"), (
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
    # Rewritten behind the server's back (a disk edit, a restored backup, a bug), by a server
    # that does not check what it serves (this server refuses it: test_integrity).
    server._state.verify_reads = False
    forged_manifest, _ = manifest_for({"a.txt": b"attacker"})
    stored = next((server.root / "storage" / "manifests").iterdir())
    stored.write_bytes(forged_manifest)
    version = api.artifact("ent/proj/raw:v0")
    with pytest.raises(IntegrityError, match="does not match the version's digest"):
        version.download(tmp_path / "out")
    assert not (tmp_path / "out" / "a.txt").exists()


# Filters cannot stall the server ------------------------------------------------------------------

RUNS = """query($filters: JSONString) { project(entityName: "ent", name: "proj") {
  runs(filters: $filters, first: 1000) { edges { node { name } } } } }"""
UPSERT_RUN = """mutation($name: String!, $config: JSONString) { upsertBucket(input: {name: $name,
  modelName: "proj", entityName: "ent", config: $config}) { bucket { id } } }"""


def post(server: LocalServer, query: str, variables: object, timeout: float = 30) -> dict:
    return requests.post(
        f"{server.base_url}/graphql",
        json={"query": query, "variables": variables},
        auth=("api", server.api_key),
        timeout=timeout,
    )


@pytest.fixture
def hundred_runs(server: LocalServer) -> LocalServer:
    for index in range(100):
        config = {"s": {"value": "a" * 28 + "b"}, "i": {"value": index}}
        graphql(server, UPSERT_RUN, {"name": f"run-{index}", "config": json.dumps(config)})
    return server


def test_a_backtracking_regex_is_matched_in_linear_time(hundred_runs):
    evil = {"config.s": {"$regex": "^(a+)+$"}}
    started = time.monotonic()
    # Python's re needs 2^28 steps per run here; RE2 a few microseconds.
    reply = post(hundred_runs, RUNS, {"filters": json.dumps(evil)}, timeout=20)
    assert reply.status_code == 200 and time.monotonic() - started < 10
    assert reply.json()["data"]["project"]["runs"]["edges"] == []
    fine = post(hundred_runs, RUNS, {"filters": json.dumps({"config.s": {"$regex": "a+b$"}})})
    assert len(fine.json()["data"]["project"]["runs"]["edges"]) == 100


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"name": {"$regex": "a" * 1001}}, "at most 1000"),
        ({"name": {"$regex": "(a)\\1"}}, "invalid $regex"),
        ({"name": {"$regex": 5}}, "$regex takes a str"),
        ({"name": {"$in": 5}}, "$in takes a list"),
        ({"$or": [{"name": "x"}] * 1001}, "more than 1000 parts"),
        (functools.reduce(lambda inner, _: {"$and": [inner]}, range(40), {"n": 1}), "deeper"),
    ],
)
def test_bad_filters_are_refused_before_any_document(server, filters, message):
    graphql(server, UPSERT_RUN, {"name": "r", "config": "{}"})
    reply = post(server, RUNS, {"filters": json.dumps(filters)}).json()
    assert message in reply["errors"][0]["message"], reply


def test_every_search_is_bounded_in_time(hundred_runs, monkeypatch):
    monkeypatch.setattr(filters, "FILTER_SECONDS", 0.0)
    reply = post(hundred_runs, RUNS, {"filters": json.dumps({"name": {"$regex": "run"}})})
    assert "ran past its 0 s limit after 64 documents" in reply.json()["errors"][0]["message"]


# GraphQL cost limits and body sizes --------------------------------------------------------------


def test_nested_lists_and_aliases_are_refused_before_any_work(server):
    graphql(server, RUN)
    nested = "runs { edges { node { project { " * 5 + "name" + " } } } }" * 5
    reply = post(server, f'{{ project(entityName: "ent", name: "proj") {{ {nested} }} }}', {})
    assert reply.status_code == 400
    assert "limit max_depth" in reply.json()["errors"][0]["message"]
    shallow = "runs { edges { node { project { " * 3 + "name" + " } } } }" * 3
    reply = post(server, f'{{ project(entityName: "ent", name: "proj") {{ {shallow} }} }}', {})
    assert reply.status_code == 400 and "limit max_cost" in reply.json()["errors"][0]["message"]
    aliases = " ".join(
        f"a{i}: runs(first: 10000) {{ edges {{ node {{ name }} }} }}" for i in range(2000)
    )
    reply = post(server, f'{{ project(entityName: "ent", name: "proj") {{ {aliases} }} }}', {})
    assert reply.status_code == 400
    assert "limit max_aliases" in reply.json()["errors"][0]["message"]
    paged = 'query($n: Int) { project(entityName: "ent", name: "proj") { runs(first: $n) {' + (
        " edges { node { project { runs(first: $n) { edges { node { name } } } } } } } } }"
    )
    assert post(server, paged, {"n": 10}).status_code == 200
    assert "limit max_cost" in post(server, paged, {"n": 10000}).json()["errors"][0]["message"]


def test_bodies_over_their_limits_are_refused_naming_the_limit(tmp_path):
    limits = Limits(graphql_body_bytes=2000, metadata_bytes=100, manifest_bytes=400)
    with LocalServer(tmp_path / "server", limits=limits) as server:
        big = {"query": "{ viewer { entity } }", "variables": {"pad": "x" * 3000}}
        reply = requests.post(
            f"{server.base_url}/graphql", json=big, auth=("api", server.api_key), timeout=30
        )
        assert reply.status_code == 413 and "graphql_body_bytes" in reply.json()["error"]
        chunked = requests.post(  # no Content-Length: counted as it arrives
            f"{server.base_url}/graphql",
            data=iter([json.dumps(big).encode()]),
            auth=("api", server.api_key),
            timeout=30,
        )
        assert chunked.status_code == 413
        graphql(server, RUN)
        create = {
            "input": {
                "entityName": "ent",
                "projectName": "proj",
                "artifactTypeName": "dataset",
                "artifactCollectionName": "m",
                "digest": "0" * 32,
                "digestAlgorithm": "MANIFEST_MD5",
                "metadata": json.dumps({"k": "v" * 200}),
            }
        }
        reply = post(server, CREATE, create)
        assert reply.status_code == 400 and "limit metadata_bytes" in reply.text
        artifact = create_pending(server, {"a.txt": b"x"})  # its manifest is small enough
        manifest, _ = manifest_for({f"file-{i}.txt": b"x" for i in range(10)})
        node = graphql(server, MANIFEST, {"id": artifact["id"], "digest": md5_b64(manifest)})
        url = node["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]
        reply = requests.put(url, data=manifest, timeout=30)
        assert reply.status_code == 413 and "manifest_bytes" in reply.json()["error"]


def test_a_query_stops_when_its_client_disconnects(tmp_path, caplog):
    with LocalServer(tmp_path / "server", limits=Limits(max_cost=10**9)) as server:
        graphql(server, RUN)
        for index in range(60):
            graphql(server, UPSERT_RUN, {"name": f"run-{index}", "config": "{}"})
        level = "runs(first: 100) { edges { node { name project { "
        query = (
            f'{{ project(entityName: "ent", name: "proj") {{ {level * 4} name {"} } } }" * 4} }} }}'
        )
        body = json.dumps({"query": query}).encode()
        auth = "Basic " + base64.b64encode(f"api:{server.api_key}".encode()).decode()
        parts = urlsplit(server.base_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request(
            "POST", "/graphql", body, {"Authorization": auth, "Content-Type": "application/json"}
        )
        started = time.monotonic()
        connection.close()  # 60^4 runs to list: minutes of work, unless it stops
        while "client disconnected" not in caplog.text:
            assert time.monotonic() - started < 20, "the query went on after its client left"
            caplog.handler.flush()
            threading.Event().wait(0.05)
        # The server is free again at once.
        assert graphql(server, "{ viewer { entity } }")["viewer"]["entity"] == "local"


# Malformed input is the client's error --------------------------------------------------------

ARTIFACT = "query($id: ID!) { artifact(id: $id) { id } }"
OVERFLOW = base64.b64encode(b"Artifact:99999999999999999999999").decode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": "{ viewer { entity } }", "variables": "str"}, "variables must be a JSON"),
        ({"query": "{ viewer { entity } }", "operationName": 5}, "operationName must be"),
        ({"query": 5}, "query a string"),
        ({"query": RUNS, "variables": {"filters": '{"name": {"$in": 5}}'}}, "$in takes a list"),
        ({"query": RUNS, "variables": {"filters": '{"name": {"$regex": "("}}'}}, "invalid $regex"),
        ({"query": RUNS, "variables": {"filters": "{not json"}}, "filters must be JSON"),
        ({"query": ARTIFACT, "variables": {"id": OVERFLOW}}, "outside SQLite's integer range"),
        ({"query": ARTIFACT, "variables": {"id": "!!"}}, "malformed ID"),
        ({"query": RUNS, "variables": {"filters": 5}}, "Variable '$filters'"),
        ({"query": ARTIFACT, "variables": {"id": ["x"]}}, "Variable '$id'"),
    ],
)
def test_malformed_graphql_input_is_a_400_naming_the_problem(server, caplog, body, message):
    graphql(server, RUN)
    reply = requests.post(
        f"{server.base_url}/graphql", json=body, auth=("api", server.api_key), timeout=30
    )
    assert reply.status_code == 400, reply.text
    assert message in reply.json()["errors"][0]["message"]
    assert "Traceback" not in caplog.text and "resolver failed" not in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"files": {"wandb-summary.json": {"offset": 0, "content": 5}}}, "list of strings"),
        ({"files": {"wandb-summary.json": {"content": ["not json"]}}}, "JSON object"),
        ({"files": []}, "files must be an object"),
        ({"files": {"output.log": 5}}, "must be an object"),
        ({"complete": True, "exitcode": "1"}, "exitcode must be an integer"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_malformed_file_stream_is_a_400_naming_the_problem(server, caplog, body, message):
    graphql(server, RUN)
    reply = requests.post(
        f"{server.base_url}/files/ent/proj/r/file_stream",
        json=body,
        auth=("api", server.api_key),
        timeout=30,
    )
    assert reply.status_code == 400 and message in reply.json()["error"], reply.text
    assert "Traceback" not in caplog.text


def test_a_name_too_long_for_the_disk_fails_when_added(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "ok.txt").write_text("x")
    draft = Artifact("long", "dataset")
    with pytest.raises(InvalidInputError, match="255 bytes"):
        draft.add_file(folder / "ok.txt", name="a/" + "é" * 128 + "/b.txt")
    with pytest.raises(InvalidInputError, match="255 bytes"):
        draft.add_dir(folder, name="x" * 256)
    draft.add_dir(folder, name="x" * 255)
    assert list(draft.manifest.entries) == ["x" * 255 + "/ok.txt"]


# Smaller holes ------------------------------------------------------------------------------------


def test_a_killed_servers_staging_files_are_removed_at_start(tmp_path):
    staging = tmp_path / "server" / "staging"
    host = socket.gethostname()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    leftovers = staging / f"{host}-{dead.stdout.strip()}"
    leftovers.mkdir(parents=True)
    (leftovers / "upload-abc").write_bytes(b"half an upload")
    alive = staging / f"{host}-{os.getppid()}"  # another live process's uploads in progress
    alive.mkdir()
    (alive / "upload-def").write_bytes(b"in progress")
    old = staging / "upload-from-an-older-version"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    with LocalServer(tmp_path / "server"):
        assert not leftovers.exists() and not old.exists()
        assert (alive / "upload-def").read_bytes() == b"in progress"


def test_the_database_and_its_wal_are_private(server):
    graphql(server, RUN)
    for name in ("server.db", "server.db-wal", "server.db-shm"):
        assert (server.root / name).stat().st_mode & 0o777 == 0o600, name


def run_file_url(server: LocalServer, host: str) -> str:
    """The upload URL the server signs for a run file, asked with ``Host: host``."""
    graphql(server, RUN)
    reply = requests.post(
        f"{server.base_url}/graphql",
        json={"query": RUN_FILES, "variables": {"files": ["out.log"]}},
        auth=("api", server.api_key),
        headers={"Host": host},
        timeout=30,
    ).json()
    return reply["data"]["createRunFiles"]["files"][0]["uploadUrl"]


def test_signed_urls_come_from_the_public_url_not_the_host_header(tmp_path):
    for public_url in (None, "https://artifacts.example.org/wandb"):
        with LocalServer(tmp_path / "server", public_url=public_url) as server:
            url = run_file_url(server, "attacker.example")
            assert url.startswith(f"{public_url or server.base_url}/storage/runfile/"), url
    with LocalServer(tmp_path / "proxied", trust_host_header=True) as server:  # an opt-in
        url = run_file_url(server, "proxy.example:8443")
        assert url.startswith("http://proxy.example:8443/storage/runfile/"), url


def test_a_new_api_key_invalidates_urls_signed_before_it(tmp_path):
    root = tmp_path / "server"
    query = """{ project(entityName: "ent", name: "proj") {
      artifactCollectionMembership(name: "raw:v0") {
        artifact { currentManifest { file { directUrl } } } } } }"""
    with LocalServer(root, api_key="k" * 40, port=0) as server:
        commit(server, create_pending(server, {"a.txt": b"x"})["id"])
        node = graphql(server, query)["project"]["artifactCollectionMembership"]["artifact"]
        path = urlsplit(node["currentManifest"]["file"]["directUrl"])
        signed = f"{path.path}?{path.query}"
        assert requests.get(f"{server.base_url}{signed}", timeout=30).ok
    with LocalServer(root, api_key="k" * 40) as same:
        assert requests.get(f"{same.base_url}{signed}", timeout=30).ok
    with LocalServer(root, api_key="n" * 40) as changed:
        reply = requests.get(f"{changed.base_url}{signed}", timeout=30)
        assert reply.status_code == 403 and "signature does not match" in reply.json()["error"]


def test_the_command_line_server_signs_urls_with_its_public_url(tmp_path):
    root = tmp_path / "cli"
    command = [*CLI, "server", "--root", str(root)]
    process = subprocess.Popen(
        [*command, "--port", "0", "--public-url", "https://artifacts.example.org/w/"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"},
    )
    try:
        url = process.stdout.readline().split(" on ")[1].split()[0]
        auth = ("api", (root / "api-key").read_text().strip())
        requests.post(f"{url}/graphql", json={"query": RUN}, auth=auth, timeout=30)
        reply = requests.post(
            f"{url}/graphql",
            json={"query": RUN_FILES, "variables": {"files": ["out.log"]}},
            auth=auth,
            timeout=30,
        ).json()
        upload = reply["data"]["createRunFiles"]["files"][0]["uploadUrl"]
        assert upload.startswith("https://artifacts.example.org/w/storage/runfile/"), upload
    finally:
        process.terminate()
        process.wait(timeout=30)
