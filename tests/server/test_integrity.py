"""Stored objects that rot on disk: detected, set aside, repaired by the next log of their
bytes, and never handed to a reader as good."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dagster_wandb_artifacts.client import (
    Api,
    Artifact,
    ArtifactCache,
    IntegrityError,
    RetryPolicy,
)
from dagster_wandb_artifacts.client.fs import WandbArtifactFileSystem
from dagster_wandb_artifacts.server import LocalServer

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
def test_whole_file_fsspec_reads_check_the_md5(tmp_path, wandb_home, data):
    with LocalServer(tmp_path / "server") as server:
        api = client(server, tmp_path, SLOW_RETRIES)
        logged = log(api, {"a.bin": data, "ok.bin": b"fine"}, tmp_path)
        fs = WandbArtifactFileSystem(api=client(server, tmp_path, SLOW_RETRIES))
        path = f"wandb-artifact://{logged.qualified_name}/a.bin"
        with fs.open(path, block_size=512 * 1024) as file:
            assert file.read() == data
        flip_a_byte(server, data)
        fs = WandbArtifactFileSystem(api=client(server, tmp_path, SLOW_RETRIES))
        with (
            pytest.raises(IntegrityError, match="do not match the manifest's md5"),
            fs.open(path, block_size=512 * 1024) as file,
        ):
            file.read()
        with fs.open(path, block_size=512 * 1024) as file:  # a ranged read is not checked
            file.seek(10)
            assert len(file.read(5)) == 5
        assert fs.cat(f"wandb-artifact://{logged.qualified_name}/ok.bin") == b"fine"


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
