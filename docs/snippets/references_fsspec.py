"""References (files tracked where they are) and the wandb-artifact:// filesystem."""

import os
from pathlib import Path

import pandas as pd

from dagster_wandb_artifacts.client import Api, Artifact

lake = Path("lake").resolve()
lake.mkdir()
pd.DataFrame({"id": [1, 2], "label": ["cat", "dog"]}).to_parquet(lake / "part-0.parquet")

entity = os.environ["WANDB_ENTITY"]
api = Api(overrides={"entity": entity, "project": "references"})
run = api.create_run(job_type="track")
# --8<-- [start:reference]
draft = Artifact("lake", "dataset")
draft.add_reference(f"file://{lake}/")  # s3://, gs://, http(s):// alike; nothing uploaded
run.log_artifact(draft)
# --8<-- [end:reference]
cleaned = Artifact("cleaned", "dataset")
cleaned.add_file(str(lake / "part-0.parquet"), name="data.parquet")
run.log_artifact(cleaned)
run.finish()

# --8<-- [start:fsspec]
import fsspec

fs = fsspec.filesystem("wandb-artifact", api=api)  # or api_key=..., base_url=...
print(fs.ls(f"wandb-artifact://{entity}/references/cleaned:v0"))
df = pd.read_parquet(
    f"wandb-artifact://{entity}/references/cleaned:v0/data.parquet",
    storage_options={"api": api},
)
# --8<-- [end:fsspec]
assert list(df.label) == ["cat", "dog"]
assert api.artifact("lake:v0").manifest.entries["part-0.parquet"].ref.startswith("file://")
