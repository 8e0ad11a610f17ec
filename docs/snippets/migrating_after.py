"""After: a dagster-wandb project moved to dagster-wandb-artifacts (runs against the server
named by WANDB_BASE_URL / WANDB_API_KEY)."""

import os
from pathlib import Path

import wandb
from dagster import AssetIn, Definitions, asset, materialize

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

Path("card.md").write_text("# Model card\n")


@asset(
    metadata={
        "wandb_artifact": {  # was "wandb_artifact_configuration"
            "type": "model",
            "aliases": ["candidate"],
            "add_files": [{"local_path": "card.md", "name": "card.md"}],
            "serialization_module": {"name": "cloudpickle"},
        }
    }
)
def scorer():
    return lambda x: 2 * x  # no serializer handles a function: cloudpickle, as configured


@asset
def dataset() -> wandb.Artifact:
    # An SDK-built draft is logged as is: its files, metadata and type (no pickle).
    Path("rows.csv").write_text("x\n1\n2\n")
    draft = wandb.Artifact("dataset", "dataset", metadata={"rows": 2})
    draft.add_file("rows.csv")
    return draft


@asset(ins={"dataset": AssetIn(metadata={"wandb_artifact": {"get_path": "rows.csv"}})})
def scored(scorer, dataset: Path) -> list:
    values = [int(line) for line in dataset.read_text().split()[1:]]
    return [scorer(value) for value in values]


wandb_resource = WandbArtifactsResource(
    host=os.environ["WANDB_BASE_URL"],
    api_key=os.environ["WANDB_API_KEY"],
    entity=os.environ.get("WANDB_ENTITY", "ent"),
    project=os.environ.get("WANDB_PROJECT", "proj"),
)
defs = Definitions(
    assets=[scorer, dataset, scored],
    resources={"io_manager": WandbArtifactsIOManager(wandb=wandb_resource)},
)

if __name__ == "__main__":
    result = materialize([scorer, dataset, scored], resources=defs.resources)
    assert result.output_for_node("scored") == [2, 4]
    model = wandb_resource.get_api().artifact("scorer:candidate")
    assert model.type == "model" and sorted(model.manifest.entries) == [
        "card.md",
        "value.cloudpickle",
    ]
    print("scored:", result.output_for_node("scored"))
