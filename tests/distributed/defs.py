"""A compact equivalent of the example's pipeline, for runs on distributed executors.

Readings -> (cleaned, features) -> model -> evaluation: a fan-out and a fan-in, so two steps
can run at once on two workers. Every value is deterministic, so each engine's run logs the
same digests as an in-process run. The server and key come from the environment of the
process a step runs in (``WANDB_BASE_URL``, ``WANDB_API_KEY``): workers reach the artifact
server over HTTP only. Each engine logs into a project of its own, named by its job.
"""

import os
import time
from pathlib import Path

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
#: Set in a worker's environment: ``evaluation`` then waits for this file to appear before
#: it returns, so the test can kill the worker while the step runs (and lets a retry pass).
HOLD_ENV = "DIST_TEST_HOLD_FILE"


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
    hold = os.environ.get(HOLD_ENV)
    if hold:
        _wait_for(Path(hold), context)
    predicted = model["slope"] * 20.0 + model["intercept"]
    return {"error": abs(predicted - 72.0), "rows": model["rows"]}


def _wait_for(path: Path, context: AssetExecutionContext) -> None:
    """Hold the step until ``path`` exists (bounded), so that a test can kill its worker
    while it runs; a retry after the kill finds the file and passes."""
    started = path.with_name(path.name + ".started")
    started.write_text(str(os.getpid()))
    context.log.info(f"holding until {path} exists")
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


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


def _job(project: str, executor):
    assets = [readings, cleaned, features, model, evaluation]
    return Definitions(
        assets=assets,
        resources={"io_manager": _io_manager(project)},
        jobs=[define_asset_job("pipeline", executor_def=executor)],
    ).resolve_job_def("pipeline")


# Module-level factories: what ``reconstructable`` hands to the workers.
def in_process_job():
    return _job("in-process", in_process_executor)


def multiprocess_job():
    return _job("multiprocess", multiprocess_executor)


def dask_job():
    return _job("dask", dask_executor)


def celery_job():
    return _job("celery", celery_executor)


# Concurrent writers: many steps logging to one collection at once ----------------------------

WRITERS = 50
#: The collection every writer logs a version of.
SHARED = "shared"


def _writer(index: int):
    @asset(name=f"writer_{index:02d}", metadata={"wandb_artifact": {"name": SHARED}})
    def writer() -> dict:
        return {"writer": index}

    return writer


writers = [_writer(index) for index in range(WRITERS)]


def _writers_job(project: str, executor):
    return Definitions(
        assets=writers,
        resources={"io_manager": _io_manager(project)},
        jobs=[define_asset_job("writers", executor_def=executor)],
    ).resolve_job_def("writers")


def multiprocess_writers_job():
    # A fork server with dagster and this module loaded: 50 step processes start in
    # milliseconds each rather than importing everything anew.
    start = {"forkserver": {"preload_modules": [__name__]}}
    return _writers_job(
        "writers-multiprocess",
        multiprocess_executor.configured({"max_concurrent": 8, "start_method": start}),
    )


def dask_writers_job():
    return _writers_job("writers-dask", dask_executor)
