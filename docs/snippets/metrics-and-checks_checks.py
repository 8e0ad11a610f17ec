"""W&B asset checks: with the materialization, and on a schedule."""

import os
from datetime import timedelta

import pandas as pd
from dagster import (
    AssetSelection,
    DagsterInstance,
    Definitions,
    ScheduleDefinition,
    asset,
    define_asset_job,
)

from dagster_wandb_artifacts import (
    WandbArtifactsIOManager,
    WandbArtifactsResource,
    build_wandb_artifact_checks,
)

wandb = WandbArtifactsResource(
    host=os.environ["WANDB_BASE_URL"],
    api_key=os.environ["WANDB_API_KEY"],
    entity=os.environ["WANDB_ENTITY"],
    project=os.environ["WANDB_PROJECT"],
)


@asset(metadata={"wandb_artifact": {"aliases": ["production"]}})
def scores() -> pd.DataFrame:
    return pd.DataFrame({"user": ["a", "b"], "score": [0.5, 0.7]})


checks = build_wandb_artifact_checks(
    [scores],
    aliases=["production"],  # one alias-drift check per alias
    ttl_window=timedelta(days=14),  # warn when a version read downstream expires sooner
    verify_files=False,  # True: download and compare every file's md5
    blocking=True,  # a failed ERROR check stops downstream assets of the run
)
nightly = ScheduleDefinition(
    job=define_asset_job("wandb_checks", selection=AssetSelection.checks(*checks)),
    cron_schedule="0 3 * * *",
)
defs = Definitions(
    assets=[scores],
    asset_checks=checks,
    schedules=[nightly],
    resources={"wandb": wandb, "io_manager": WandbArtifactsIOManager(wandb=wandb)},
)

if __name__ == "__main__":
    instance = DagsterInstance.ephemeral()
    # With the materialization (the asset and its checks selected together).
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert sorted(evaluations) == [
        "wandb_alias_production", "wandb_schema", "wandb_ttl", "wandb_version_exists"
    ]
    assert all(e.passed for e in evaluations.values())
    # What the schedule runs: the checks alone, against what Dagster recorded.
    scheduled = defs.resolve_job_def("wandb_checks").execute_in_process(instance=instance)
    assert all(e.passed for e in scheduled.get_asset_check_evaluations())
