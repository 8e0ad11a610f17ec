"""W&B collections made outside Dagster as external assets, and the sensor on them."""

import os

import pandas as pd
from dagster import Definitions, EnvVar, asset

from dagster_wandb_artifacts import (
    WandbArtifactsIOManager,
    WandbArtifactsResource,
    wandb_artifact_sensor,
    wandb_artifact_specs,
)
from dagster_wandb_artifacts.client import Api, Artifact

# A model logged by someone else, outside Dagster (a notebook, a training cluster).
api = Api(overrides={"entity": os.environ["WANDB_ENTITY"], "project": "external"})
run = api.create_run(job_type="train")
detector = Artifact("detector", "model")
with detector.new_file("weights.json") as file:
    file.write('{"w": 0.5}')
run.log_artifact(detector, aliases=["production"])
run.finish()

wandb = WandbArtifactsResource(
    api_key=EnvVar("WANDB_API_KEY"),
    host=os.environ["WANDB_BASE_URL"],
    entity=os.environ["WANDB_ENTITY"],
    project="external",
)


# --8<-- [start:specs]
@asset
def evaluate(detector) -> pd.DataFrame:  # the version `production` names, loaded
    return pd.DataFrame({"files": [len(detector.manifest.entries)]})


specs = wandb_artifact_specs(
    wandb,
    project="external",
    types=["model"],
    alias="production",
)
defs = Definitions(
    assets=[*specs, evaluate],
    sensors=[wandb_artifact_sensor(wandb, specs)],
    resources={"io_manager": WandbArtifactsIOManager(wandb=wandb)},
)
# --8<-- [end:specs]
(spec,) = specs
production = api.artifact("detector:production")
assert spec.key.path == ["detector"] and spec.metadata["wandb/version"] == production.version
defs.resolve_all_job_defs()
print("external asset", spec.key.to_user_string(), "at", spec.metadata["wandb/url"].value)
