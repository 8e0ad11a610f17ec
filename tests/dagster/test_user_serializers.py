"""A serializer of the user's own, through the public interface: round trip, precedence over
the built-ins, the metadata it adds, its trust flag, and one chosen by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetIn, DagsterInstance, asset, materialize

from dagster_wandb_artifacts import WandbArtifactsIOManager
from dagster_wandb_artifacts.serializers import SerializationError, Serializer


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


class MoneySerializer(Serializer):
    name = "money"
    file_name = "money.json"
    types = (Money,)

    def write(self, value: Money, path: Path) -> None:
        path.write_text(json.dumps({"cents": value.cents}))

    def read(self, path: Path) -> Money:
        return Money(json.loads(path.read_text())["cents"])

    def metadata(self, value: Money) -> dict[str, Any]:
        return {"money/cents": value.cents}


class ShoutingText(Serializer):
    """Takes ``str`` before the built-in ``text`` serializer does; by its name only."""

    name = "shouting"
    file_name = "shout.txt"
    types = ("builtins.str",)
    trusted = False

    def write(self, value: str, path: Path) -> None:
        path.write_text(value.upper())

    def read(self, path: Path) -> str:
        return path.read_text()


def test_a_user_serializer_round_trips_and_comes_before_the_builtins(resource, api):
    io_manager = WandbArtifactsIOManager(
        wandb=resource, serializers=[MoneySerializer(), ShoutingText()]
    )
    resources = {"io_manager": io_manager}
    instance = DagsterInstance.ephemeral()

    @asset
    def price() -> Money:
        return Money(1250)

    @asset
    def greeting() -> str:
        return "hello"

    @asset
    def total(price: Money, greeting: str) -> list:
        return [price.cents, greeting]

    result = materialize([price, greeting, total], resources=resources, instance=instance)
    assert result.output_for_node("total") == [1250, "HELLO"]
    assert result.asset_materializations_for_node("price")[0].metadata["money/cents"].value == 1250
    logged = api.artifact("price:latest")
    assert logged.metadata["dagster/serializer"] == "money"
    assert sorted(logged.manifest.entries) == ["money.json"]
    assert sorted(api.artifact("greeting:latest").manifest.entries) == ["shout.txt"]

    # A serializer that is not trusted reads only the version Dagster recorded.
    @asset(ins={"greeting": AssetIn(metadata={"wandb_artifact": {"alias": "v0"}})})
    def pinned(greeting: str) -> str:
        return greeting

    with pytest.raises(SerializationError, match="allow_pickle"):
        materialize([greeting, pinned], resources=resources, selection=[pinned.key])


def test_a_user_serializer_chosen_by_name_and_one_that_is_not_a_serializer(resource):
    @asset(metadata={"wandb_artifact": {"serializer": "money"}})
    def wrong() -> str:
        return "not money"

    io_manager = WandbArtifactsIOManager(wandb=resource, serializers=[MoneySerializer()])
    resources = {"io_manager": io_manager}
    with pytest.raises(SerializationError, match="serializer 'money' cannot write a str"):
        materialize([wrong], resources=resources)
    with pytest.raises(SerializationError, match="is not a Serializer"):
        WandbArtifactsIOManager(wandb=resource, serializers=[object()])
