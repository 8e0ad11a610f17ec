"""A PyTorch ``state_dict`` serializer written against the interface (an example: torch is
not a dependency of dagster-wandb-artifacts). Runs its round trip when torch is installed."""

import os
from pathlib import Path
from typing import Any

from dagster_wandb_artifacts.serializers import Serializer


class TorchStateDict(Serializer):
    """A module's weights (``model.state_dict()``), saved with ``torch.save``."""

    name = "torch-state-dict"
    file_name = "state_dict.pt"
    types = ()  # a state_dict is a plain dict: chosen by name, never by type
    automatic = False

    def handles(self, value: Any) -> bool:
        return isinstance(value, dict) and all(
            type(tensor).__name__ == "Tensor" for tensor in value.values()
        )

    def write(self, value: dict, path: Path) -> None:
        import torch

        torch.save(value, path)

    def read(self, path: Path) -> dict:
        import torch

        # weights_only: loading runs no code from the file, so it stays trusted
        return torch.load(path, weights_only=True)

    def metadata(self, value: dict) -> dict:
        return {"torch/parameters": sum(t.numel() for t in value.values())}


if __name__ == "__main__":
    try:
        import torch
    except ImportError:
        print("torch is not installed: TorchStateDict is defined, not run")
        raise SystemExit(0) from None
    from dagster import asset, materialize

    from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

    @asset(metadata={"wandb_artifact": {"type": "model", "serializer": "torch-state-dict"}})
    def weights() -> dict:
        return torch.nn.Linear(4, 2).state_dict()

    @asset
    def size(weights: dict) -> int:
        return weights["weight"].shape[0]

    resource = WandbArtifactsResource(
        host=os.environ["WANDB_BASE_URL"], api_key=os.environ["WANDB_API_KEY"],
        entity="ent", project="proj",
    )
    io_manager = WandbArtifactsIOManager(wandb=resource, serializers=[TorchStateDict()])
    assert materialize([weights, size], resources={"io_manager": io_manager}).success
