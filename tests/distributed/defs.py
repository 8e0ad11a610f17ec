"""A compact equivalent of the example's pipeline, for runs on distributed executors.

Readings -> (cleaned, features) -> model -> evaluation: a fan-out and a fan-in, so two steps
can run at once on two workers. Every value is deterministic, so each engine's run logs the
same digests as an in-process run. The server and key come from the environment of the
process a step runs in (``WANDB_BASE_URL``, ``WANDB_API_KEY``): workers reach the artifact
server over HTTP only. Each engine logs into a project of its own, named by its job.
"""

import os
import socket

from dagster import (
    AssetExecutionContext,
    Definitions,
    EnvVar,
    RetryPolicy,
    asset,
    define_asset_job,
    in_process_executor,
    multiprocess_executor,
)
from dagster_celery import celery_executor
from dagster_dask import dask_executor

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

ENTITY = "ent"
#: The steps of the pipeline, in the order of its asset keys.
ASSETS = ("readings", "cleaned", "features", "model", "evaluation")
#: Run tag: ``host:port`` of a test's listening socket. ``evaluation`` then tells it its pid and
#: waits for its word before it returns, so the test can kill the step's process while it runs
#: (and let a retry pass). A tag, not an environment variable: it reaches the step wherever it
#: runs (a fork server or a worker started before the test keeps its own environment).
HOLD_TAG = "dist_test/hold"


@asset(metadata={"wandb_artifact": {"type": "dataset", "aliases": ["raw"]}})
def readings() -> list[list[float]]:
    return [[float(i), 3.0 * i + 12.0 + (80.0 if i % 50 == 0 else 0.0)] for i in range(200)]


@asset(metadata={"wandb_artifact": {"type": "dataset", "aliases": ["clean"]}})
def cleaned(readings: list[list[float]]) -> list[list[float]]:
    return [row for row in readings if row[0] % 50 != 0]


@asset(metadata={"wandb_artifact": {"type": "dataset"}})
def features(readings: list[list[float]]) -> dict:
    return {"rows": len(readings), "max_temperature": max(row[0] for row in readings)}


@asset(metadata={"wandb_artifact": {"type": "model", "aliases": ["candidate"]}})
def model(cleaned: list[list[float]], features: dict) -> dict:
    count = len(cleaned)
    mean_x = sum(row[0] for row in cleaned) / count
    mean_y = sum(row[1] for row in cleaned) / count
    covariance = sum((row[0] - mean_x) * (row[1] - mean_y) for row in cleaned)
    variance = sum((row[0] - mean_x) ** 2 for row in cleaned)
    slope = covariance / variance
    return {"slope": slope, "intercept": mean_y - slope * mean_x, "rows": features["rows"]}


@asset(
    metadata={"wandb_artifact": {"type": "evaluation"}},
    retry_policy=RetryPolicy(max_retries=1),
)
def evaluation(context: AssetExecutionContext, model: dict) -> dict:
    hold = context.run.tags.get(HOLD_TAG)
    if hold:
        _hold(hold, context)
    predicted = model["slope"] * 20.0 + model["intercept"]
    return {"error": abs(predicted - 72.0), "rows": model["rows"]}


def _hold(address: str, context: AssetExecutionContext) -> None:
    """Send this process's pid to the test at ``address`` and wait for its word (bounded)."""
    host, port = address.rsplit(":", 1)
    context.log.info(f"holding for the test at {address}")
    with socket.create_connection((host, int(port)), timeout=60) as connection:
        connection.sendall(f"{os.getpid()}\n".encode())
        if connection.recv(16) != b"go":
            raise RuntimeError("the test did not let the step go on")


def _io_manager(project: str) -> WandbArtifactsIOManager:
    return WandbArtifactsIOManager(
        wandb=WandbArtifactsResource(
            host=EnvVar("WANDB_BASE_URL"),
            api_key=EnvVar("WANDB_API_KEY"),
            entity=ENTITY,
            project=project,
            retry_timeout=10.0,
        )
    )


def _job(project: str, executor, assets: list | None = None):
    """A job of ``assets`` (default: the pipeline) on ``executor``, logging into ``project``."""
    return Definitions(
        assets=assets or [readings, cleaned, features, model, evaluation],
        resources={"io_manager": _io_manager(project)},
        jobs=[define_asset_job("job", executor_def=executor)],
    ).resolve_job_def("job")


# Module-level factories: what ``reconstructable`` hands to the workers.
def in_process_job():
    return _job("in-process", in_process_executor)


def _forkserver_executor(max_concurrent: int):
    """The multiprocess executor from a fork server with dagster and this module loaded: step
    processes start in milliseconds each rather than importing everything anew."""
    start = {"forkserver": {"preload_modules": [__name__]}}
    return multiprocess_executor.configured(
        {"max_concurrent": max_concurrent, "start_method": start}
    )


def multiprocess_job():
    return _job("multiprocess", _forkserver_executor(2))


def dask_job():
    return _job("dask", dask_executor)


def dask_kill_job():
    return _job("dask-kill", dask_executor)


def celery_job():
    return _job("celery", celery_executor)


def celery_kill_job():
    return _job("celery-kill", celery_executor)


def celery_requeue_job():
    return _job("celery-requeue", celery_executor)


# Concurrent writers: many steps logging to one collection at once ----------------------------

#: 50 in the issue's measure (bench/RESULTS.md: DIST_TEST_WRITERS=50); fewer by default, so
#: the test suite stays within its time budget on a small CI machine.
WRITERS = int(os.environ.get("DIST_TEST_WRITERS", "20"))
#: The collection every writer logs a version of.
SHARED = "shared"


def _writer(index: int):
    @asset(name=f"writer_{index:02d}", metadata={"wandb_artifact": {"name": SHARED}})
    def writer() -> dict:
        return {"writer": index}

    return writer


writers = [_writer(index) for index in range(WRITERS)]


def multiprocess_writers_job():
    return _job("writers-multiprocess", _forkserver_executor(8), writers)


def dask_writers_job():
    return _job("writers-dask", dask_executor, writers)
