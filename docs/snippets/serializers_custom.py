"""A serializer of your own: a Fraction stored as text, round-tripped through W&B."""

import os
from fractions import Fraction
from pathlib import Path

from dagster import asset, materialize

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource
from dagster_wandb_artifacts.serializers import Serializer


class FractionSerializer(Serializer):
    name = "fraction"  # recorded as dagster/serializer: keep it stable
    file_name = "value.fraction"  # the file inside the artifact
    types = (Fraction,)  # or "package.Class" names, matched without importing

    def write(self, value: Fraction, path: Path) -> None:
        path.write_text(str(value))

    def read(self, path: Path) -> Fraction:
        return Fraction(path.read_text())

    def metadata(self, value: Fraction) -> dict:
        return {"fraction/float": float(value)}  # shown on the materialization


@asset
def ratio() -> Fraction:
    return Fraction(3, 4)


@asset
def doubled(ratio: Fraction) -> Fraction:
    return 2 * ratio


resource = WandbArtifactsResource(
    host=os.environ["WANDB_BASE_URL"],
    api_key=os.environ["WANDB_API_KEY"],
    entity=os.environ.get("WANDB_ENTITY", "ent"),
    project=os.environ.get("WANDB_PROJECT", "proj"),
)
io_manager = WandbArtifactsIOManager(wandb=resource, serializers=[FractionSerializer()])

if __name__ == "__main__":
    result = materialize([ratio, doubled], resources={"io_manager": io_manager})
    assert result.output_for_node("doubled") == Fraction(3, 2)
    meta = result.asset_materializations_for_node("ratio")[0].metadata
    assert meta["fraction/float"].value == 0.75
    logged = resource.get_api().artifact("ratio:latest")
    assert logged.metadata["dagster/serializer"] == "fraction"
    print("doubled:", result.output_for_node("doubled"))
