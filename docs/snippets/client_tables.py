"""W&B Tables: a DataFrame or a Table added to a version, read back as a DataFrame."""

import os

import pandas as pd

from dagster_wandb_artifacts.client import Api, Artifact

api = Api(overrides={"entity": os.environ["WANDB_ENTITY"], "project": "tables"})
run = api.create_run(job_type="label")
draft = Artifact("labels", "dataset")
# --8<-- [start:tables]
from dagster_wandb_artifacts.client.media import Table

draft.add(pd.DataFrame({"id": [1, 2], "label": ["cat", "dog"]}), "labels")  # labels.table.json
draft.add(Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]]), "pairs")
run.log_artifact(draft)
run.finish()
labels = api.artifact("labels:latest").get("labels")  # a pandas DataFrame
# --8<-- [end:tables]
assert list(labels["label"]) == ["cat", "dog"]
assert "labels.table.json" in api.artifact("labels:latest").manifest.entries
