"""Sensor readings -> cleaned daily partitions -> trained model -> evaluation, each asset a
W&B Artifact, plus a reference artifact and a collection made outside Dagster.

Runs on the embedded W&B-compatible server (in ``.wandb-artifacts/``) unless
``WANDB_API_KEY`` is set, in which case it logs to W&B (``WANDB_BASE_URL``, default cloud).
``python -m example_project`` materializes everything once; ``dg dev`` in the example's
folder shows it in the Dagster UI, with a daily schedule and a sensor that retrains when the
calibration table changes in W&B.
"""

import os
from pathlib import Path

import numpy as np
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetSpec,
    DailyPartitionsDefinition,
    Definitions,
    EnvVar,
    asset,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from dagster_wandb_artifacts import (
    WandbArtifactsIOManager,
    WandbArtifactsResource,
    check_definitions,
    wandb_artifact_sensor,
)
from dagster_wandb_artifacts.client import Artifact

PROJECT = os.environ.get("WANDB_PROJECT", "dagster-example")
#: Where the raw sensor archive lives: a local folder by default, any s3:// or gs:// prefix
#: when configured (tracked by reference, never uploaded).
ARCHIVE_URI = os.environ.get("EXAMPLE_ARCHIVE_URI", "")
days = DailyPartitionsDefinition(start_date="2026-11-01", end_offset=0)


def wandb_resource() -> WandbArtifactsResource:
    """W&B when a key is configured, else the embedded server: chosen explicitly, never both."""
    if os.environ.get("WANDB_API_KEY"):
        return WandbArtifactsResource(
            api_key=EnvVar("WANDB_API_KEY"),
            host=os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai"),
            entity=os.environ.get("WANDB_ENTITY"),
            project=PROJECT,
        )
    return WandbArtifactsResource(
        host="local",
        local_root=os.environ.get("WANDB_ARTIFACTS_ROOT", ".wandb-artifacts"),
        project=PROJECT,
    )


wandb = wandb_resource()

#: A calibration table kept in W&B by another team (logged outside Dagster).
calibration = AssetSpec(
    "calibration",
    description="Sensor calibration offsets, maintained in W&B outside this pipeline.",
    kinds={"wandb"},
    metadata={"wandb_artifact": {"name": "calibration", "type": "dataset"}},
)


@asset(
    key_prefix=["sensors"],
    partitions_def=days,
    description="One day of synthetic readings: temperature against power draw, with outliers.",
    metadata={"wandb_artifact": {"type": "dataset", "tags": ["raw"]}},
)
def raw_measurements(context: AssetExecutionContext) -> np.ndarray:
    rng = np.random.default_rng(seed=int(context.partition_key.replace("-", "")))
    temperature = rng.uniform(10, 35, size=200)
    power = 3.0 * temperature + 12.0 + rng.normal(0, 2.0, size=200)
    power[::50] += 80  # broken sensor readings
    return np.column_stack([temperature, power])


@asset(
    key_prefix=["sensors"],
    partitions_def=days,
    description="The day's readings without outliers (more than 3 standard deviations out).",
    metadata={"wandb_artifact": {"type": "dataset", "aliases": ["clean"]}},
)
def cleaned_measurements(raw_measurements: np.ndarray) -> np.ndarray:
    power = raw_measurements[:, 1]
    keep = np.abs(power - power.mean()) < 3 * power.std()
    return raw_measurements[keep]


@asset(
    description="The raw archive files, tracked by reference: W&B records them, uploads nothing.",
    metadata={"wandb_artifact": {"type": "archive"}},
)
def sensor_archive() -> Artifact:
    uri = ARCHIVE_URI or _local_archive().as_uri()
    archive = Artifact("sensor_archive", "archive")
    archive.add_reference(uri)
    return archive


def _local_archive() -> Path:
    folder = Path(os.environ.get("EXAMPLE_ARCHIVE_DIR", "data/archive")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for day in ("2026-11-01", "2026-11-02"):
        (folder / f"{day}.csv").write_text(f"day,readings\n{day},200\n")
    return folder


@asset(
    description="Least-squares fit over every cleaned day: power = slope * temperature + b.",
    ins={
        "cleaned_measurements": AssetIn(
            key=["sensors", "cleaned_measurements"],
            # Train on the days there are: the example materializes only recent ones.
            metadata={"wandb_artifact": {"allow_missing_partitions": True}},
        )
    },
    metadata={"wandb_artifact": {"type": "model", "aliases": ["candidate"]}},
)
def power_model(cleaned_measurements: dict) -> dict:
    readings = np.concatenate(list(cleaned_measurements.values()))
    temperature, power = readings[:, 0], readings[:, 1]
    design = np.column_stack([temperature, np.ones_like(temperature)])
    (slope, intercept), *_ = np.linalg.lstsq(design, power, rcond=None)
    return {"slope": float(slope), "intercept": float(intercept), "days": len(cleaned_measurements)}


@asset(
    description="Mean absolute error of the model, after the calibration offset.",
    metadata={"wandb_artifact": {"type": "evaluation"}},
)
def evaluation(context: AssetExecutionContext, power_model: dict, calibration: dict) -> dict:
    rng = np.random.default_rng(seed=0)
    temperature = rng.uniform(10, 35, size=100)
    power = 3.0 * temperature + 12.0 + calibration["offset"]
    predicted = power_model["slope"] * temperature + power_model["intercept"]
    metrics = {"mae": float(np.abs(predicted - power).mean()), "rows": len(power)}
    context.log.info(f"evaluation: {metrics}")
    return metrics


daily = define_asset_job(
    "daily", selection=[raw_measurements, cleaned_measurements], partitions_def=days
)
main = define_asset_job("main", selection=[sensor_archive, power_model, evaluation])

# Every asset's and input's wandb_artifact metadata is checked as the definitions load.
defs = check_definitions(
    Definitions(
        assets=[
            calibration,
            raw_measurements,
            cleaned_measurements,
            sensor_archive,
            power_model,
            evaluation,
        ],
        jobs=[daily, main],
        schedules=[build_schedule_from_partitioned_job(daily, hour_of_day=1)],
        sensors=[wandb_artifact_sensor(wandb, [calibration], name="calibration_changed", job=main)],
        resources={"io_manager": WandbArtifactsIOManager(wandb=wandb), "wandb": wandb},
    )
)
