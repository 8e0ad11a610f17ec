"""Metrics logged from an asset body into the step's own W&B run, read back by the SDK; the
output's numeric metadata and the run's summary written into each other."""

from types import SimpleNamespace

from dagster import (
    AssetExecutionContext,
    DagsterInstance,
    MaterializeResult,
    asset,
    materialize,
)

from dagster_wandb_artifacts import WandbArtifactsResource
from dagster_wandb_artifacts.summary_metadata import MAX_SUMMARY_KEYS
from tests.support import ENTITY, PROJECT, sdk_api, sdk_settings

ROWS = 25


@asset
def trained(context: AssetExecutionContext, wandb: WandbArtifactsResource) -> dict:
    run = wandb.run_for(context)
    run.config.update({"epochs": ROWS})
    for epoch in range(ROWS):
        run.log({"loss": 1.0 / (epoch + 1), "epoch": epoch})
    context.add_output_metadata({"accuracy": 0.93, "note": "text is not a metric"})
    context.log.info(f"wandb run {run.id} at {run.url}")
    return {"weights": [1, 2, 3]}


def _materialization_metadata(result, node: str) -> dict:
    (materialization,) = result.asset_materializations_for_node(node)
    return materialization.metadata


def _step_run_id(result, node: str) -> str:
    return _materialization_metadata(result, node)["wandb/run_url"].value.rsplit("/", 1)[1]


def test_rows_logged_in_the_body_are_the_sdks_history_of_the_run_that_logged_the_output(
    resources, server, api
):
    result = materialize([trained], resources=resources, instance=DagsterInstance.ephemeral())
    assert result.success
    run_id = _step_run_id(result, "trained")

    sdk_run = sdk_api(server).run(f"{ENTITY}/{PROJECT}/{run_id}")
    rows = sdk_run.history(pandas=False, samples=1000)
    assert [row["_step"] for row in rows] == list(range(ROWS))
    assert [row["loss"] for row in rows] == [1.0 / (e + 1) for e in range(ROWS)]
    assert [row["epoch"] for row in list(sdk_run.scan_history(keys=["epoch"]))] == list(range(ROWS))
    # The run that logged the metrics logged the output.
    assert [a.name for a in sdk_run.logged_artifacts()] == ["trained:v0"]
    assert sdk_run.state == "finished"
    assert sdk_run.config["epochs"] == ROWS

    # add_output_metadata numbers are in the summary, with the last logged values.
    assert sdk_run.summary["accuracy"] == 0.93
    assert sdk_run.summary["loss"] == 1.0 / ROWS
    assert "note" not in sdk_run.summary
    ours = api.run(f"{ENTITY}/{PROJECT}/{run_id}")
    assert ours.summary.accuracy == 0.93 and ours.summary["epoch"] == ROWS - 1

    # ... and the summary's numbers come back as materialization metadata.
    metadata = _materialization_metadata(result, "trained")
    assert metadata["wandb/summary/accuracy"].value == 0.93
    assert metadata["wandb/summary/loss"].value == 1.0 / ROWS
    assert metadata["wandb/summary/epoch"].value == ROWS - 1
    assert not any(key.startswith("wandb/summary/_") for key in metadata)


@asset
def many_metrics(context: AssetExecutionContext, wandb: WandbArtifactsResource) -> int:
    wandb.run_for(context).log({f"m{index:02}": index for index in range(MAX_SUMMARY_KEYS + 5)})
    return 1


def test_summary_metadata_is_bounded(resources):
    result = materialize([many_metrics], resources=resources)
    metadata = _materialization_metadata(result, "many_metrics")
    reported = sorted(key for key in metadata if key.startswith("wandb/summary/"))
    assert reported == [f"wandb/summary/m{index:02}" for index in range(MAX_SUMMARY_KEYS)]
    assert metadata["wandb/summary_keys_omitted"].value == 5


@asset
def trained_with_the_sdk(context: AssetExecutionContext, wandb: WandbArtifactsResource) -> int:
    """The SDK attaches to the step's run: its rows land there, logged once."""
    import wandb as wandb_sdk

    run = wandb.run_for(context)
    run.log({"ours": 1})
    run.flush()  # sent before the SDK reads where the run's history stands
    api = wandb.get_api()
    sdk = wandb_sdk.init(
        id=run.id,
        entity=run.entity,
        project=run.project,
        resume="must",
        settings=sdk_settings(SimpleNamespace(base_url=api.base_url, api_key=api.api_key)),
    )
    for step in range(5):
        sdk.log({"sdk_loss": 0.5**step})
    sdk.finish()
    return 7


def test_the_sdk_attached_with_resume_logs_into_the_same_run_once(resources, server):
    result = materialize([trained_with_the_sdk], resources=resources)
    assert result.success
    run_id = _step_run_id(result, "trained_with_the_sdk")
    sdk_run = sdk_api(server).run(f"{ENTITY}/{PROJECT}/{run_id}")
    rows = sdk_run.history(pandas=False)
    assert [row["_step"] for row in rows] == list(range(6))
    assert rows[0]["ours"] == 1
    assert [row["sdk_loss"] for row in rows[1:]] == [0.5**step for step in range(5)]
    assert [a.name for a in sdk_run.logged_artifacts()] == ["trained_with_the_sdk:v0"]
    assert sdk_run.summary["sdk_loss"] == 0.5**4
    metadata = _materialization_metadata(result, "trained_with_the_sdk")
    assert metadata["wandb/summary/sdk_loss"].value == 0.5**4


@asset
def evaluated(context: AssetExecutionContext, wandb: WandbArtifactsResource) -> MaterializeResult:
    wandb.run_for(context).log({"val_loss": 0.25})
    return MaterializeResult(value={"ok": True}, metadata={"f1": 0.8, "rows": 12})


def test_materialize_result_metadata_goes_into_the_summary(resources, server):
    result = materialize([evaluated], resources=resources)
    run_id = _step_run_id(result, "evaluated")
    summary = sdk_api(server).run(f"{ENTITY}/{PROJECT}/{run_id}").summary
    assert (summary["f1"], summary["rows"], summary["val_loss"]) == (0.8, 12, 0.25)
    metadata = _materialization_metadata(result, "evaluated")
    assert metadata["wandb/summary/f1"].value == 0.8
    assert metadata["wandb/summary/rows"].value == 12


@asset
def plain() -> int:
    return 3


def test_an_asset_without_metrics_reports_no_summary(resources):
    result = materialize([plain], resources=resources)
    metadata = _materialization_metadata(result, "plain")
    assert "wandb/run_url" in metadata
    assert not any(key.startswith("wandb/summary") for key in metadata)
