"""A chain of 10 small assets: our IO manager against Dagster's FilesystemIOManager.

    python bench/dagster_chain.py

Both materialize the same chain in-process, each with its own fresh instance, in this run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from dagster import (
    AssetIn,
    AssetKey,
    AssetsDefinition,
    DagsterInstance,
    FilesystemIOManager,
    asset,
    materialize,
)

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource
from dagster_wandb_artifacts.server import LocalServer

LENGTH = 10


def _step(index: int, upstream_key: AssetKey) -> AssetsDefinition:
    @asset(name=f"step_{index}", ins={"upstream": AssetIn(key=upstream_key)})
    def step(upstream: list[int]) -> list[int]:
        return [value + 1 for value in upstream]

    return step


def chain() -> list[AssetsDefinition]:
    @asset(name="step_0")
    def first() -> list[int]:
        return list(range(1000))

    assets = [first]
    for index in range(1, LENGTH):
        assets.append(_step(index, assets[-1].key))
    return assets


def timed_materialize(io_manager: object) -> float:
    started = time.perf_counter()
    result = materialize(
        chain(), resources={"io_manager": io_manager}, instance=DagsterInstance.ephemeral()
    )
    assert result.success
    return time.perf_counter() - started


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="chain-bench-") as tmp,
        LocalServer(Path(tmp) / "server") as server,
    ):
        filesystem = timed_materialize(FilesystemIOManager(base_dir=str(Path(tmp) / "fs")))
        wandb = WandbArtifactsResource(
            host=server.base_url, api_key=server.api_key, entity="bench", project="chain"
        )
        ours = timed_materialize(WandbArtifactsIOManager(wandb=wandb))
        again = timed_materialize(WandbArtifactsIOManager(wandb=wandb))
    print(f"{'io manager':<34}{'seconds':>9}{'ratio':>8}")
    print(f"{'FilesystemIOManager':<34}{filesystem:>9.2f}{1.0:>8.2f}")
    print(f"{'WandbArtifactsIOManager':<34}{ours:>9.2f}{ours / filesystem:>8.2f}")
    print(f"{'WandbArtifactsIOManager, unchanged':<34}{again:>9.2f}{again / filesystem:>8.2f}")


if __name__ == "__main__":
    main()
