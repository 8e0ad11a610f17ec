"""``build_wandb_artifact_checks``: each check passes on a fresh materialization and fails
after the matching change made in W&B by another client."""

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import (
    AssetCheckSeverity,
    AssetSelection,
    DagsterInstance,
    Definitions,
    asset,
    define_asset_job,
)

from dagster_wandb_artifacts import build_wandb_artifact_checks, wandb_artifact_specs
from dagster_wandb_artifacts.client import Artifact
from tests.support import ENTITY, PROJECT

COLLECTION = f"{ENTITY}/{PROJECT}/scores"


@asset(metadata={"wandb_artifact": {"aliases": ["production"]}})
def scores() -> pd.DataFrame:
    return pd.DataFrame({"user": ["a", "b"], "score": [0.5, 0.7]})


def _run(resources, instance, checks, with_asset: bool) -> dict:
    """Materialize ``scores`` with its checks (or run the checks alone, as a schedule would):
    each check's evaluation by name."""
    selection = AssetSelection.checks(*checks)
    if with_asset:
        selection = selection | AssetSelection.assets(scores)
    defs = Definitions(
        assets=[scores],
        asset_checks=checks,
        resources=resources,
        jobs=[define_asset_job("checked", selection=selection)],
    )
    result = defs.resolve_job_def("checked").execute_in_process(instance=instance)
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _other_client_logs(api, tmp_path: Path, frame: pd.DataFrame, aliases=()) -> Artifact:
    """A version of ``scores`` logged outside Dagster (a notebook)."""
    folder = tmp_path / f"outside-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "data.parquet")
    draft = Artifact("scores", "dataset")
    draft.add_dir(str(folder))
    run = api.create_run(job_type="notebook")
    logged = run.log_artifact(draft, aliases=list(aliases))
    run.finish()
    return logged


@pytest.fixture
def instance():
    return DagsterInstance.ephemeral()


@pytest.fixture
def checks():
    return build_wandb_artifact_checks(
        [scores], aliases=["production"], ttl_window=timedelta(days=7)
    )


def test_every_check_passes_on_a_fresh_materialization(resources, instance, checks):
    evaluations = _run(resources, instance, checks, with_asset=True)
    assert set(evaluations) == {
        "wandb_version_exists",
        "wandb_alias_production",
        "wandb_ttl",
        "wandb_schema",
    }
    assert all(e.passed for e in evaluations.values()), evaluations
    exists = evaluations["wandb_version_exists"].metadata
    assert exists["wandb/recorded_version"].value == f"{COLLECTION}:v0"
    assert exists["wandb/recorded_url"].value.endswith("/artifacts/dataset/scores/v0")


def test_verify_files_checks_the_md5s(resources, instance):
    checks = build_wandb_artifact_checks([scores], checks=["exists"], verify_files=True)
    evaluation = _run(resources, instance, checks, with_asset=True)["wandb_version_exists"]
    assert evaluation.passed and evaluation.metadata["wandb/files_verified"].value == 1


def test_a_deleted_version_fails_as_an_error(resources, instance, checks, api):
    _run(resources, instance, checks, with_asset=True)
    api.artifact(f"{COLLECTION}:v0").delete(delete_aliases=True)
    evaluation = _run(resources, instance, checks, with_asset=False)["wandb_version_exists"]
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR
    assert "no longer exists" in evaluation.description


def test_an_alias_moved_to_a_version_logged_outside_dagster_fails_and_names_it(
    resources, instance, checks, api, tmp_path
):
    _run(resources, instance, checks, with_asset=True)
    frame = pd.DataFrame({"user": ["c"], "score": [0.1]})
    outside = _other_client_logs(api, tmp_path, frame, aliases=["production"])
    evaluation = _run(resources, instance, checks, with_asset=False)["wandb_alias_production"]
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN
    assert f"points to {COLLECTION}:v1" in evaluation.description
    assert "outside Dagster" in evaluation.description
    assert outside.logged_by().id in evaluation.description
    assert evaluation.metadata["wandb/alias_version"].value == "v1"


def test_a_short_ttl_on_the_version_downstream_reads_fails(resources, instance, checks, api):
    _run(resources, instance, checks, with_asset=True)
    version = api.artifact(f"{COLLECTION}:v0")
    version.ttl = timedelta(days=2)
    version.save()
    evaluation = _run(resources, instance, checks, with_asset=False)["wandb_ttl"]
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN
    assert f"{COLLECTION}:v0" in evaluation.description
    assert evaluation.metadata["wandb/expires"].value != "never"


def test_a_column_dropped_in_a_version_logged_outside_dagster_fails(
    resources, instance, checks, api, tmp_path
):
    _run(resources, instance, checks, with_asset=True)
    _other_client_logs(api, tmp_path, pd.DataFrame({"user": ["c"]}))
    evaluation = _run(resources, instance, checks, with_asset=False)["wandb_schema"]
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN
    assert "dropped: score" in evaluation.description
    assert evaluation.metadata["wandb/previous_version"].value == "v0"
    assert evaluation.metadata["wandb/newest_version"].value == "v1"


def test_checks_of_an_external_collection(resources, api, tmp_path, instance):
    _other_client_logs(api, tmp_path, pd.DataFrame({"user": ["a"], "score": [1.0]}))
    specs = wandb_artifact_specs(resources["wandb"], project=PROJECT)
    checks = build_wandb_artifact_checks(specs, checks=["exists", "ttl", "schema"])
    defs = Definitions(
        assets=specs,
        asset_checks=checks,
        resources=resources,
        jobs=[define_asset_job("checked", selection=AssetSelection.checks(*checks))],
    )
    result = defs.resolve_job_def("checked").execute_in_process(instance=instance)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert all(e.passed for e in evaluations.values()), evaluations
    assert evaluations["wandb_version_exists"].metadata["wandb/recorded_version"].value == (
        f"{COLLECTION}:latest"
    )


def test_unknown_checks_are_refused():
    with pytest.raises(ValueError, match="unknown checks"):
        build_wandb_artifact_checks([scores], checks=["existence"])


def _log_file(api, tmp_path: Path, name: str, write) -> Artifact:
    folder = tmp_path / f"table-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    write(folder / name)
    draft = Artifact("tables", "dataset")
    draft.add_dir(str(folder))
    run = api.create_run()
    logged = run.log_artifact(draft)
    run.finish()
    return logged


def test_table_schemas_of_arrow_files_and_wandb_tables(api, tmp_path):
    from dagster_wandb_artifacts.asset_checks import table_schema
    from dagster_wandb_artifacts.client.media import Table

    def arrow(path: Path) -> None:
        table = pa.table({"a": pa.array([1, 2], pa.int64()), "b": ["x", "y"]})
        with pa.ipc.new_file(str(path), table.schema) as writer:
            writer.write_table(table)

    logged = _log_file(api, tmp_path, "data.arrow", arrow)
    assert table_schema(logged) == {"a": "int64", "b": "string"}

    def wandb_table(path: Path) -> None:
        table = Table(columns=["user", "score"], data=[["a", 0.5], ["b", 0.7]])
        path.write_text(json.dumps(table.to_json()))

    logged = _log_file(api, tmp_path, "scores.table.json", wandb_table)
    assert table_schema(logged) == {"user": "none|string", "score": "none|number"}
    logged = _log_file(api, tmp_path, "notes.txt", lambda path: path.write_text("no table"))
    assert table_schema(logged) is None
