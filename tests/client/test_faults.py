"""Logging and loading through a fault-injecting proxy: retries finish the job, or a clear
error comes within a bounded time, and no half-logged version is ever visible."""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from dagster_wandb_artifacts.client import Api, Artifact, ArtifactCache, CommError, RetryPolicy
from tests.support import graphql

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultProxy:
    """Forwards to the server, but answers 503/429, drops the reply after the server did the
    work, or cuts the request's or the reply's body off half-way, on a seeded share of
    requests (GraphQL and file transfers alike)."""

    def __init__(
        self, target: str, fault_rate: float, seed: int = 7, lose_replies: bool = True
    ) -> None:
        self.target = target
        self.faults: Counter[str] = Counter()
        rng = random.Random(seed)
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                with lock:
                    roll = rng.random()
                    cut_reply = rng.random() < fault_rate
                kind = None
                if roll < fault_rate / 4:
                    kind = "503"
                elif roll < 2 * fault_rate / 4:
                    kind = "429"
                elif roll < 3 * fault_rate / 4:
                    kind = "lost reply" if lose_replies else "503"
                elif roll < fault_rate:
                    kind = "cut request" if lose_replies and length > 1 else "429"
                if kind == "cut request":
                    # Read half of what the client sends, then drop the connection.
                    proxy.faults[kind] += 1
                    self.rfile.read(length // 2)
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                body = self.rfile.read(length)
                if kind in ("503", "429"):
                    proxy.faults[kind] += 1
                    self.send_response(int(kind))
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                upstream = requests.request(
                    self.command,
                    f"{proxy.target}{self.path}",
                    data=body,
                    headers=headers,
                    timeout=60,
                    allow_redirects=False,
                )
                if kind == "lost reply":
                    proxy.faults[kind] += 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(upstream.status_code)
                for name, value in upstream.headers.items():
                    if name.lower() not in HOP_HEADERS | {"content-encoding"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                if lose_replies and cut_reply and len(upstream.content) > 1:
                    kind = "cut body"
                    # Half the promised bytes, then the connection drops mid-body.
                    proxy.faults[kind] += 1
                    self.wfile.write(upstream.content[: len(upstream.content) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(upstream.content)

            do_GET = do_POST = do_PUT = _handle  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def proxied(server, tmp_path, wandb_home) -> Iterator[tuple[FaultProxy, Api]]:
    with FaultProxy(server.base_url, fault_rate=0.3) as proxy:
        server.public_url = proxy.url  # so that file transfers go through the proxy too
        api = Api(
            {"base_url": proxy.url, "entity": "ent", "project": "proj"},
            api_key=server.api_key,
            retry=RetryPolicy(max_attempts=12, initial_backoff=0.001, max_backoff=0.01),
            cache=ArtifactCache(tmp_path / "cache"),
        )
        yield proxy, api


def test_logging_and_loading_survive_faults(server, proxied, tmp_path):
    proxy, api = proxied
    source = tmp_path / "src"
    source.mkdir()
    files = {f"f{i}.bin": os.urandom(20_000 + i) for i in range(25)}
    for name, data in files.items():
        (source / name).write_bytes(data)
    run = api.create_run(job_type="faulty")
    artifact = Artifact("survivor", "dataset")
    artifact.add_dir(source)
    logged = run.log_artifact(artifact)
    run.finish()
    api.cache.cleanup(0)
    root = Path(api.artifact("survivor:latest").download(tmp_path / "out"))
    assert {p.name: p.read_bytes() for p in root.iterdir()} == files
    assert sum(proxy.faults.values()) >= 10
    assert set(proxy.faults) == {"503", "429", "lost reply", "cut body", "cut request"}, (
        proxy.faults
    )

    # The server's own state, read without the proxy: one committed version, nothing pending.
    data = graphql(
        server,
        """{ project(entityName: "ent", name: "proj") {
        artifactCollection(name: "survivor") { artifacts { edges { node {
          versionIndex state digest } } } } } }""",
    )
    nodes = [e["node"] for e in data["project"]["artifactCollection"]["artifacts"]["edges"]]
    assert nodes == [{"versionIndex": 0, "state": "COMMITTED", "digest": logged.digest}]
    pending = server._state.store.all("SELECT state FROM artifacts WHERE state = 'PENDING'")
    assert pending == []


def test_unreachable_server_is_a_clear_error_and_writes_nothing(server, tmp_path, wandb_home):
    # Every request answered 5xx/429: the server is never reached.
    with FaultProxy(server.base_url, fault_rate=1.0, lose_replies=False) as proxy:
        api = Api(
            {"base_url": proxy.url, "entity": "ent", "project": "proj"},
            api_key=server.api_key,
            retry=RetryPolicy(max_attempts=4, initial_backoff=0.001, max_backoff=0.01),
        )
        with pytest.raises(CommError, match="4 attempts") as raised:
            api.create_run(job_type="never")
        assert server.api_key not in str(raised.value)
    assert server._state.store.all("SELECT * FROM runs") == []


def test_hostile_manifest_is_refused_before_anything_is_written(server, api, tmp_path):
    run = api.create_run()
    artifact = Artifact("target", "dataset")
    with artifact.new_file("ok.txt") as file:
        file.write("fine")
    logged = run.log_artifact(artifact)
    run.finish()
    # The server turns hostile: its stored manifest now points outside the download root (and
    # it no longer checks what it serves against the manifest's recorded md5).
    server._state.verify_reads = False
    (manifest,) = (server.root / "storage" / "manifests").glob("*.json")
    manifest.write_text(
        '{"version": 1, "storagePolicy": "wandb-storage-policy-v1", "contents": {'
        '"../../escaped.txt": {"digest": "x", "size": 4}}}'
    )
    root = tmp_path / "deep" / "root"
    with pytest.raises(Exception, match="safe relative path"):
        api.artifact(f"target:{logged.version}").download(root)
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not root.exists()
