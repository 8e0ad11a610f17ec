"""Before: the same project with dagster-wandb (shown for comparison; dagster-wandb is not
installed here, so this script only prints what it would have defined)."""

BEFORE = '''
from dagster import AssetIn, Definitions, EnvVar, asset
from dagster_wandb import wandb_artifacts_io_manager, wandb_resource

@asset(
    io_manager_key="wandb_artifacts_manager",
    metadata={"wandb_artifact_configuration": {
        "type": "model",
        "aliases": ["candidate"],
        "add_files": [{"local_path": "card.md", "name": "card.md"}],
        "serialization_module": {"name": "cloudpickle"},
    }},
)
def scorer():
    return lambda x: 2 * x

@asset(io_manager_key="wandb_artifacts_manager")
def dataset() -> wandb.Artifact: ...

@asset(ins={"dataset": AssetIn(
    input_manager_key="wandb_artifacts_manager",
    metadata={"wandb_artifact_configuration": {"get_path": "rows.csv"}},
)})
def scored(scorer, dataset): ...

defs = Definitions(
    assets=[scorer, dataset, scored],
    resources={
        "wandb_config": make_values_resource(entity=str, project=str),
        "wandb_resource": wandb_resource.configured({"api_key": {"env": "WANDB_API_KEY"}}),
        "wandb_artifacts_manager": wandb_artifacts_io_manager,
    },
)
'''

if __name__ == "__main__":
    assert "wandb_artifact_configuration" in BEFORE
    print(BEFORE)
