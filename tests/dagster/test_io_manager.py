"""The IO manager and resource with ``materialize(...)`` against a server on loopback."""

from __future__ import annotations

import pathlib

import pandas as pd
import pytest
from dagster import (
    AssetIn,
    AssetKey,
    AssetSpec,
    DagsterInstance,
    Definitions,
    asset,
    materialize,
)

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource
from dagster_wandb_artifacts.client import Artifact, InvalidInputError
from dagster_wandb_artifacts.client.errors import AuthenticationError
from tests.support import sdk_api, sdk_run


@asset(key_prefix=["warehouse"], metadata={"wandb_artifact": {"aliases": ["fresh"]}})
def raw() -> dict:
    return {"rows": [1, 2, 3]}


@asset(key_prefix=["warehouse"], ins={"raw": AssetIn(key=["warehouse", "raw"])})
def cleaned(raw: dict) -> pd.DataFrame:
    return pd.DataFrame({"x": raw["rows"], "y": [r * 2 for r in raw["rows"]]})


@asset(
    ins={"cleaned": AssetIn(key=["warehouse", "cleaned"])},
    metadata={"wandb_artifact": {"type": "model", "tags": ["nightly"]}},
)
def model(cleaned: pd.DataFrame) -> bytes:
    return bytes(int(v) for v in cleaned["y"])


def test_chain_logs_versions_with_metadata_and_data_versions(resources, api, server):
    instance = DagsterInstance.ephemeral()
    result = materialize([raw, cleaned, model], resources=resources, instance=instance)
    assert result.success
    materializations = {
        m.asset_key.to_user_string(): m
        for m in result.asset_materializations_for_node("model")
        + result.asset_materializations_for_node("warehouse__cleaned")
        + result.asset_materializations_for_node("warehouse__raw")
    }
    cleaned_meta = materializations["warehouse/cleaned"].metadata
    assert cleaned_meta["wandb/version"].value == "v0"
    assert cleaned_meta["wandb/collection"].value == "ent/proj/warehouse.cleaned"
    assert cleaned_meta["dagster/row_count"].value == 3
    assert [c.name for c in cleaned_meta["dagster/column_schema"].value.columns] == ["x", "y"]
    assert cleaned_meta["dagster/uri"].value == "wandb-artifact://ent/proj/warehouse.cleaned:v0"

    logged = api.artifact("warehouse.cleaned:latest")
    assert cleaned_meta["wandb/digest"].value == logged.digest
    record = instance.get_latest_materialization_event(AssetKey(["warehouse", "cleaned"]))
    assert record.asset_materialization.tags["dagster/data_version"] == logged.digest

    raw_version = api.artifact("warehouse.raw:fresh")
    assert raw_version.metadata["dagster/serializer"] == "json"
    model_version = api.artifact("model:latest", type="model")
    assert model_version.tags == ["nightly"]
    assert model_version.metadata["dagster/asset_key"] == "model"
    producer = model_version.logged_by()
    assert producer.job_type == "model" and producer.group == result.run_id
    assert [r.job_type for r in logged.used_by()] == ["model"]


def test_unchanged_rematerialization_uploads_nothing(resources, api, server):
    instance = DagsterInstance.ephemeral()
    assert materialize([raw, cleaned], resources=resources, instance=instance).success
    before = server.bytes_received
    again = materialize([raw, cleaned], resources=resources, instance=instance)
    assert again.success
    assert server.bytes_received == before
    assert api.artifact("warehouse.cleaned:latest").version == "v0"
    record = instance.get_latest_materialization_event(AssetKey(["warehouse", "cleaned"]))
    assert record.asset_materialization.metadata["wandb/version"].value == "v0"


def log_newer_raw(api) -> None:
    """A version of ``raw`` logged straight into W&B, outside Dagster."""
    run = api.create_run(job_type="outside")
    newer = Artifact("warehouse.raw", "dataset")
    with newer.new_file("value.json") as file:
        file.write('{"rows": [9, 9, 9]}')
    run.log_artifact(newer)
    run.finish()


