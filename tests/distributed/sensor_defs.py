"""A collection kept in W&B outside Dagster, watched by ``wandb_artifact_sensor`` (running by
default, ticking every second), for the sensor test on the PostgreSQL instance. The server and
key come from the environment of the code server that loads this file."""

import os

from dagster import AssetSpec, DefaultSensorStatus, Definitions

from dagster_wandb_artifacts import WandbArtifactsResource, wandb_artifact_sensor

calibration = AssetSpec(
    "calibration", metadata={"wandb_artifact": {"name": "calibration", "type": "dataset"}}
)
wandb = WandbArtifactsResource(
    host=os.environ["WANDB_BASE_URL"],
    api_key=os.environ["WANDB_API_KEY"],
    entity="ent",
    project="sensor",
)
defs = Definitions(
    assets=[calibration],
    sensors=[
        wandb_artifact_sensor(
            wandb,
            [calibration],
            minimum_interval_seconds=1,
            default_status=DefaultSensorStatus.RUNNING,
        )
    ],
)
