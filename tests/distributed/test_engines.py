"""The pipeline on Dagster's distributed executors (Dask, Celery), with the instance on
PostgreSQL and the artifact server a process of its own with its bytes on S3: the same
versions, aliases, data versions and lineage as an in-process run; one W&B run per step; and
each worker's cache holds only what that worker's steps used."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from dagster import DagsterEventType, execute_job, reconstructable

from dagster_wandb_artifacts.client import Api
from tests.distributed import defs
from tests.distributed.services import ArtifactServer, Worker

pytestmark = pytest.mark.slow


@dataclass
class Outcome:
    """What one run of the pipeline left in Dagster and in W&B, by asset."""

    versions: dict[str, dict]
    #: The W&B run that logged each asset: its id, group and config.
    producers: dict[str, dict]
    #: Step key -> the pid of the process that ran it.
    pids: dict[str, int]


def api_for(server: ArtifactServer, project: str) -> Api:
    return Api(
        {"base_url": server.base_url, "entity": defs.ENTITY, "project": project},
        api_key=server.api_key,
    )


def run_pipeline(job_factory, instance, run_config: dict | None = None):
    with execute_job(
        reconstructable(job_factory), instance=instance, run_config=run_config or {}
    ) as result:
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        data_versions = {
            name: result.asset_materializations_for_node(name)[0].tags["dagster/data_version"]
            for name in defs.ASSETS
        }
        pids = {
            event.step_key: event.pid
            for event in result.all_events
            if event.event_type == DagsterEventType.STEP_START
        }
        return result.run_id, data_versions, pids


def outcome(server: ArtifactServer, project: str, run_id: str, data_versions, pids) -> Outcome:
    api = api_for(server, project)
    versions, producers = {}, {}
    for name in defs.ASSETS:
        artifact = api.artifact(f"{name}:latest")
        run = artifact.logged_by()
        assert run is not None
        versions[name] = {
            "version": artifact.version,
            "aliases": sorted(artifact.aliases),
            "digest": artifact.digest,
            "data_version": data_versions[name],
            "state": artifact.state,
            "used": sorted(f"{used.name}" for used in run.used_artifacts()),
        }
        producers[name] = {"id": run.id, "group": run.group, "step": run.config["dagster_step"]}
        assert run.group == run_id
    return Outcome(versions, producers, pids)


@pytest.fixture(scope="module")
def reference(artifact_server, instance, launcher_env) -> Outcome:
    """The pipeline run in this process (the in-process executor), to compare engines with."""
    return outcome(artifact_server, "in-process", *run_pipeline(defs.in_process_job, instance))


def assert_same_as_reference(engine: Outcome, reference: Outcome) -> None:
    assert engine.versions == reference.versions
    for artifact in engine.versions.values():
        assert artifact["version"] == "v0" and artifact["state"] == "COMMITTED"
        # Dagster's data version is the version's manifest digest.
        assert artifact["data_version"] == artifact["digest"]
    # Each step's W&B run is its own, named after the step.
    runs = [producer["id"] for producer in engine.producers.values()]
    assert len(set(runs)) == len(defs.ASSETS)
    assert {name: p["step"] for name, p in engine.producers.items()} == {
        name: name for name in defs.ASSETS
    }


def assert_caches_hold_only_their_steps(
    engine: Outcome, workers: list[Worker], before: dict[str, set[str]]
) -> None:
    """Each worker's cache took in only the versions its own steps logged or used: no step read
    a file another worker wrote to its disk (they come over HTTP)."""
    by_step = {
        name: {artifact["digest"]}
        | {engine.versions[used.split(":")[0]]["digest"] for used in artifact["used"]}
        for name, artifact in engine.versions.items()
    }
    pids = {worker.pid: worker for worker in workers}
    assert set(engine.pids.values()) <= set(pids), (engine.pids, list(pids))
    for worker in workers:
        steps = [step for step, pid in engine.pids.items() if pid == worker.pid]
        wanted = set().union(*(by_step[step] for step in steps))
        new = worker.cached_versions() - before[worker.name]
        assert new == wanted, (worker.name, steps)


def snapshot(workers: list[Worker]) -> dict[str, set[str]]:
    return {worker.name: worker.cached_versions() for worker in workers}


def test_dask(dask_cluster, artifact_server, instance, reference, launcher_env):
    before = snapshot(dask_cluster.workers)
    cluster = {"existing": {"address": dask_cluster.address}}
    run_config = {"execution": {"config": {"cluster": cluster}}}
    engine = outcome(artifact_server, "dask", *run_pipeline(defs.dask_job, instance, run_config))
    assert_same_as_reference(engine, reference)
    assert os.getpid() not in engine.pids.values()
    # The server keeps its database on local disk and the bytes on S3 only.
    assert (artifact_server.root / "server.db").is_file()
    assert not (artifact_server.root / "storage").exists()
    assert_caches_hold_only_their_steps(engine, dask_cluster.workers, before)


def test_celery(celery_workers, redis_url, artifact_server, instance, reference, launcher_env):
    before = snapshot(celery_workers)
    run_config = {"execution": {"config": {"broker": redis_url, "backend": redis_url}}}
    engine = outcome(
        artifact_server, "celery", *run_pipeline(defs.celery_job, instance, run_config)
    )
    assert_same_as_reference(engine, reference)
    assert_caches_hold_only_their_steps(engine, celery_workers, before)