def test_downstream_loads_the_version_dagster_recorded(resources, api, server, tmp_path):
    instance = DagsterInstance.ephemeral()
    assert materialize([raw], resources=resources, instance=instance).success
    # Someone logs a newer version straight into W&B between the two steps.
    log_newer_raw(api)
    assert api.artifact("warehouse.raw:latest").version == "v1"

    result = materialize(
        [raw, cleaned], selection=[cleaned.key], resources=resources, instance=instance
    )
    assert result.success
    frame = api.artifact("warehouse.cleaned:latest")
    assert frame.metadata["dagster/serializer"] == "pandas-parquet"
    loaded = result.output_for_node("warehouse__cleaned")
    assert list(loaded["x"]) == [1, 2, 3]
    observed = [
        e.event_specific_data.asset_observation.metadata["wandb/version"].value
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert observed == ["v0"]


def test_in_process_downstream_takes_the_version_from_this_run(resources, api, monkeypatch):
    @asset(key_prefix=["warehouse"], deps=[raw])
    def interloper() -> None:
        log_newer_raw(api)

    @asset(key_prefix=["warehouse"], deps=[interloper], ins={"raw": AssetIn(key=raw.key)})
    def after(raw: dict) -> list:
        return raw["rows"]

    def no_event_log_query(*args, **kwargs):
        raise AssertionError("the version logged in this process was asked of the event log")

    # The in-process executor: the IO manager remembers what it logged in this run.
    monkeypatch.setattr(DagsterInstance, "fetch_materializations", no_event_log_query)
    result = materialize([raw, interloper, after], resources=resources)
    assert result.success
    assert api.artifact("warehouse.raw:latest").version == "v1"
    assert result.output_for_node("warehouse__after") == [1, 2, 3]  # v0, logged by this run


def test_sdk_reads_outputs_and_assets_read_sdk_artifacts(resources, server, wandb_home, tmp_path):
    import wandb

    source = tmp_path / "external"
    source.mkdir()
    (source / "labels.csv").write_text("a,b\n1,2\n")
    sdk = sdk_run(server, job_type="notebook")
    external = wandb.Artifact("labels", type="dataset")
    external.add_dir(str(source))
    sdk.log_artifact(external)
    external.wait()
    sdk.finish()

    labels = AssetSpec("labels", metadata={"wandb_artifact": {"name": "labels"}})

    @asset(ins={"labels": AssetIn(key="labels")})
    def counted(labels: pathlib.Path) -> str:
        return (labels / "labels.csv").read_text().upper()

    result = materialize([labels, counted], resources=resources, selection=[counted.key])
    assert result.success
    assert result.output_for_node("counted") == "A,B\n1,2\n"

    fetched = sdk_api(server).artifact("ent/proj/counted:latest")
    root = pathlib.Path(fetched.download(root=str(tmp_path / "sdk")))
    assert (root / "value.txt").read_text() == "A,B\n1,2\n"


def test_paths_and_artifact_drafts_and_inputs_as_artifacts(resources, api, tmp_path):
    folder = tmp_path / "dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "f.txt").write_text("in a folder")
    (tmp_path / "single.bin").write_bytes(b"\x00\x01")

    @asset
    def a_folder() -> pathlib.Path:
        return folder

    @asset
    def a_file() -> pathlib.Path:
        return tmp_path / "single.bin"

    @asset
    def a_draft() -> Artifact:
        draft = Artifact("custom-name", "model", metadata={"hand": "made"})
        with draft.new_file("w.txt") as file:
            file.write("weights")
        return draft

    @asset
    def consumer(a_folder: pathlib.Path, a_file: pathlib.Path, a_draft: Artifact) -> str:
        assert a_draft.version == "v0" and a_draft.type == "model"
        return (a_folder / "sub" / "f.txt").read_text() + a_file.read_bytes().hex()

    result = materialize([a_folder, a_file, a_draft, consumer], resources=resources)
    assert result.success
    assert result.output_for_node("consumer") == "in a folder0001"
    assert api.artifact("custom-name:latest").metadata["hand"] == "made"


def test_bad_config_names_the_key(resources):
    @asset(metadata={"wandb_artifact": {"aliasses": ["typo"]}})
    def misconfigured() -> int:
        return 1

    with pytest.raises(InvalidInputError, match="aliasses"):
        materialize([misconfigured], resources=resources)

    @asset(metadata={"wandb_artifact": {"aliases": ["bad/alias"]}})
    def bad_alias() -> int:
        return 1

    with pytest.raises(InvalidInputError, match="bad/alias"):
        materialize([bad_alias], resources=resources)


def test_remote_host_without_key_is_a_clear_error(wandb_home):
    resource = WandbArtifactsResource(host="https://api.wandb.ai", project="p")
    with pytest.raises(AuthenticationError, match="WANDB_API_KEY"):
        resource.get_api()


def test_api_key_never_reaches_event_log_or_output(resources, server, capfd):
    instance = DagsterInstance.ephemeral()
    result = materialize([raw, cleaned], resources=resources, instance=instance)
    assert result.success
    logs = instance.all_logs(result.run_id)
    assert logs
    text = "\n".join(repr(entry) for entry in logs)
    captured = capfd.readouterr()
    assert server.api_key not in text
    assert server.api_key not in captured.out + captured.err


def test_embedded_mode_definitions(tmp_path, wandb_home):
    resource = WandbArtifactsResource(
        host="local", local_root=str(tmp_path / "root"), project="demo"
    )
    defs = Definitions(
        assets=[raw], resources={"io_manager": WandbArtifactsIOManager(wandb=resource)}
    )
    result = materialize([raw], resources=defs.resources)
    assert result.success
    url = result.asset_materializations_for_node("warehouse__raw")[0].metadata["wandb/url"].value
    assert url == "http://127.0.0.1:8080/local/demo/artifacts/dataset/warehouse.raw/v0"
    assert (tmp_path / "root" / "server.db").exists()


def test_api_key_is_in_no_file_but_its_own(server, resources, tmp_path, monkeypatch):
    """The key never lands in a file we write: server root, cache, downloads, staging."""
    monkeypatch.setenv("WANDB_ARTIFACT_DIR", str(tmp_path / "downloads"))
    assert materialize([raw, cleaned], resources=resources).success
    key = server.api_key.encode()
    offenders = [
        path
        for root in (server.root, tmp_path)
        for path in root.rglob("*")
        if path.is_file() and path.name != "api-key" and key in path.read_bytes()
    ]
    assert offenders == []
    assert (server.root / "api-key").read_bytes().strip() == key
