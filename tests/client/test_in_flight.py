"""Many transfers in flight: prefetched batches and pages, results and failures intact."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from requests.adapters import HTTPAdapter

from bench.latency_proxy import LatencyProxy
from bench.latency_proxy import Path as NetworkPath
from dagster_wandb_artifacts.client import (
    Api,
    Artifact,
    ArtifactCache,
    InvalidInputError,
    publishing,
)
from dagster_wandb_artifacts.client.transfer import prefetched


def _files(root: Path, count: int, prefix: str = "f") -> dict[str, bytes]:
    contents = {f"{prefix}{index:03d}.bin": os.urandom(100 + index) for index in range(count)}
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return contents


def _log(api: Api, name: str, source: Path) -> Artifact:
    run = api.create_run(job_type="test")
    artifact = Artifact(name, "dataset")
    artifact.add_dir(source)
    logged = run.log_artifact(artifact)
    run.finish()
    return logged


def test_prefetched_keeps_order_and_raises_the_sources_failure_where_it_is_reached():
    def source() -> Iterator[int]:
        yield from range(5)
        raise ValueError("the sixth page failed")

    received = []
    with pytest.raises(ValueError, match="sixth page"):
        for item in prefetched(source(), ahead=2):
            received.append(item)
    assert received == [0, 1, 2, 3, 4]


def test_prefetched_stops_drawing_once_the_consumer_stops():
    drawn = []

    def endless() -> Iterator[int]:
        while True:
            drawn.append(len(drawn))
            yield drawn[-1]

    before = set(threading.enumerate())
    items = prefetched(endless(), ahead=3)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    [producer] = set(threading.enumerate()) - before
    items.close()
    producer.join(timeout=10)
    assert not producer.is_alive()
    # What was asked for, what the queue held, and the one item the thread was handing over.
    assert len(drawn) <= 3 + 3 + 1


def test_batches_in_flight_keep_every_file_and_its_birth_artifact(api, tmp_path, monkeypatch):
    monkeypatch.setattr(publishing, "FILES_PER_REQUEST", 7)
    monkeypatch.setattr(publishing, "FIRST_FILES_PER_REQUEST", 3)
    api.transfer = replace(api.transfer, requests_in_flight=8)
    shared = _files(tmp_path / "other", 2, prefix="shared")
    other = _log(api, "other", tmp_path / "other")
    contents = _files(tmp_path / "many", 40) | shared
    for name, data in shared.items():
        (tmp_path / "many" / name).write_bytes(data)
    logged = _log(api, "many", tmp_path / "many")

    fetched = api.artifact("many:v0")
    births = {entry.path: entry.birth_artifact_id for entry in fetched.manifest.entries.values()}
    assert births == {
        name: other.id if name.startswith("shared") else logged.id for name in contents
    }
    root = Path(fetched.download(tmp_path / "out", skip_cache=True))
    assert {p.name: p.read_bytes() for p in root.iterdir()} == contents


def test_one_failed_upload_among_many_fails_the_log_and_commits_nothing(api, tmp_path):
    api.transfer = replace(api.transfer, requests_in_flight=8)
    _files(tmp_path / "src", 40)
    run = api.create_run(job_type="test")
    artifact = Artifact("broken", "dataset")
    artifact.add_dir(tmp_path / "src", policy="immutable")
    # Changed after it was hashed: the server refuses bytes that do not match their md5.
    changed = tmp_path / "src" / "f017.bin"
    changed.write_bytes(bytes(len(changed.read_bytes())))
    with pytest.raises(InvalidInputError, match="Content-MD5"):
        run.log_artifact(artifact)
    assert not api.artifact_exists("broken:latest")


@contextmanager
def _far(server) -> Iterator[tuple[LatencyProxy, Callable[[Path], Api]]]:
    """The server behind a 50 ms round trip, and a maker of clients (by cache folder)."""
    target = server.base_url.split("://", 1)[1]
    with LatencyProxy(target, NetworkPath(rtt=0.05)) as proxy:
        # Signed file URLs through the proxy too, as behind any public URL.
        server.public_url = f"http://{proxy.address}"
        overrides = {"base_url": server.public_url, "entity": "ent", "project": "proj"}
        yield (
            proxy,
            lambda cache: Api(overrides, api_key=server.api_key, cache=ArtifactCache(cache)),
        )


def test_across_latency_transfers_keep_more_requests_in_flight_than_workers(
    server, tmp_path, wandb_home
):
    contents = _files(tmp_path / "src", 60)
    with _far(server) as (proxy, far_api):
        api = far_api(tmp_path / "cache")
        _log(api, "far", tmp_path / "src")
        logged_over = proxy.connections
        cold = far_api(tmp_path / "cold")
        root = Path(cold.artifact("far:latest").download(tmp_path / "out"))
        loaded_over = proxy.connections - logged_over
    assert {p.name: p.read_bytes() for p in root.iterdir()} == contents
    # Each connection is one request in flight at once: a 50 ms round trip asks for more than
    # the thread count a loopback server gets.
    assert logged_over > 2 * api.transfer.workers
    assert loaded_over > 2 * api.transfer.workers


class _TimedAdapter(HTTPAdapter):
    """The session's adapter, noting when each request was in flight and what it asked."""

    def __init__(self) -> None:
        super().__init__(pool_maxsize=256)
        self.spans: list[tuple[float, float, str, dict]] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        response = super().send(request, **kwargs)
        body = json.loads(request.body) if request.method == "POST" else {}
        label = body.get("operationName") or f"{request.method} {request.path_url.split('/')[2]}"
        self.spans.append((started, time.monotonic(), label, body.get("variables") or {}))
        return response


def test_cold_load_asks_for_the_manifest_and_a_small_first_page_of_urls_at_once(
    server, tmp_path, wandb_home
):
    contents = _files(tmp_path / "src", 150)
    with _far(server) as (_, far_api):
        _log(far_api(tmp_path / "cache"), "paged", tmp_path / "src")
        cold = far_api(tmp_path / "cold")
        adapter = _TimedAdapter()
        cold.client.session.mount("http://", adapter)
        root = Path(cold.artifact("paged:latest").download(tmp_path / "out"))
    assert {p.name: p.read_bytes() for p in root.iterdir()} == contents
    listings = [span for span in adapter.spans if span[2] == "ArtifactMembershipFiles"]
    assert [span[3]["perPage"] for span in listings] == [100, 5000]
    (manifest,) = [span for span in adapter.spans if span[2] == "GET manifest"]
    assert listings[0][0] < manifest[1]  # under way before the manifest arrived
