"""The embedded server's rules, checked over HTTP with the protocol's own requests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from dagster_wandb_artifacts.server import LocalServer, api_key_path
from dagster_wandb_artifacts.server.files import IN_MEMORY_UPLOAD, BlobRecorder
from dagster_wandb_artifacts.server.store import Store
from tests.support import ENTITY, PROJECT, graphql

CREATE = """mutation($input: CreateArtifactInput!) {
  createArtifact(input: $input) { artifact { id state versionIndex } } }"""
MANIFEST = """mutation($id: ID!, $digest: String!) {
  createArtifactManifest(input: {artifactID: $id, name: "wandb_manifest.json", digest: $digest,
    entityName: "ent", projectName: "proj", runName: "r", type: FULL}) {
    artifactManifest { id file { uploadUrl directUrl } } } }"""
FILES = """mutation($input: CreateArtifactFilesInput!) {
  createArtifactFiles(input: $input) { files { edges { node {
    storagePath uploadUrl uploadHeaders artifact { id } } } } } }"""
COMMIT = """mutation($id: ID!) { commitArtifact(input: {artifactID: $id}) {
  artifact { id state versionIndex digest aliases { alias } } } }"""
MEMBERSHIP = """query($name: String!) { project(entityName: "ent", name: "proj") {
  artifactCollectionMembership(name: $name) { versionIndex artifact { id digest }
    files { edges { node { name directUrl sizeBytes } } } } } }"""


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def manifest_for(files: dict[str, bytes]) -> tuple[bytes, str]:
    contents = {
        name: {"digest": md5_b64(data), "size": len(data)} for name, data in sorted(files.items())
    }
    body = json.dumps(
        {
            "version": 1,
            "storagePolicy": "wandb-storage-policy-v1",
            "storagePolicyConfig": {"storageLayout": "V2"},
            "contents": contents,
        }
    ).encode()
    digest = hashlib.md5(b"wandb-artifact-manifest-v1\n")
    for name, entry in contents.items():
        digest.update(f"{name}:{entry['digest']}\n".encode())
    return body, digest.hexdigest()


def create_pending(server: LocalServer, files: dict[str, bytes], name: str = "raw") -> dict:
    """Steps 2-5 of logging: a pending version with its files uploaded, not committed."""
    manifest, digest = manifest_for(files)
    graphql(
        server,
        'mutation { upsertBucket(input: {name: "r", modelName: "proj", entityName: "ent"})'
        " { bucket { id } } }",
    )
    artifact = graphql(
        server,
        CREATE,
        {
            "input": {
                "entityName": ENTITY,
                "projectName": PROJECT,
                "artifactTypeName": "dataset",
                "artifactCollectionName": name,
                "digest": digest,
                "digestAlgorithm": "MANIFEST_MD5",
                "runName": "r",
                "enableDigestDeduplication": True,
            }
        },
    )["createArtifact"]["artifact"]
    manifest_node = graphql(server, MANIFEST, {"id": artifact["id"], "digest": md5_b64(manifest)})
    specs = [
        {"artifactID": artifact["id"], "name": name_, "md5": md5_b64(data)}
        for name_, data in files.items()
    ]
    edges = graphql(server, FILES, {"input": {"artifactFiles": specs, "storageLayout": "V2"}})
    for (_, data), edge in zip(
        files.items(), edges["createArtifactFiles"]["files"]["edges"], strict=True
    ):
        node = edge["node"]
        if node["uploadUrl"]:
            headers = dict(h.split(":", 1) for h in node["uploadHeaders"])
            assert requests.put(node["uploadUrl"], data=data, headers=headers, timeout=30).ok
    upload = manifest_node["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]
    assert requests.put(upload, data=manifest, timeout=30).ok
    return artifact


def commit(server: LocalServer, artifact_id: str) -> dict:
    return graphql(server, COMMIT, {"id": artifact_id})["commitArtifact"]["artifact"]


def test_versions_are_given_at_commit_without_gaps(server):
    abandoned = create_pending(server, {"a.txt": b"never committed"})
    assert abandoned["state"] == "PENDING" and abandoned["versionIndex"] is None
    assert graphql(server, MEMBERSHIP, {"name": "raw:latest"})["project"] is not None
    assert (
        graphql(server, MEMBERSHIP, {"name": "raw:latest"})["project"][
            "artifactCollectionMembership"
        ]
        is None
    )

    second = create_pending(server, {"a.txt": b"committed"})
    committed = commit(server, second["id"])
    assert committed["versionIndex"] == 0 and committed["state"] == "COMMITTED"
    assert sorted(a["alias"] for a in committed["aliases"]) == ["latest", "v0"]
    # A retried commit is answered with the same version.
    assert commit(server, second["id"])["versionIndex"] == 0


def test_commit_refuses_missing_bytes(server):
    files = {"a.txt": b"some bytes"}
    manifest, digest = manifest_for(files)
    artifact = create_pending(server, {"other.txt": b"x"})
    # Forge: a manifest naming a file that was never uploaded, under a fresh version.
    reply = requests.post(
        f"{server.base_url}/graphql",
        json={"query": COMMIT, "variables": {"id": artifact["id"]}},
        auth=("api", server.api_key),
        timeout=30,
    )
    assert reply.json()["data"]["commitArtifact"]["artifact"]["versionIndex"] == 0
    second = graphql(
        server,
        CREATE,
        {
            "input": {
                "entityName": ENTITY,
                "projectName": PROJECT,
                "artifactTypeName": "dataset",
                "artifactCollectionName": "raw",
                "digest": digest,
                "digestAlgorithm": "MANIFEST_MD5",
            }
        },
    )["createArtifact"]["artifact"]
    upload = graphql(server, MANIFEST, {"id": second["id"], "digest": md5_b64(manifest)})
    url = upload["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]
    assert requests.put(url, data=manifest, timeout=30).ok
    refused = requests.post(
        f"{server.base_url}/graphql",
        json={"query": COMMIT, "variables": {"id": second["id"]}},
        auth=("api", server.api_key),
        timeout=30,
    ).json()
    assert "was not uploaded" in refused["errors"][0]["message"]
    assert (
        graphql(server, MEMBERSHIP, {"name": "raw:v1"})["project"]["artifactCollectionMembership"]
        is None
    )


def test_wrong_or_missing_key_is_refused(server):
    for auth in [("api", "x" * 40), None, ("user", server.api_key)]:
        reply = requests.post(
            f"{server.base_url}/graphql", json={"query": "{ viewer { id } }"}, auth=auth, timeout=30
        )
        assert reply.status_code == 401
        assert "API key" in reply.json()["errors"][0]["message"]
        assert server.api_key not in reply.text


def test_unknown_fields_fail_validation(server):
    reply = requests.post(
        f"{server.base_url}/graphql",
        json={"query": "{ viewer { id notAField } }"},
        auth=("api", server.api_key),
        timeout=30,
    )
    assert reply.status_code == 400
    assert "notAField" in reply.json()["errors"][0]["message"]


def test_signed_urls_are_bound_to_object_method_and_time(tmp_path):
    now = [1_000_000.0]
    with LocalServer(tmp_path / "s", clock=lambda: now[0], url_ttl_seconds=60) as server:
        commit(server, create_pending(server, {"a.txt": b"alpha", "b.txt": b"beta"})["id"])
        nodes = graphql(server, MEMBERSHIP, {"name": "raw:v0"})["project"][
            "artifactCollectionMembership"
        ]["files"]["edges"]
        urls = {edge["node"]["name"]: edge["node"]["directUrl"] for edge in nodes}
        assert requests.get(urls["a.txt"], timeout=30).content == b"alpha"
        ranged = requests.get(urls["b.txt"], headers={"Range": "bytes=1-2"}, timeout=30)
        assert ranged.status_code == 206 and ranged.content == b"et"

        path_a, query_a = urls["a.txt"].split("?")
        path_b, _ = urls["b.txt"].split("?")
        assert requests.get(f"{path_b}?{query_a}", timeout=30).status_code == 403  # other object
        assert requests.put(urls["a.txt"], data=b"alpha", timeout=30).status_code == 403  # method
        assert requests.get(path_a, timeout=30).status_code == 403  # unsigned
        tampered = urls["a.txt"][:-4] + ("0000" if not urls["a.txt"].endswith("0000") else "1111")
        assert requests.get(tampered, timeout=30).status_code == 403
        now[0] += 61
        expired = requests.get(urls["a.txt"], timeout=30)
        assert expired.status_code == 403 and "expired" in expired.text


def test_put_with_wrong_bytes_stores_nothing(server):
    data = b"the real bytes"
    artifact = graphql(
        server,
        CREATE,
        {
            "input": {
                "entityName": ENTITY,
                "projectName": PROJECT,
                "artifactTypeName": "dataset",
                "artifactCollectionName": "bad",
                "digest": "0" * 32,
                "digestAlgorithm": "MANIFEST_MD5",
            }
        },
    )["createArtifact"]["artifact"]
    spec = {
        "input": {
            "storageLayout": "V2",
            "artifactFiles": [{"artifactID": artifact["id"], "name": "f", "md5": md5_b64(data)}],
        }
    }
    node = graphql(server, FILES, spec)["createArtifactFiles"]["files"]["edges"][0]["node"]
    assert requests.put(node["uploadUrl"], data=b"other bytes!!!", timeout=30).status_code == 400
    wrong_header = requests.put(
        node["uploadUrl"], data=data, headers={"Content-MD5": md5_b64(b"nope")}, timeout=30
    )
    assert wrong_header.status_code == 400
    stored = list((server.root / "storage").rglob("*"))
    assert not [p for p in stored if p.is_file()]
    # Not recorded: the server still asks for the bytes, then accepts them, twice.
    node = graphql(server, FILES, spec)["createArtifactFiles"]["files"]["edges"][0]["node"]
    assert node["uploadUrl"]
    assert requests.put(node["uploadUrl"], data=data, timeout=30).ok
    assert requests.put(node["uploadUrl"], data=data, timeout=30).ok  # repeated PUT succeeds
    node = graphql(server, FILES, spec)["createArtifactFiles"]["files"]["edges"][0]["node"]
    assert node["uploadUrl"] is None  # the server has these bytes now


def test_objects_are_stored_whole_and_once_from_memory_or_staging(server):
    small, large = b"small bytes", os.urandom(IN_MEMORY_UPLOAD + 1)
    commit(server, create_pending(server, {"small": small, "large": large})["id"])
    membership = graphql(server, MEMBERSHIP, {"name": "raw:v0"})["project"][
        "artifactCollectionMembership"
    ]
    urls = {e["node"]["name"]: e["node"]["directUrl"] for e in membership["files"]["edges"]}
    assert requests.get(urls["small"], timeout=30).content == small
    assert requests.get(urls["large"], timeout=30).content == large
    stored = [p for p in (server.root / "storage" / "objects").rglob("*") if p.is_file()]
    assert sorted(p.read_bytes() for p in stored) == sorted([large, small])  # nothing else left
    assert not [p for p in (server.root / "staging").rglob("*") if p.is_file()]

    path = f"/storage/obj/{hashlib.md5(small).hexdigest()}"
    url = f"{server.base_url}{path}?{server._state.signer.sign('PUT', path)}"
    (small_file,) = (p for p in stored if p.stat().st_size == len(small))
    inode = small_file.stat().st_ino
    assert requests.put(url, data=small, timeout=30).ok
    assert small_file.stat().st_ino == inode  # already stored: not written again
    assert requests.put(url, data=b"other bytes", timeout=30).status_code == 400


def test_blob_records_from_the_event_loop_never_wait_for_the_write_lock(tmp_path):
    store = Store(tmp_path / "server.db")
    other = sqlite3.connect(tmp_path / "server.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    assert store.try_record_blobs([("a" * 32, 1)]) is False
    other.execute("ROLLBACK")
    assert store.try_record_blobs([("a" * 32, 1)]) is True
    assert store.blob("a" * 32)["size"] == 1


def test_blob_records_from_the_event_loop_keep_the_wal_checkpointed(tmp_path):
    store = Store(tmp_path / "server.db")

    async def record_all() -> None:
        recorder = BlobRecorder(store, checkpoint_every=64)
        for index in range(3000):
            await recorder.record(f"{index:032x}", index)

    asyncio.run(record_all())
    assert store.one("SELECT count(*) AS n FROM blobs")["n"] == 3000
    # The loop's connection never checkpoints: without the commits of a worker thread in
    # between, this WAL would grow past 25 MiB.
    assert (tmp_path / "server.db-wal").stat().st_size < 8 << 20


def test_restart_on_same_root_serves_everything(tmp_path):
    root = tmp_path / "root"
    with LocalServer(root) as first:
        key = first.api_key
        commit(first, create_pending(first, {"a.txt": b"persisted"})["id"])
    assert api_key_path(root).read_text().strip() == key
    assert oct(api_key_path(root).stat().st_mode & 0o777) == "0o600"
    with LocalServer(root) as second:
        assert second.api_key == key
        membership = graphql(second, MEMBERSHIP, {"name": "raw:latest"})["project"][
            "artifactCollectionMembership"
        ]
        url = membership["files"]["edges"][0]["node"]["directUrl"]
        assert requests.get(url, timeout=30).content == b"persisted"


_KILLED_CLIENT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {repo!r})
    from tests.server.test_server import create_pending
    class Target:
        base_url, api_key = {url!r}, {key!r}
    create_pending(Target, {{"a.txt": b"half logged"}})
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_client_killed_before_commit_leaves_no_version_and_no_gap(server):
    script = _KILLED_CLIENT.format(
        repo=str(Path(__file__).parents[2]), url=server.base_url, key=server.api_key
    )
    killed = subprocess.run([sys.executable, "-c", script], timeout=120, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert (
        graphql(server, MEMBERSHIP, {"name": "raw:latest"})["project"][
            "artifactCollectionMembership"
        ]
        is None
    )
    # The next run finishes, and the bytes the killed client stored are not sent again.
    puts = server.requests["PUT object"]
    committed = commit(
        server, create_pending(server, {"a.txt": b"half logged", "b.txt": b"whole"})["id"]
    )
    assert committed["versionIndex"] == 0
    assert server.requests["PUT object"] == puts + 1  # b.txt only


def test_eight_processes_get_consecutive_versions_and_one_latest(server, tmp_path):
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, {repo!r})
        from tests.server.test_server import commit, create_pending
        class Target:
            base_url, api_key = {url!r}, {key!r}
        print(commit(Target, create_pending(Target, {{"a.txt": sys.argv[1].encode()}})["id"])
              ["versionIndex"])
        """
    ).format(repo=str(Path(__file__).parents[2]), url=server.base_url, key=server.api_key)
    processes = [
        subprocess.Popen([sys.executable, "-c", script, f"writer {i}"], stdout=subprocess.PIPE)
        for i in range(8)
    ]
    indexes = sorted(int(p.communicate(timeout=120)[0]) for p in processes)
    assert indexes == list(range(8))
    latest = graphql(server, MEMBERSHIP, {"name": "raw:latest"})["project"][
        "artifactCollectionMembership"
    ]
    assert latest["versionIndex"] == 7
    rows = server._state.store.all("SELECT alias FROM aliases WHERE alias = 'latest'")
    assert len(rows) == 1


