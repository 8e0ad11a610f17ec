"""Quickstart: two assets stored as W&B Artifacts.

Run it with ``python quickstart.py``: on W&B (or any W&B-compatible server) when
WANDB_API_KEY is set, else on the embedded server in ./.wandb-artifacts (no account).
"""

# --8<-- [start:definitions]
import os

import numpy as np
from dagster import Definitions, EnvVar, asset

from dagster_wandb_artifacts import (
    WandbArtifactsIOManager,
    WandbArtifactsResource,
    check_definitions,
)


@asset(metadata={"wandb_artifact": {"type": "dataset", "aliases": ["nightly"]}})
def training_data() -> np.ndarray:  # a pandas or polars DataFrame works alike (as Parquet)
    return np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # x, y


@asset(metadata={"wandb_artifact": {"type": "model"}})
def model(training_data: np.ndarray) -> dict:
    x, y = training_data.T
    return {"slope": float((y / x).mean())}


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

    home = os.environ.get("DAGSTER_HOME")  # the instance the Dagster UI then shows
    if home:
        os.makedirs(home, exist_ok=True)
    instance = DagsterInstance.get() if home else None  # else a temporary one
    versions = []
    for _ in range(2):  # the second time nothing changed: no new version, nothing uploaded
        result = materialize([training_data, model], resources=defs.resources, instance=instance)
        assert result.success
        metadata = result.asset_materializations_for_node("model")[0].metadata
        versions.append(metadata["wandb/version"].value)
        print("model", metadata["wandb/version"].value, "at", metadata["wandb/url"].value)
    assert versions[0] == versions[1]  # v0 on a new project
    # --8<-- [end:run]
