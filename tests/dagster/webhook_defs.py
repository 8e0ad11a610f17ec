"""A Dagster deployment for the webhook receiver's test: a job a W&B alias move starts, and
the external asset its collection is."""

from dagster import AssetSpec, Config, Definitions, OpExecutionContext, job, op


class DeployConfig(Config):
    version: str


@op
def deploy(context: OpExecutionContext, config: DeployConfig) -> None:
    context.log.info(f"deploying {config.version}")


@job
def deploy_model() -> None:
    deploy()


defs = Definitions(jobs=[deploy_model], assets=[AssetSpec("classifier", kinds={"wandb"})])
