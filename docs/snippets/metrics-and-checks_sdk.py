"""An asset body that already uses ``wandb.log``: attach the SDK to the step's run, so its
rows land in the run that logs the output, once."""

import os

import wandb as wandb_sdk
from dagster import AssetExecutionContext, DagsterInstance, Definitions, asset

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

wandb = WandbArtifactsResource(
    host=os.environ["WANDB_BASE_URL"],
    api_key=os.environ["WANDB_API_KEY"],
    entity=os.environ["WANDB_ENTITY"],
    project=os.environ["WANDB_PROJECT"],
)


@asset
def trained(context: AssetExecutionContext, wandb: WandbArtifactsResource) -> int:
    run = wandb.run_for(context)
    with wandb_sdk.init(
        id=run.id,
        entity=run.entity,
        project=run.project,
        resume="must",  # the step's run: never a second one
        settings=wandb_sdk.Settings(
            silent=True,
            console="off",
            x_disable_stats=True,
            x_disable_machine_info=True,
            save_code=False,
            disable_git=True,
        ),
    ) as sdk_run:
        for step in range(5):
            sdk_run.log({"sdk_loss": 0.5**step})
    return 7


defs = Definitions(
    assets=[trained],
    resources={"wandb": wandb, "io_manager": WandbArtifactsIOManager(wandb=wandb)},
)

if __name__ == "__main__":
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=DagsterInstance.ephemeral()
    )
    (materialization,) = result.asset_materializations_for_node("trained")
    assert materialization.metadata["wandb/summary/sdk_loss"].value == 0.5**4
    run = wandb.get_api().run(materialization.metadata["wandb/run_url"].value.split("/", 3)[3])
    assert [row["sdk_loss"] for row in run.scan_history()] == [0.5**s for s in range(5)]
