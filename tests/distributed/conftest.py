"""Services for the distributed tests, each started once for the whole folder and stopped at
its end: PostgreSQL (Dagster's instance), Redis (Celery's broker), the artifact server on S3,
a Dask cluster and Celery workers."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bench.backfill import RUNS_IN_PROCESS
from tests.distributed import services


@pytest.fixture(scope="session", autouse=True)
def quiet_moto() -> None:
    """moto's S3 server logs every request: the artifact server's traffic would flood the
    captured log of a failing test."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


@pytest.fixture(scope="module")
def launcher_env(artifact_server, tmp_path_factory) -> Iterator[None]:
    """The test process launches the runs (and runs the in-process ones): it reads the same
    settings from its environment as a worker does, with W&B folders of its own."""
    from tests.support import isolate_wandb

    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_wandb(tmp_path_factory.mktemp("launcher-home"), monkeypatch)
        monkeypatch.setenv("WANDB_BASE_URL", artifact_server.base_url)
        monkeypatch.setenv("WANDB_API_KEY", artifact_server.api_key)
        yield


@pytest.fixture(scope="session")
def postgres() -> Iterator[services.Postgres]:
    with services.postgres() as running:
        yield running


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    with services.redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def artifact_server(tmp_path_factory, s3_endpoint: str) -> Iterator[services.ArtifactServer]:
    import s3fs

    bucket = f"artifacts-{secrets.token_hex(4)}"
    s3fs.S3FileSystem(
        key="testing",
        secret="testing",
        client_kwargs={"endpoint_url": s3_endpoint},
        skip_instance_cache=True,
    ).mkdir(bucket)
    root = tmp_path_factory.mktemp("artifact-server")
    with services.artifact_server(root, f"s3://{bucket}/bytes", s3_endpoint) as server:
        yield server


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory, postgres: services.Postgres) -> Path:
    """A Dagster home whose instance keeps runs, events and schedules in PostgreSQL."""
    home = tmp_path_factory.mktemp("dagster-home")
    storage = postgres.storage_config()
    config = {
        "storage": {"postgres": storage},
        # Runs a backfill (or a sensor) submits execute in the test's process.
        **RUNS_IN_PROCESS,
        # Steps' stdout/stderr stay with their worker: nothing shared on disk.
        "compute_logs": {
            "module": "dagster._core.storage.noop_compute_log_manager",
            "class": "NoOpComputeLogManager",
        },
        "telemetry": {"enabled": False},
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


@pytest.fixture(scope="session")
def instance(dagster_home: Path):
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as running:
        yield running


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory, artifact_server) -> Iterator[services.DaskCluster]:
    with services.dask_cluster(tmp_path_factory.mktemp("dask"), artifact_server) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def celery_workers(
    tmp_path_factory, artifact_server, redis_url: str
) -> Iterator[list[services.Worker]]:
    folder = tmp_path_factory.mktemp("celery")
    with services.celery_workers(folder, artifact_server, redis_url) as workers:
        yield workers
