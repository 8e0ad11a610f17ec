"""Serializers chosen by type or config, and the rules for unpickling."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from dagster import AssetIn, AssetSpec, DagsterInstance, asset, materialize
from upath import UPath

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource
from dagster_wandb_artifacts.client import Artifact, InvalidInputError
from dagster_wandb_artifacts.serializers import SerializationError
from tests.support import sdk_api


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


def test_values_round_trip_through_their_serializers(resources, api):
    @asset
    def array() -> np.ndarray:
        return np.arange(6).reshape(2, 3)

    @asset
    def blob() -> bytes:
        return b"\x00raw"

    @asset
    def text() -> str:
        return "héllo"

    @asset
    def point() -> Point:
        return Point(7)

    @asset(metadata={"wandb_artifact": {"serializer": "pickle"}})
    def forced() -> dict:
        return {"a": 1}

    @asset
    def check(array: np.ndarray, blob: bytes, text: str, point: Point, forced: dict) -> str:
        assert array.tolist() == [[0, 1, 2], [3, 4, 5]]
        assert (blob, text, point.x, forced) == (b"\x00raw", "héllo", 7, {"a": 1})
        return "ok"

    result = materialize([array, blob, text, point, forced, check], resources=resources)
    assert result.success and result.output_for_node("check") == "ok"
    kinds = {
        name: api.artifact(f"{name}:latest").metadata["dagster/serializer"]
        for name in ("array", "blob", "text", "point", "forced")
    }
    assert kinds == {
        "array": "numpy",
        "blob": "bytes",
        "text": "text",
        "point": "pickle",
        "forced": "pickle",
    }


def test_wrong_serializer_and_unserializable_values_are_clear_errors(resources):
    @asset(metadata={"wandb_artifact": {"serializer": "numpy"}})
    def not_an_array() -> str:
        return "text"

    with pytest.raises(SerializationError, match="cannot write a str"):
        materialize([not_an_array], resources=resources)

    @asset(metadata={"wandb_artifact": {"serializer": "nope"}})
    def unknown() -> str:
        return "text"

    with pytest.raises(InvalidInputError, match="unknown serializer 'nope'"):
        materialize([unknown], resources=resources)


def test_foreign_pickles_need_an_opt_in(resources, api, tmp_path):
    # The layout dagster-wandb wrote: a pickle named output.pickle, no serializer metadata.
    legacy = Artifact("legacy", "dataset")
    (tmp_path / "output.pickle").write_bytes(pickle.dumps({"migrated": True}))
    legacy.add_file(tmp_path / "output.pickle")
    run = api.create_run()
    run.log_artifact(legacy)
    run.finish()
    spec = AssetSpec("legacy")

    @asset(ins={"legacy": AssetIn(key="legacy")})
    def refused(legacy: dict) -> int:
        return 1

    with pytest.raises(SerializationError, match="allow_pickle"):
        materialize([spec, refused], resources=resources, selection=[refused.key])

    @asset(
        ins={"legacy": AssetIn(key="legacy", metadata={"wandb_artifact": {"allow_pickle": True}})}
    )
    def allowed(legacy: dict) -> bool:
        return legacy["migrated"]

    result = materialize([spec, allowed], resources=resources, selection=[allowed.key])
    assert result.output_for_node("allowed") is True


def test_branch_deployments_do_not_move_protected_aliases(resources, api, monkeypatch):
    monkeypatch.setenv("DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT", "1")

    @asset(metadata={"wandb_artifact": {"aliases": ["production", "candidate"]}})
    def guarded() -> int:
        return 1

    assert materialize([guarded], resources=resources).success
    assert set(api.artifact("guarded:latest").aliases) == {"latest", "candidate"}


def test_code_version_description_and_run_config(resources, api):
    @asset(code_version="7", description="documented asset")
    def versioned() -> int:
        return 1

    result = materialize([versioned], resources=resources)
    logged = api.artifact("versioned:latest")
    assert logged.metadata["dagster/code_version"] == "7"
    assert logged.metadata["dagster/run_id"] == result.run_id
    assert logged.description == "documented asset"
    config = logged.logged_by().config
    assert config["dagster_run_url"].endswith(f"/runs/{result.run_id}")


def test_registry_link_from_asset_config(resources, api, monkeypatch):
    @asset(
        metadata={
            "wandb_artifact": {
                "type": "model",
                "link": "wandb-registry-model/clf",
                "link_aliases": ["production"],
            }
        }
    )
    def classifier() -> dict:
        return {"weights": [1, 2]}

    result = materialize([classifier], resources=resources)
    meta = result.asset_materializations_for_node("classifier")[0].metadata
    assert meta["wandb/link"].value == "wandb-registry-model/clf:v0"
    assert (
        api.artifact("ent/wandb-registry-model/clf:production").digest == meta["wandb/digest"].value
    )
    monkeypatch.setenv("DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT", "1")

    @asset(
        name="classifier",
        metadata={"wandb_artifact": {"type": "model", "link": "wandb-registry-model/clf"}},
    )
    def changed() -> dict:
        return {"weights": [3]}

    result = materialize([changed], resources=resources)
    assert "wandb/link" not in result.asset_materializations_for_node("classifier")[0].metadata
    assert api.artifact("ent/wandb-registry-model/clf:latest").version == "v0"


def test_lazy_upath_inputs_and_reference_outputs(resources, api, server, s3_options, tmp_path):
    import s3fs

    options = {"s3": s3_options["options"]}
    bucket = s3_options["bucket"]
    s3fs.S3FileSystem(**s3_options["options"], skip_instance_cache=True).pipe(
        {f"{bucket}/lake/part-0.csv": b"x\n1\n", f"{bucket}/lake/part-1.csv": b"x\n2\n"}
    )

    @asset
    def table() -> pd.DataFrame:
        return pd.DataFrame({"x": list(range(1000))})

    @asset
    def lake() -> Artifact:
        draft = Artifact("lake", "dataset")
        draft.add_reference(f"s3://{bucket}/lake", storage_options=options)
        return draft

    @asset
    def reader(table: UPath, lake: UPath) -> list:
        with (table / "data.parquet").open("rb") as file:
            frame = pd.read_parquet(file)
        parts = sorted(p.name for p in lake.iterdir())
        return [int(frame["x"].sum()), parts, (lake / "part-1.csv").read_text()]

    resource = WandbArtifactsResource(
        host=server.base_url,
        api_key=server.api_key,
        entity="ent",
        project="proj",
        storage_options=options,
    )
    resources = {"io_manager": WandbArtifactsIOManager(wandb=resource)}
    materialize([table, lake], resources=resources)
    gets = server.requests["GET object"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = materialize([table, lake, reader], selection=[reader.key], resources=resources)
    # UPath knows the protocol (our registered subclass): no "not explicitly implemented".
    assert not [w for w in caught if "upath" in w.filename], [str(w.message) for w in caught]
    assert type(UPath("e/p/n:v0", protocol="wandb-artifact")).__name__ == "WandbArtifactPath"
    assert result.output_for_node("reader") == [499500, ["part-0.csv", "part-1.csv"], "x\n2\n"]
    assert server.requests["GET object"] - gets <= 3  # one parquet file, read in ranges
    assert api.artifact("lake:latest").manifest.get("part-0.csv").ref.startswith("s3://")


def test_values_that_cannot_be_stored_are_a_typed_error_and_log_nothing(resources, api):
    import threading

    @asset
    def holder() -> dict:
        return {"lock": threading.Lock()}  # a lock pickles nowhere, not even with cloudpickle

    with pytest.raises(SerializationError, match="cannot be pickled"):
        materialize([holder], resources=resources)
    assert not api.artifact_exists("holder:latest")


class _Marker:
    """A pickle whose loading creates a file: proof that attacker code ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_metadata_does_not_make_a_foreign_pickle_trusted(resources, api, tmp_path):
    marker = tmp_path / "pwned"
    folder = tmp_path / "payload"
    folder.mkdir()
    (folder / "value.pickle").write_bytes(pickle.dumps(_Marker(str(marker))))
    spoofed = Artifact("spoofed", "dataset")
    spoofed.add_dir(folder)
    spoofed.metadata = {"dagster/serializer": "pickle", "dagster/asset_key": "spoofed"}
    run = api.create_run()
    run.log_artifact(spoofed, aliases=["prod"])
    run.finish()
    spec = AssetSpec("spoofed")

    @asset(ins={"spoofed": AssetIn(key="spoofed")})
    def external(spoofed: object) -> int:
        return 1

    with pytest.raises(SerializationError, match="allow_pickle"):
        materialize([spec, external], resources=resources, selection=[external.key])
    assert not marker.exists()

    # Dagster's record makes its own version trusted (from the event log, in a later run);
    # the same collection pinned by alias is not that record.
    instance = DagsterInstance.ephemeral()

    @asset(name="spoofed")
    def recorded() -> Point:
        return Point(1)

    @asset(ins={"spoofed": AssetIn(key="spoofed")})
    def reader(spoofed: Point) -> int:
        return spoofed.x

    @asset(ins={"spoofed": AssetIn(key="spoofed", metadata={"wandb_artifact": {"alias": "prod"}})})
    def pinned(spoofed: object) -> int:
        return 1

    assert materialize([recorded], resources=resources, instance=instance).success
    later = materialize(
        [recorded, reader], resources=resources, instance=instance, selection=[reader.key]
    )
    assert later.output_for_node("reader") == 1
    with pytest.raises(SerializationError, match="allow_pickle"):
        materialize(
            [recorded, pinned], resources=resources, instance=instance, selection=[pinned.key]
        )
    assert not marker.exists()


def test_wandb_table_serializer_is_opt_in_and_read_by_the_sdk(resources, api, server):
    frame = pd.DataFrame({"id": [1, 2], "label": ["cat", None]})

    @asset(metadata={"wandb_artifact": {"serializer": "wandb-table"}})
    def labels() -> pd.DataFrame:
        return frame

    @asset
    def plain() -> pd.DataFrame:
        return frame

    @asset
    def check(labels: pd.DataFrame) -> list:
        return labels.astype(object).where(labels.notna(), None).values.tolist()

    result = materialize([labels, plain, check], resources=resources)
    assert result.success and result.output_for_node("check") == [[1, "cat"], [2, None]]
    logged = api.artifact("labels:latest")
    assert logged.metadata["dagster/serializer"] == "wandb-table"
    assert sorted(logged.manifest.entries) == ["table.table.json"]
    assert api.artifact("plain:latest").metadata["dagster/serializer"] == "pandas-parquet"
    table = sdk_api(server).artifact("ent/proj/labels:latest").get("table")
    assert table.columns == ["id", "label"] and table.data == [[1, "cat"], [2, None]]
