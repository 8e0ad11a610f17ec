"""A daily-partitioned asset, twice: on our IO manager (one collection, a version per day)
and on Dagster's ``FilesystemIOManager``, for ``bench/backfill.py`` (and its test).

Settings from the environment of the process that loads them: ``BACKFILL_DAYS`` (how many
days from 2025-01-01), ``WANDB_BASE_URL``/``WANDB_API_KEY`` (the server) and
``BACKFILL_FS_DIR`` (where the filesystem IO manager writes).
"""

import os
from datetime import date, timedelta

import numpy as np
from dagster import (
    AssetExecutionContext,
    DailyPartitionsDefinition,
    Definitions,
    EnvVar,
    FilesystemIOManager,
    asset,
    in_process_executor,
)

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

START = date(2025, 1, 1)
DAYS = int(os.environ.get("BACKFILL_DAYS", "365"))
days = DailyPartitionsDefinition(
    start_date=START.isoformat(), end_date=(START + timedelta(days=DAYS)).isoformat()
)
#: The collection every partition of ``daily_wandb`` is a version of.
COLLECTION = "daily"


def readings(partition_key: str) -> np.ndarray:
    """One day of readings: what both assets return for a partition."""
    rng = np.random.default_rng(seed=int(partition_key.replace("-", "")))
    temperature = rng.uniform(10, 35, size=200)
    return np.column_stack([temperature, 3.0 * temperature + rng.normal(0, 2.0, size=200)])


@asset(partitions_def=days, metadata={"wandb_artifact": {"name": COLLECTION, "type": "dataset"}})
def daily_wandb(context: AssetExecutionContext) -> np.ndarray:
    return readings(context.partition_key)


@asset(partitions_def=days, io_manager_key="filesystem")
def daily_fs(context: AssetExecutionContext) -> np.ndarray:
    return readings(context.partition_key)


defs = Definitions(
    assets=[daily_wandb, daily_fs],
    # One small step per run: a step process of its own would cost more than the step.
    executor=in_process_executor,
    resources={
        "io_manager": WandbArtifactsIOManager(
            wandb=WandbArtifactsResource(
                host=EnvVar("WANDB_BASE_URL"),
                api_key=EnvVar("WANDB_API_KEY"),
                entity="bench",
                project="backfill",
            )
        ),
        "filesystem": FilesystemIOManager(base_dir=EnvVar("BACKFILL_FS_DIR")),
    },
)
