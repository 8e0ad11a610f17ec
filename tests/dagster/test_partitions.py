"""Partitions of every kind as versions of one collection, found by their alias."""

from __future__ import annotations

import pytest
from dagster import (
    AssetIn,
    BackfillPolicy,
    DagsterInstance,
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    HourlyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
    asset,
    materialize,
)

from dagster_wandb_artifacts.client import InvalidInputError, NotFoundError
from dagster_wandb_artifacts.partitions import partition_alias
from tests.support import sdk_api


def test_aliases_are_safe_distinct_and_bounded():
    keys = [
        "2024-01-01",
        "2024-01-01-13:00",
        "2024-01-01-13_00",
        "a/b",
        "a:b",
        "latest",
        "v3",
        "2024-01-01|red",
        "x" * 300,
    ]
    aliases = [partition_alias(k) for k in keys]
    assert len(set(aliases)) == len(keys)
    assert all(len(a) <= 128 and "/" not in a and ":" not in a for a in aliases)
    assert aliases[0] == "p-2024-01-01" and aliases[5] == "p-latest" and aliases[6] == "p-v3"
    assert aliases[1].startswith("p-2024-01-01-13_00-")


def test_every_partition_kind_round_trips(resources, api, server, tmp_path):
    daily = DailyPartitionsDefinition(start_date="2024-01-01")
    hourly = HourlyPartitionsDefinition(start_date="2024-01-01-00:00")
    dynamic = DynamicPartitionsDefinition(name="runs")
    multi = MultiPartitionsDefinition(
        {"date": daily, "color": StaticPartitionsDefinition(["red", "blue"])}
    )
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("runs", ["latest", "v3", "exp/1"])

    @asset(partitions_def=daily)
    def by_day(context) -> str:
        return f"day {context.partition_key}"

    @asset(partitions_def=hourly)
    def by_hour(context) -> str:
        return f"hour {context.partition_key}"

    @asset(partitions_def=dynamic)
    def by_run(context) -> str:
        return f"run {context.partition_key}"

    @asset(partitions_def=multi)
    def by_both(context) -> str:
        return f"both {context.partition_key}"

    cases = [
        (by_day, "2024-01-02"),
        (by_hour, "2024-01-01-13:00"),
        (by_run, "latest"),
        (by_run, "v3"),
        (by_run, "exp/1"),
        (by_both, MultiPartitionKey({"date": "2024-01-03", "color": "red"})),
    ]
    for assets_def, key in cases:
        result = materialize(
            [assets_def], partition_key=key, resources=resources, instance=instance
        )
        assert result.success
        meta = result.asset_materializations_for_node(assets_def.op.name)[0].metadata
        assert meta["wandb/version"].value.startswith("v")

    sdk = sdk_api(server)
    for assets_def, key in cases:
        name = assets_def.key.path[-1]
        alias = partition_alias(str(key))
        ours = api.artifact(f"{name}:{alias}")
        assert ours.metadata["dagster/partition_key"] == str(key)
        theirs = sdk.artifact(f"ent/proj/{name}:{alias}")
        assert theirs.digest == ours.digest
    # `latest` is the most recently logged partition, not the dynamic key named "latest".
    assert api.artifact("by_run:latest").metadata["dagster/partition_key"] == "exp/1"
    assert api.artifact("by_run:p-latest").metadata["dagster/partition_key"] == "latest"

    @asset(ins={"by_run": AssetIn(key="by_run")})
    def summary(by_run: dict) -> list:
        return sorted(by_run.items())

    result = materialize(
        [by_run, summary], selection=[summary.key], resources=resources, instance=instance
    )
    assert [list(pair) for pair in result.output_for_node("summary")] == [
        ["exp/1", "run exp/1"],
        ["latest", "run latest"],
        ["v3", "run v3"],
    ]


def test_identical_partitions_get_their_own_versions_and_unchanged_ones_none(resources, api):
    colors = StaticPartitionsDefinition(["red", "blue"])

    @asset(partitions_def=colors)
    def same() -> str:
        return "identical bytes"

    instance = DagsterInstance.ephemeral()
    for key in ("red", "blue", "red"):
        assert materialize(
            [same], partition_key=key, resources=resources, instance=instance
        ).success
    red, blue = api.artifact("same:p-red"), api.artifact("same:p-blue")
    assert (red.version, blue.version) == ("v0", "v1")
    assert red.digest == blue.digest
    assert (red.metadata["dagster/partition_key"], blue.metadata["dagster/partition_key"]) == (
        "red",
        "blue",
    )
    assert api.artifact("same:latest").version == "v1"  # the red re-run made no version


def test_downstream_partition_loads_what_dagster_recorded_and_missing_ones_fail(resources, api):
    colors = StaticPartitionsDefinition(["red", "blue", "green"])

    @asset(partitions_def=colors)
    def paint(context) -> str:
        return f"{context.partition_key} paint"

    @asset(partitions_def=colors)
    def wall(paint: str) -> str:
        return f"wall in {paint}"

    @asset
    def gallery(paint: dict) -> int:
        return len(paint)

    @asset(ins={"paint": AssetIn(metadata={"wandb_artifact": {"allow_missing_partitions": True}})})
    def tolerant(paint: dict) -> list:
        return sorted(paint)

    instance = DagsterInstance.ephemeral()
    for key in ("red", "blue"):
        materialize([paint], partition_key=key, resources=resources, instance=instance)
    result = materialize(
        [paint, wall],
        selection=[wall.key],
        partition_key="blue",
        resources=resources,
        instance=instance,
    )
    assert result.output_for_node("wall") == "wall in blue paint"
    with pytest.raises(NotFoundError, match="'green'"):
        materialize(
            [paint, gallery], selection=[gallery.key], resources=resources, instance=instance
        )
    result = materialize(
        [paint, tolerant], selection=[tolerant.key], resources=resources, instance=instance
    )
    assert result.output_for_node("tolerant") == ["blue", "red"]


def test_single_run_backfill_writes_one_version_per_key_or_is_refused(resources, api):
    days = DailyPartitionsDefinition(start_date="2024-02-01", end_date="2024-02-05")
    tags = {
        "dagster/asset_partition_range_start": "2024-02-01",
        "dagster/asset_partition_range_end": "2024-02-03",
    }

    @asset(partitions_def=days, backfill_policy=BackfillPolicy.single_run())
    def ranged(context) -> dict:
        return {key: f"data for {key}" for key in context.partition_keys}

    result = materialize([ranged], tags=tags, resources=resources)
    assert result.success
    for key in ("2024-02-01", "2024-02-02", "2024-02-03"):
        assert api.artifact(f"ranged:p-{key}").metadata["dagster/partition_key"] == key

    @asset(name="ranged", partitions_def=days, backfill_policy=BackfillPolicy.single_run())
    def not_a_dict(context) -> str:
        return "one value for three partitions"

    with pytest.raises(InvalidInputError, match="dict keyed by partition key"):
        materialize([not_a_dict], tags=tags, resources=resources)
