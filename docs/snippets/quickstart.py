"""Quickstart: two assets stored as W&B Artifacts.

Run it with ``python quickstart.py``: on W&B (or any W&B-compatible server) when
WANDB_API_KEY is set, else on the embedded server in ./.wandb-artifacts (no account).
"""

# --8<-- [start:definitions]
import os

import pandas as pd
from dagster import Definitions, EnvVar, asset

from dagster_wandb_artifacts import (
    WandbArtifactsIOManager,
    WandbArtifactsResource,
    check_definitions,
)


@asset(metadata={"wandb_artifact": {"type": "dataset", "aliases": ["nightly"]}})
def training_data() -> pd.DataFrame:
    return pd.DataFrame({"x": [1, 2, 3], "y": [2, 4, 6]})


@asset(metadata={"wandb_artifact": {"type": "model"}})
def model(training_data: pd.DataFrame) -> dict:
    return {"slope": float((training_data.y / training_data.x).mean())}


if "WANDB_API_KEY" in os.environ:  # W&B, or the server WANDB_BASE_URL names
    wandb = WandbArtifactsResource(
        api_key=EnvVar("WANDB_API_KEY"),
        host=os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai"),
        entity=os.environ.get("WANDB_ENTITY"),
        project=os.environ.get("WANDB_PROJECT", "quickstart"),
    )
else:  # no account: the embedded server, in ./.wandb-artifacts
    wandb = WandbArtifactsResource(host="local", project="quickstart")

defs = check_definitions(  # every wandb_artifact metadata checked as the definitions load
    Definitions(
        assets=[training_data, model],
        resources={"io_manager": WandbArtifactsIOManager(wandb=wandb)},
    )
)
# --8<-- [end:definitions]

if __name__ == "__main__":
    # --8<-- [start:run]
    from dagster import DagsterInstance, materialize

    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    versions = []
    for _ in range(2):  # the second time nothing changed: no new version, nothing uploaded
        result = materialize([training_data, model], resources=defs.resources, instance=instance)
        assert result.success
        metadata = result.asset_materializations_for_node("model")[0].metadata
        versions.append(metadata["wandb/version"].value)
        print("model", metadata["wandb/version"].value, "at", metadata["wandb/url"].value)
    assert versions[0] == versions[1]  # v0 on a new project
    # --8<-- [end:run]
