"""Raw measurements -> cleaned dataset -> trained model -> evaluation, each a W&B Artifact.

Runs on the embedded W&B-compatible server (in ``.wandb-artifacts/``) unless
``WANDB_API_KEY`` is set, in which case it logs to W&B (``WANDB_BASE_URL``, default cloud).

    dagster job execute -m example_project.definitions -j main
"""

import os

import numpy as np
from dagster import (
    AssetExecutionContext,
    Definitions,
    EnvVar,
    asset,
    define_asset_job,
)

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

PROJECT = os.environ.get("WANDB_PROJECT", "dagster-example")


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


@asset(
    key_prefix=["sensors"],
    description="Synthetic sensor readings: temperature against power draw, with outliers.",
    metadata={"wandb_artifact": {"type": "dataset", "tags": ["raw"]}},
)
def raw_measurements() -> np.ndarray:
    rng = np.random.default_rng(seed=7)
    temperature = rng.uniform(10, 35, size=500)
    power = 3.0 * temperature + 12.0 + rng.normal(0, 2.0, size=500)
    power[::50] += 80  # broken sensor readings
    return np.column_stack([temperature, power])


@asset(
    key_prefix=["sensors"],
    description="Readings without outliers (more than 3 standard deviations from the mean).",
    metadata={"wandb_artifact": {"type": "dataset", "aliases": ["clean"]}},
)
def cleaned_measurements(raw_measurements: np.ndarray) -> np.ndarray:
    power = raw_measurements[:, 1]
    keep = np.abs(power - power.mean()) < 3 * power.std()
    return raw_measurements[keep]


@asset(
    description="Least-squares fit: power = slope * temperature + intercept.",
    metadata={"wandb_artifact": {"type": "model", "aliases": ["candidate"]}},
)
def power_model(cleaned_measurements: np.ndarray) -> dict:
    temperature, power = cleaned_measurements[:, 0], cleaned_measurements[:, 1]
    design = np.column_stack([temperature, np.ones_like(temperature)])
    (slope, intercept), *_ = np.linalg.lstsq(design, power, rcond=None)
    return {"slope": float(slope), "intercept": float(intercept)}


@asset(
    description="Mean absolute error of the model on the cleaned readings.",
    metadata={"wandb_artifact": {"type": "evaluation"}},
)
def evaluation(
    context: AssetExecutionContext, power_model: dict, cleaned_measurements: np.ndarray
) -> dict:
    temperature, power = cleaned_measurements[:, 0], cleaned_measurements[:, 1]
    predicted = power_model["slope"] * temperature + power_model["intercept"]
    metrics = {"mae": float(np.abs(predicted - power).mean()), "rows": len(power)}
    context.log.info(f"evaluation: {metrics}")
    return metrics


main = define_asset_job("main", selection="*")

defs = Definitions(
    assets=[raw_measurements, cleaned_measurements, power_model, evaluation],
    jobs=[main],
    resources={"io_manager": WandbArtifactsIOManager(wandb=wandb_resource())},
)
