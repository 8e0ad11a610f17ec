"""Metrics logged from an asset body into the step's own W&B run, and the run's summary
back in the materialization's metadata."""

import os

from dagster import AssetExecutionContext, DagsterInstance, Definitions, asset

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

wandb = WandbArtifactsResource(
    host=os.environ["WANDB_BASE_URL"],
    api_key=os.environ["WANDB_API_KEY"],
    entity=os.environ["WANDB_ENTITY"],
    project=os.environ["WANDB_PROJECT"],
)


@asset
def model(context: AssetExecutionContext, wandb: WandbArtifactsResource) -> dict:
    run = wandb.run_for(context)  # the run that uses the inputs and logs this output
    run.config.update({"epochs": 20})
    weights = 1.0
    for epoch in range(20):
        weights *= 0.9
        run.log({"loss": weights, "epoch": epoch})
    context.add_output_metadata({"accuracy": 0.91})  # -> the run's summary["accuracy"]
    return {"weights": weights}


defs = Definitions(
    assets=[model],
    resources={"wandb": wandb, "io_manager": WandbArtifactsIOManager(wandb=wandb)},
)

if __name__ == "__main__":
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=DagsterInstance.ephemeral()
    )
    (materialization,) = result.asset_materializations_for_node("model")
    metadata = materialization.metadata
    # The summary's numbers, as Dagster metadata: plotted across materializations.
    assert metadata["wandb/summary/accuracy"].value == 0.91
    assert abs(metadata["wandb/summary/loss"].value - 0.9**20) < 1e-12
    run = wandb.get_api().run(metadata["wandb/run_url"].value.split("/", 3)[3])
    assert [row["epoch"] for row in run.scan_history(keys=["epoch"])] == list(range(20))
    assert [a.name for a in run.logged_artifacts()] == ["model:v0"]
