"""Many steps (``defs.WRITERS``; 50 for bench/RESULTS.md) logging to one collection at once,
on the multiprocess executor (with its concurrency limit) and on a Dask cluster: versions
without gaps or duplicates, and ``latest`` on the last committed version."""

from __future__ import annotations

import pytest
from dagster import execute_job, reconstructable

from dagster_wandb_artifacts.client import Api
from tests.distributed import defs

pytestmark = pytest.mark.slow


def assert_one_version_per_writer(server, project: str, run_id: str) -> None:
    api = Api(
        {"base_url": server.base_url, "entity": defs.ENTITY, "project": project},
        api_key=server.api_key,
    )
    versions = list(api.artifacts("dataset", f"{defs.ENTITY}/{project}/{defs.SHARED}"))
    indexes = sorted(int(version.version[1:]) for version in versions)
    assert indexes == list(range(defs.WRITERS))  # no gap, no duplicate
    assert {version.state for version in versions} == {"COMMITTED"}
    # Each writer's value is in exactly one version, logged by its own run of this Dagster run.
    producers = {version.logged_by().id for version in versions}
    assert len(producers) == defs.WRITERS
    latest = api.artifact(f"{defs.SHARED}:latest")
    assert latest.version == f"v{defs.WRITERS - 1}"
    assert latest.created_at == max(version.created_at for version in versions)
    assert latest.logged_by().group == run_id


def run_writers(job_factory, instance, run_config: dict | None = None) -> str:
    with execute_job(
        reconstructable(job_factory), instance=instance, run_config=run_config or {}
    ) as result:
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        return result.run_id


def test_multiprocess_writers(artifact_server, instance, launcher_env):
    run_id = run_writers(defs.multiprocess_writers_job, instance)
    assert_one_version_per_writer(artifact_server, "writers-multiprocess", run_id)


def test_dask_writers(dask_cluster, artifact_server, instance, launcher_env):
    cluster = {"existing": {"address": dask_cluster.address}}
    run_config = {"execution": {"config": {"cluster": cluster}}}
    run_id = run_writers(defs.dask_writers_job, instance, run_config)
    assert_one_version_per_writer(artifact_server, "writers-dask", run_id)
