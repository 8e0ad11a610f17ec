"""Fixtures shared by every test: an embedded server on loopback and a private W&B home."""

from __future__ import annotations

import os

# gcsfs's experimental zonal/HNS support probes buckets over gRPC with TLS, which the GCS
# emulator does not speak; it is read when gcsfs is imported, so set it first.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

from collections.abc import Iterator
from pathlib import Path

import pytest

from dagster_wandb_artifacts.server import LocalServer
from tests.support import isolate_wandb


@pytest.fixture
def wandb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """W&B's folders under the test's tmp dir, so nothing leaks between tests or into $HOME."""
    home = tmp_path / "wandb-home"
    isolate_wandb(home, monkeypatch)
    return home


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "server") as running:
        yield running


@pytest.fixture
def api(server: LocalServer, tmp_path: Path, wandb_home: Path):
    """Our client pointed at the embedded server, with fast retries and a private cache."""
    from dagster_wandb_artifacts.client import Api, ArtifactCache, RetryPolicy, TransferSettings

    return Api(
        api_key=server.api_key,
        overrides={"base_url": server.base_url, "entity": "ent", "project": "proj"},
        retry=RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05),
        cache=ArtifactCache(tmp_path / "cache"),
        transfer=TransferSettings(multipart_threshold=256 * 1024, part_size=100 * 1024),
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port (real HTTP, for the real s3fs)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_options(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """s3fs options for moto, with a fresh bucket per test."""
    import secrets

    import s3fs

    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(variable, value)
    options = {
        "client_kwargs": {"endpoint_url": s3_endpoint},
        "key": "testing",
        "secret": "testing",
    }
    bucket = f"bucket-{secrets.token_hex(4)}"
    s3fs.S3FileSystem(**options, skip_instance_cache=True).mkdir(bucket)
    return {"bucket": bucket, "options": options}


@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[str]:
    """gcp-storage-emulator on a free loopback port, in memory."""
    import socket

    from gcp_storage_emulator.server import create_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def gcs_options(gcs_endpoint: str) -> dict:
    """gcsfs options for the emulator, with a fresh bucket per test."""
    import secrets

    import gcsfs

    options = {"endpoint_url": gcs_endpoint, "token": "anon", "project": "test"}
    bucket = f"bucket-{secrets.token_hex(4)}"
    gcsfs.GCSFileSystem(**options, skip_instance_cache=True).mkdir(bucket)
    return {"bucket": bucket, "options": options}
