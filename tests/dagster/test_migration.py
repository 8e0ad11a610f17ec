"""Coming from ``dagster-wandb`` and the SDK: every output type, files from config, pickler
choice, one entry per input, defaults that per-asset metadata overrides, a deleted version."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import wandb
from dagster import AssetIn, DagsterInstance, asset, materialize

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource
from dagster_wandb_artifacts.client import NotFoundError
from dagster_wandb_artifacts.serializers import SerializationError
from tests.support import sdk_api


def _meta(result, node: str) -> dict:
    return result.asset_materializations_for_node(node)[0].metadata


def test_an_sdk_artifact_draft_is_logged_with_its_files_and_read_back_by_the_sdk(
    resources, server, tmp_path
):
    (tmp_path / "weights.bin").write_bytes(b"\x01\x02")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("x\n1\n")
    (tmp_path / "far.txt").write_text("far away")

    @asset
    def model() -> wandb.Artifact:
        draft = wandb.Artifact("detector", "model", description="SDK-built", metadata={"k": 1})
        draft.add_file(str(tmp_path / "weights.bin"))
        draft.add_dir(str(tmp_path / "data"), name="data")
        draft.add_reference(f"file://{tmp_path / 'far.txt'}", name="far.txt")
        draft.ttl = timedelta(days=3)
        return draft

    result = materialize([model], resources=resources)
    assert result.success
    meta = _meta(result, "model")
    assert meta["wandb/collection"].value == "ent/proj/detector"
    sdk = sdk_api(server).artifact("ent/proj/detector:latest")
    assert (sdk.type, sdk.description, sdk.metadata["k"]) == ("model", "SDK-built", 1)
    assert sdk.metadata["dagster/serializer"] == "artifact"
    assert sorted(sdk.manifest.entries) == ["data/a.csv", "far.txt", "weights.bin"]
    assert sdk.manifest.entries["far.txt"].ref.startswith("file://")
    assert sdk.ttl == timedelta(days=3)
    root = Path(sdk.download(str(tmp_path / "sdk")))
    assert (root / "weights.bin").read_bytes() == b"\x01\x02"
    assert (root / "data" / "a.csv").read_text() == "x\n1\n"
    assert (root / "far.txt").read_text() == "far away"
    assert not any(name.endswith("pickle") for name in sdk.manifest.entries)


def test_an_sdk_drafts_aliases_and_tags_come_from_metadata_and_from_the_draft(
    resources, server, tmp_path
):
    from wandb.sdk.artifacts.exceptions import ArtifactNotLoggedError

    probe = wandb.Artifact("probe", "model")
    for field in ("aliases", "tags"):  # SDK 0.31: only on logged versions
        with pytest.raises(ArtifactNotLoggedError):
            setattr(probe, field, ["best"])
    (tmp_path / "weights.bin").write_bytes(b"\x01")

    @asset(metadata={"wandb_artifact": {"aliases": ["best"], "tags": ["vision"]}})
    def detector() -> wandb.Artifact:
        draft = wandb.Artifact("detector", "model")
        draft.add_file(str(tmp_path / "weights.bin"))
        # What an SDK that keeps aliases and tags on drafts hands over.
        draft._aliases, draft._tags = ["candidate", "best"], ["fast"]
        return draft

    assert materialize([detector], resources=resources).success
    logged = sdk_api(server).artifact("ent/proj/detector:latest")
    assert sorted(logged.aliases) == ["best", "candidate", "latest"]
    assert sorted(logged.tags) == ["fast", "vision"]


def test_an_sdk_table_goes_through_the_table_path_with_schema_and_row_count(resources, server):
    @asset
    def labels() -> wandb.Table:
        return wandb.Table(columns=["id", "label"], data=[[1, "cat"], [2, "dog"]])

    @asset
    def reader(labels: pd.DataFrame) -> list:
        return labels.values.tolist()

    result = materialize([labels, reader], resources=resources)
    assert result.output_for_node("reader") == [[1, "cat"], [2, "dog"]]
    meta = _meta(result, "labels")
    assert meta["dagster/row_count"].value == 2
    assert [c.name for c in meta["dagster/column_schema"].value.columns] == ["id", "label"]
    sdk = sdk_api(server).artifact("ent/proj/labels:latest")
    assert sdk.metadata["dagster/serializer"] == "wandb-table"
    table = sdk.get("table")
    assert isinstance(table, wandb.Table) and table.data == [[1, "cat"], [2, "dog"]]


def test_sdk_media_are_logged_as_the_sdk_adds_them_and_read_back_by_both(
    resources, server, tmp_path
):
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)

    @asset
    def picture() -> wandb.Image:
        return wandb.Image(pixels, caption="a square")

    @asset
    def page() -> wandb.Html:
        return wandb.Html("<p>a page</p>")

    @asset
    def seen(picture: wandb.Image, page: wandb.Html) -> list:
        page_kept = page.html.endswith("a page</p>")  # the SDK prefixes a stylesheet
        return [np.array(picture.image).tolist(), picture._caption, page_kept]

    @asset(ins={"picture": AssetIn(metadata={"wandb_artifact": {"get": "image"}})})
    def one_entry(picture: object) -> list:
        return np.array(picture.image).tolist()

    result = materialize([picture, page, seen, one_entry], resources=resources)
    assert result.success
    assert result.output_for_node("seen") == [pixels.tolist(), "a square", True]
    assert result.output_for_node("one_entry") == pixels.tolist()
    sdk = sdk_api(server)
    logged = sdk.artifact("ent/proj/picture:latest")
    assert logged.metadata["dagster/serializer"] == "wandb-image"
    names = sorted(logged.manifest.entries)
    assert names[0] == "image.image-file.json" and names[1].startswith("media/images/")
    assert len(names) == 2
    assert not any(name.endswith("pickle") for name in names)
    image = logged.get("image")
    assert isinstance(image, wandb.Image) and np.array(image.image).tolist() == pixels.tolist()
    html = sdk.artifact("ent/proj/page:latest").get("html")
    assert isinstance(html, wandb.Html) and "a page" in html.html

    @asset(ins={"page": AssetIn(metadata={"wandb_artifact": {"get": "html.html-file.json"}})})
    def by_entry(page: object) -> bool:
        return isinstance(page, wandb.Html) and page.html.endswith("a page</p>")

    @asset
    def passed_on() -> wandb.Image:
        return image  # read by the SDK from a logged version: the SDK would make a reference

    instance = DagsterInstance.ephemeral()
    assert materialize([page, by_entry], resources=resources, instance=instance).success
    by_entry_result = materialize(
        [page, by_entry], resources=resources, instance=instance, selection=[by_entry.key]
    )
    assert by_entry_result.output_for_node("by_entry") is True
    with pytest.raises(SerializationError, match="read from another artifact"):
        materialize([passed_on], resources=resources)


def test_tables_report_column_schema_row_count_and_a_readable_size(resources, api):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})

    @asset
    def pandas_frame() -> pd.DataFrame:
        return frame

    @asset
    def polars_frame() -> pl.DataFrame:
        return pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})

    @asset
    def arrow_table() -> pa.Table:
        return pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})

    @asset
    def back(arrow_table: pa.Table) -> int:
        return arrow_table.num_rows

    result = materialize([pandas_frame, polars_frame, arrow_table, back], resources=resources)
    assert result.output_for_node("back") == 3
    for node, kinds in [
        ("pandas_frame", ["int64"]),
        ("polars_frame", ["Int64"]),
        ("arrow_table", ["int64"]),
    ]:
        meta = _meta(result, node)
        assert meta["dagster/row_count"].value == 3
        columns = meta["dagster/column_schema"].value.columns
        assert [c.name for c in columns] == ["a", "b"] and columns[0].type in kinds
        assert meta["wandb/size"].value.endswith("bytes)") or "bytes" in meta["wandb/size"].value
    assert api.artifact("arrow_table:latest").metadata["dagster/serializer"] == "arrow-parquet"


class Opaque:
    def __init__(self, x: int) -> None:
        self.x = x


class Unwarned:
    """Pickled by one test only: the warning is once per type and process."""


def test_pickling_warns_once_per_type_naming_it_and_the_way_out(resources):
    @asset
    def first() -> Unwarned:
        return Unwarned()

    @asset
    def second() -> Unwarned:
        return Unwarned()

    instance = DagsterInstance.ephemeral()
    result = materialize([first, second], resources=resources, instance=instance)
    messages = [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30]
    warned = [m for m in messages if "no serializer handles" in m]
    assert len(warned) == 1, warned
    assert "test_migration.Unwarned" in warned[0]
    assert "serialization_module" in warned[0] and "serializers=[" in warned[0]


@pytest.mark.parametrize(
    ("module", "parameters", "file_name"),
    [
        ("pickle", {"protocol": 4}, "value.pickle"),
        ("dill", {}, "value.dill"),
        ("cloudpickle", {}, "value.cloudpickle"),
        ("joblib", {"compress": 3}, "value.joblib"),
    ],
)
def test_every_pickler_round_trips_and_keeps_the_trust_rule(
    resources, api, module, parameters, file_name
):
    instance = DagsterInstance.ephemeral()
    config = {"serialization_module": {"name": module, "parameters": parameters}}

    @asset(metadata={"wandb_artifact": config})
    def stored() -> Opaque:
        return Opaque(5)

    @asset
    def reader(stored: Opaque) -> int:
        return stored.x

    result = materialize([stored, reader], resources=resources, instance=instance)
    assert result.output_for_node("reader") == 5
    logged = api.artifact("stored:latest")
    assert logged.metadata["dagster/serializer"] == module
    assert sorted(logged.manifest.entries) == [file_name]

    @asset(ins={"stored": AssetIn(key="stored", metadata={"wandb_artifact": {"alias": "v0"}})})
    def pinned(stored: object) -> int:
        return 1

    # A pinned alias is not the version Dagster recorded: metadata alone proves nothing.
    with pytest.raises(SerializationError, match="allow_pickle"):
        materialize([stored, pinned], resources=resources, selection=[pinned.key])


def test_a_lambda_needs_a_pickler_that_takes_it(resources):
    @asset(metadata={"wandb_artifact": {"serialization_module": {"name": "dill"}}})
    def adder() -> object:
        return lambda a, b: a + b

    @asset
    def use(adder: object) -> int:
        return adder(1, 2)

    assert materialize([adder, use], resources=resources).output_for_node("use") == 3


def test_files_from_config_are_added_beside_the_value(resources, api, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# card")
    (tmp_path / "extra.json").write_text("{}")
    (tmp_path / "ref.txt").write_text("referenced")
    config = {
        "add_dirs": [{"local_path": str(tmp_path / "docs"), "name": "docs"}],
        "add_files": [{"local_path": str(tmp_path / "extra.json"), "name": "meta/extra.json"}],
        "add_references": [{"uri": f"file://{tmp_path / 'ref.txt'}", "name": "ref.txt"}],
    }

    @asset(metadata={"wandb_artifact": config})
    def bundle() -> dict:
        return {"value": 1}

    @asset
    def reader(bundle: dict) -> dict:
        return bundle

    result = materialize([bundle, reader], resources=resources)
    assert result.output_for_node("reader") == {"value": 1}
    logged = api.artifact("bundle:latest")
    assert sorted(logged.manifest.entries) == [
        "docs/README.md",
        "meta/extra.json",
        "ref.txt",
        "value.json",
    ]
    assert logged.manifest.get("ref.txt").ref.startswith("file://")


def test_get_and_get_path_download_one_entry_only(resources, server, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(20):
        (folder / f"f{index}.txt").write_text(f"file {index}")

    @asset(metadata={"wandb_artifact": {"add_dirs": [{"local_path": str(folder)}]}})
    def many() -> dict:
        return {"main": True}

    def reader(key: str, options: dict):
        @asset(name=f"read_{key}", ins={"many": AssetIn(metadata={"wandb_artifact": options})})
        def read(many: object) -> object:
            return many

        return read

    by_path = reader("path", {"get_path": "f7.txt"})
    by_value = reader("value", {"get": "value.json"})
    by_bytes = reader("bytes", {"get": "f3.txt"})
    instance = DagsterInstance.ephemeral()
    assert materialize([many], resources=resources, instance=instance).success
    for number, (node, expected) in enumerate([
        (by_path, None),
        (by_value, {"main": True}),
        (by_bytes, b"file 3"),
    ]):
        # A cold cache each time, so every file read is a request to count.
        cold = WandbArtifactsResource(
            host=server.base_url,
            api_key=server.api_key,
            entity="ent",
            project="proj",
            cache_dir=str(tmp_path / f"cache{number}"),
        )
        reading = {"io_manager": WandbArtifactsIOManager(wandb=cold)}
        gets = server.requests["GET object"]
        result = materialize(
            [many, node], resources=reading, instance=instance, selection=[node.key]
        )
        assert server.requests["GET object"] - gets == 1  # that entry only
        value = result.output_for_node(node.op.name)
        if expected is None:
            assert Path(value).read_text() == "file 7"
        else:
            assert value == expected

    missing = reader("missing", {"get": "nope.txt"})
    with pytest.raises(NotFoundError, match="no entry 'nope.txt'"):
        materialize(
            [many, missing], resources=resources, instance=instance, selection=[missing.key]
        )


def test_io_manager_defaults_apply_and_asset_metadata_overrides_each(server, wandb_home, api):
    resource = WandbArtifactsResource(
        host=server.base_url, api_key=server.api_key, entity="ent", project="proj"
    )
    io_manager = WandbArtifactsIOManager(
        wandb=resource, artifact_type="model", serialization_module="dill"
    )

    @asset
    def defaults() -> Opaque:
        return Opaque(1)

    @asset(
        metadata={
            "wandb_artifact": {
                "type": "dataset",
                "project": "other",
                "serialization_module": {"name": "pickle"},
            }
        }
    )
    def overridden() -> Opaque:
        return Opaque(2)

    assert materialize([defaults, overridden], resources={"io_manager": io_manager}).success
    default = api.artifact("ent/proj/defaults:latest")
    assert (default.type, default.metadata["dagster/serializer"]) == ("model", "dill")
    other = api.artifact("ent/other/overridden:latest")
    assert (other.type, other.metadata["dagster/serializer"]) == ("dataset", "pickle")


def test_a_deleted_recorded_version_says_what_happened_and_what_to_do(resources, api):
    instance = DagsterInstance.ephemeral()

    @asset
    def upstream() -> dict:
        return {"a": 1}

    @asset
    def downstream(upstream: dict) -> dict:
        return upstream

    assert materialize([upstream], resources=resources, instance=instance).success
    api.artifact("upstream:v0").delete(delete_aliases=True)
    with pytest.raises(NotFoundError) as caught:
        materialize(
            [upstream, downstream],
            resources=resources,
            instance=instance,
            selection=[downstream.key],
        )
    message = str(caught.value)
    assert "ent/proj/upstream:v0 is the version Dagster recorded" in message
    assert "Re-materialize upstream" in message
