"""Stored objects that rot on disk: detected, set aside, repaired by the next log of their
bytes, and never handed to a reader as good."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dagster_wandb_artifacts.client import (
    Api,
    Artifact,
    ArtifactCache,
    IntegrityError,
    RetryPolicy,
)
from dagster_wandb_artifacts.client.fs import WandbArtifactFileSystem
from dagster_wandb_artifacts.server import LocalServer
from tests.support import graphql, isolate_wandb, sdk_api, sdk_run

SMALL = b"small file, served from memory\n" * 10
LARGE = bytes(range(256)) * (6 * 1024)  # 1.5 MiB: streamed


def log(api: Api, files: dict[str, bytes], tmp_path: Path) -> Artifact:
    folder = tmp_path / f"src-{time.monotonic_ns()}"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    draft = Artifact("data", "dataset")
    draft.add_dir(folder)
    run = api.create_run()
    logged = run.log_artifact(draft)
    run.finish()
    return logged


def flip_a_byte(server: LocalServer, data: bytes) -> Path:
    md5_hex = hashlib.md5(data).hexdigest()
    stored = server.root / "storage" / "objects" / md5_hex[:2] / md5_hex[2:]
    corrupt = bytearray(stored.read_bytes())
    corrupt[len(corrupt) // 2] ^= 0xFF
    stored.write_bytes(bytes(corrupt))
    return stored


def client(server: LocalServer, tmp_path: Path, retry: RetryPolicy) -> Api:
    return Api(
        api_key=server.api_key,
        overrides={"base_url": server.base_url, "entity": "ent", "project": "proj"},
        retry=retry,
        cache=ArtifactCache(tmp_path / f"cache-{time.monotonic_ns()}"),
    )


#: Pauses long enough that a retried download would show in the test's time.
SLOW_RETRIES = RetryPolicy(max_attempts=4, initial_backoff=4.0, jitter=0.0)


def download_fails_fast(server: LocalServer, tmp_path: Path, name: str, match: str) -> None:
    """The download fails with IntegrityError after one pause at most, never after the
    whole retry budget (4 + 8 + 16 s)."""
    started = time.monotonic()
    with pytest.raises(IntegrityError, match=match):
        client(server, tmp_path, SLOW_RETRIES).artifact(name).download(tmp_path / "bad")
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["in-memory", "streamed"])
def test_a_corrupt_object_fails_at_once_and_the_next_log_repairs_it(server, tmp_path, data):
    api = client(server, tmp_path, SLOW_RETRIES)
    first = log(api, {"a.bin": data}, tmp_path)
    flip_a_byte(server, data)
    download_fails_fast(server, tmp_path, first.qualified_name, "corrupt")
    uploads = server.requests["PUT object"]
    again = log(api, {"a.bin": data}, tmp_path)
    assert server.requests["PUT object"] == uploads + 1  # the bytes went up again
    assert again.version == "v1"  # not deduplicated against the version that lost its file
    for version in ("v0", "v1"):
        fresh = client(server, tmp_path, SLOW_RETRIES).artifact(f"ent/proj/data:{version}")
        assert (Path(fresh.download(tmp_path / version)) / "a.bin").read_bytes() == data


def test_the_same_wrong_bytes_twice_fail_at_once(tmp_path, wandb_home):
    """Against a server that does not check what it serves (W&B, or verify_reads off)."""
    with LocalServer(tmp_path / "server", verify_reads=False) as server:
        api = client(server, tmp_path, SLOW_RETRIES)
        logged = log(api, {"a.bin": SMALL}, tmp_path)
        flip_a_byte(server, SMALL)
        download_fails_fast(server, tmp_path, logged.qualified_name, "same wrong bytes")


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["one-read", "several-reads"])
def test_fsspec_reads_whole_or_ranged_never_return_rotted_bytes(tmp_path, wandb_home, data):
    with LocalServer(tmp_path / "server") as server:
        api = client(server, tmp_path, SLOW_RETRIES)
        logged = log(api, {"a.bin": data, "ok.bin": b"fine"}, tmp_path)
        fs = WandbArtifactFileSystem(api=client(server, tmp_path, SLOW_RETRIES))
        path = f"wandb-artifact://{logged.qualified_name}/a.bin"
        with fs.open(path, block_size=512 * 1024) as file:
            assert file.read() == data
        flip_a_byte(server, data)
        fs = WandbArtifactFileSystem(api=client(server, tmp_path, SLOW_RETRIES))
        with pytest.raises(IntegrityError, match="corrupt"), fs.open(path, block_size=1024) as file:
            file.seek(10)  # a range in the middle: the server checks the whole object first
            file.read(5)
        with pytest.raises(IntegrityError, match="corrupt"), fs.open(path) as file:
            file.read()
        assert fs.cat(f"wandb-artifact://{logged.qualified_name}/ok.bin") == b"fine"


def _direct_url(api: Api, name: str, path: str) -> str:
    (file,) = api.artifact(name).files(names=[path])
    return file.direct_url


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["in-memory", "streamed"])
def test_a_ranged_get_is_checked_once_and_again_after_the_file_changes(server, tmp_path, data):
    api = client(server, tmp_path, SLOW_RETRIES)
    logged = log(api, {"a.bin": data}, tmp_path)
    url = _direct_url(api, logged.qualified_name, "a.bin")
    first = requests.get(url, headers={"Range": "bytes=3-9"}, timeout=30)
    assert first.status_code == 206 and first.content == data[3:10]
    again = requests.get(url, headers={"Range": "bytes=-4"}, timeout=30)  # known good: served
    assert again.status_code == 206 and again.content == data[-4:]
    flip_a_byte(server, data)  # a write changes the file's stamp: hashed again, found corrupt
    refused = requests.get(url, headers={"Range": "bytes=3-9"}, timeout=30)
    assert refused.status_code == 404 and "found corrupt" in refused.json()["error"]
    assert list((server.root / "storage" / "corrupt").iterdir())


def test_the_sdk_never_gets_rotted_bytes_and_a_relog_repairs_them(server, tmp_path, monkeypatch):
    """The real SDK as referee: its whole reads of corrupt objects fail (it does not check
    md5s itself), a ranged GET is refused, and its next log of the same bytes uploads them."""
    isolate_wandb(tmp_path / "wandb-home", monkeypatch)
    monkeypatch.setenv("WANDB_BASE_URL", server.base_url)
    monkeypatch.setenv("WANDB_API_KEY", server.api_key)
    import wandb

    source = tmp_path / "source"
    source.mkdir()
    for name, data in (("small.bin", SMALL), ("large.bin", LARGE)):
        (source / name).write_bytes(data)
    run = sdk_run(server, job_type="writer")
    first = wandb.Artifact("data", "dataset")
    first.add_dir(str(source))
    run.log_artifact(first)
    first.wait()
    url = _direct_url(client(server, tmp_path, SLOW_RETRIES), "ent/proj/data:v0", "large.bin")
    flip_a_byte(server, SMALL)
    flip_a_byte(server, LARGE)

    ranged = requests.get(url, headers={"Range": "bytes=0-99"}, timeout=30)
    assert ranged.status_code == 404 and "found corrupt" in ranged.text
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "fresh-cache"))
    with pytest.raises(Exception, match="404|corrupt"):
        sdk_api(server).artifact("ent/proj/data:v0").download(str(tmp_path / "bad"))
    assert not (tmp_path / "bad" / "small.bin").exists()

    uploads = server.requests["PUT object"]
    again = wandb.Artifact("data", "dataset")
    again.add_dir(str(source))
    run.log_artifact(again)
    again.wait()
    run.finish()
    assert again.version == "v1"  # not deduplicated against the version that lost its files
    assert server.requests["PUT object"] == uploads + 2  # both objects went up again
    for version in ("v0", "v1"):
        monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / f"cache-{version}"))
        folder = Path(
            sdk_api(server).artifact(f"ent/proj/data:{version}").download(str(tmp_path / version))
        )
        assert (folder / "small.bin").read_bytes() == SMALL
        assert (folder / "large.bin").read_bytes() == LARGE
    repaired = requests.get(url, headers={"Range": "bytes=0-99"}, timeout=30)
    assert repaired.status_code == 206 and repaired.content == LARGE[:100]


def test_scrub_sets_corrupt_and_missing_objects_aside(server, api, tmp_path):
    logged = log(api, {"a.bin": SMALL, "b.bin": LARGE, "c.bin": b"kept"}, tmp_path)
    flip_a_byte(server, SMALL)
    lost = hashlib.md5(LARGE).hexdigest()
    (server.root / "storage" / "objects" / lost[:2] / lost[2:]).unlink()
    scrub = [sys.executable, "-m", "dagster_wandb_artifacts.server.cli", "server", "scrub"]
    done = subprocess.run(
        [*scrub, "--root", str(server.root)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert f"corrupt {hashlib.md5(SMALL).hexdigest()}" in done.stdout
    assert f"missing {lost}" in done.stdout and "checked 3 objects" in done.stdout
    assert list((server.root / "storage" / "corrupt").iterdir())
    log(api, {"a.bin": SMALL, "b.bin": LARGE, "c.bin": b"kept"}, tmp_path)
    files = Path(api.artifact(logged.qualified_name).download(tmp_path / "repaired"))
    assert (files / "a.bin").read_bytes() == SMALL and (files / "b.bin").read_bytes() == LARGE
    clean = subprocess.run(
        [*scrub, "--root", str(server.root)], capture_output=True, text=True, timeout=60
    )
    assert clean.returncode == 0 and "0 corrupt" in clean.stdout, clean.stdout


def test_a_corrupt_manifest_is_refused_whole_or_ranged(server, tmp_path):
    api = client(server, tmp_path, SLOW_RETRIES)
    logged = log(api, {"a.bin": SMALL}, tmp_path)
    query = "query($id: ID!) { artifact(id: $id) { currentManifest { file { directUrl } } } }"
    url = graphql(server, query, {"id": logged.id})["artifact"]["currentManifest"]["file"][
        "directUrl"
    ]
    whole = requests.get(url, timeout=30)
    assert whole.status_code == 200 and json.loads(whole.content)["contents"]
    (stored,) = (server.root / "storage" / "manifests").glob("*.json")
    stored.write_bytes(stored.read_bytes().replace(b'"size"', b'"Size"'))
    for headers in ({}, {"Range": "bytes=0-9"}):
        refused = requests.get(url, headers=headers, timeout=30)
        assert refused.status_code == 404, headers
        assert "stored manifest of version" in refused.json()["error"]
    assert stored.exists()  # refused, not moved: a committed manifest has no second upload