def test_file_stream_sets_summary_and_state(server):
    graphql(
        server,
        'mutation { upsertBucket(input: {name: "r2", modelName: "proj", entityName: "ent"})'
        " { bucket { id } } }",
    )
    url = f"{server.base_url}/files/{ENTITY}/{PROJECT}/r2/file_stream"
    auth = ("api", server.api_key)
    body = {"files": {"wandb-summary.json": {"offset": 0, "content": ['{"loss": 0.5}']}}}
    assert requests.post(url, json=body, auth=auth, timeout=30).ok
    assert requests.post(url, json={"complete": True, "exitcode": 1}, auth=auth, timeout=30).ok
    assert requests.post(url, json={}, timeout=30).status_code == 401
    run = graphql(
        server,
        '{ project(entityName: "ent", name: "proj") { run(name: "r2") { state summaryMetrics } } }',
    )["project"]["run"]
    assert run["state"] == "crashed"
    assert json.loads(run["summaryMetrics"]) == {"loss": 0.5}


@pytest.mark.parametrize("path", ["/sdk/otel/v1/metrics"])
def test_unimplemented_endpoints_answer_404_not_5xx(server, path):
    assert requests.post(f"{server.base_url}{path}", timeout=30).status_code == 404


def test_generated_key_is_shared_by_concurrent_starts(tmp_path):
    root = tmp_path / "shared"
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, {repo!r})
        from dagster_wandb_artifacts.server.local import build_state
        print(build_state({root!r}).api_key)
        """
    ).format(repo=str(Path(__file__).parents[2]), root=str(root))
    processes = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) for _ in range(4)
    ]
    keys = {p.communicate(timeout=120)[0].strip() for p in processes}
    assert len(keys) == 1
    assert len(keys.pop()) >= 40
    assert not [p for p in root.iterdir() if p.name.startswith(".api-key")]
    assert os.stat(root / "api-key").st_mode & 0o077 == 0


def test_storage_in_s3(tmp_path, s3_options):
    import s3fs

    storage = f"s3://{s3_options['bucket']}/prefix"
    with LocalServer(
        tmp_path / "s3", storage=storage, storage_options=s3_options["options"]
    ) as server:
        commit(server, create_pending(server, {"a.txt": b"in a bucket", "b.txt": b"too"})["id"])
        membership = graphql(server, MEMBERSHIP, {"name": "raw:latest"})["project"][
            "artifactCollectionMembership"
        ]
        urls = {e["node"]["name"]: e["node"]["directUrl"] for e in membership["files"]["edges"]}
        assert requests.get(urls["a.txt"], timeout=30).content == b"in a bucket"
    fs = s3fs.S3FileSystem(**s3_options["options"], skip_instance_cache=True)
    keys = fs.find(storage)
    assert any(key.endswith(".json") for key in keys)  # the manifest
    assert len([k for k in keys if "/objects/" in k]) == 2
    assert not (tmp_path / "s3" / "storage").exists()


def test_ui_paths_answer_with_basic_auth(server):
    artifact = commit(server, create_pending(server, {"a.txt": b"page"})["id"])
    page = f"{server.base_url}/ent/proj/artifacts/dataset/raw/v0"
    challenge = requests.get(page, timeout=30)
    assert challenge.status_code == 401 and "Basic" in challenge.headers["WWW-Authenticate"]
    shown = requests.get(page, auth=("api", server.api_key), timeout=30)
    assert shown.status_code == 200 and artifact["digest"] in shown.text
    files = requests.get(f"{page}/files/", auth=("api", server.api_key), timeout=30)
    assert files.status_code == 200 and "a.txt" in files.text
    run_page = requests.get(
        f"{server.base_url}/ent/proj/runs/r", auth=("api", server.api_key), timeout=30
    )
    assert run_page.status_code == 200 and "Running" in run_page.text


def test_command_line_server_prints_where_the_key_is_never_the_key(tmp_path):
    root = tmp_path / "cli"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_wandb_artifacts.cli",
            "server",
            "--root",
            str(root),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"},
    )
    try:
        banner = [process.stdout.readline() for _ in range(2)]
        url = banner[0].split(" on ")[1].split()[0]
        key = api_key_path(root).read_text().strip()
        assert str(api_key_path(root)) in banner[1]
        assert key not in "".join(banner)
        reply = requests.post(
            f"{url}/graphql", json={"query": "{ viewer { entity } }"}, auth=("api", key), timeout=30
        )
        assert reply.json() == {"data": {"viewer": {"entity": "local"}}}
    finally:
        process.terminate()
        process.wait(timeout=30)
