"""The resource's settings from the environment, as a Kubernetes pod gets them from a secret:
nothing in the code names a server or a key. Run with WANDB_BASE_URL, WANDB_API_KEY,
WANDB_ENTITY and WANDB_PROJECT set (and WANDB_CACHE_DIR on the pod's emptyDir)."""

from dagster import Definitions, EnvVar, asset, materialize

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

wandb = WandbArtifactsResource(
    host=EnvVar("WANDB_BASE_URL"),
    api_key=EnvVar("WANDB_API_KEY"),
    entity=EnvVar("WANDB_ENTITY"),
    project=EnvVar("WANDB_PROJECT"),
    # A step on a busy cluster may wait for W&B a while before it gives up.
    retry_timeout=120,
)


@asset(metadata={"wandb_artifact": {"type": "dataset"}})
def readings() -> list[float]:
    return [20.5, 21.0, 22.4]


@asset(metadata={"wandb_artifact": {"type": "model"}})
def summary(readings: list[float]) -> dict:
    return {"mean": sum(readings) / len(readings)}


defs = Definitions(
    assets=[readings, summary],
    resources={"io_manager": WandbArtifactsIOManager(wandb=wandb)},
)

if __name__ == "__main__":
    result = materialize([readings, summary], resources=defs.resources)
    assert result.success
    logged = result.asset_materializations_for_node("summary")[0].metadata
    assert logged["wandb/collection"].value.endswith("/summary")
    print("summary logged as", logged["wandb/collection"].value, logged["wandb/version"].value)
