"""Definitions for runs in other processes (the multiprocess executor reconstructs them).

The embedded server's root comes from ``WANDB_ARTIFACTS_TEST_ROOT``: every step process
starts its own embedded server on that shared root.
"""

from __future__ import annotations

from dagster import Definitions, EnvVar, asset, define_asset_job, multiprocess_executor

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

WIDTH = 6


def _resource() -> WandbArtifactsResource:
    return WandbArtifactsResource(
        host="local", local_root=EnvVar("WANDB_ARTIFACTS_TEST_ROOT"), project="multi"
    )


def _leaf(index: int):
    @asset(name=f"leaf_{index}")
    def leaf() -> list[int]:
        return [index] * 100

    return leaf


leaves = [_leaf(i) for i in range(WIDTH)]


@asset(deps=[leaf.key for leaf in leaves])
def total() -> dict:
    return {"ready": True}


@asset
def combined(leaf_0: list[int], leaf_1: list[int], leaf_2: list[int]) -> int:
    return sum(leaf_0) + sum(leaf_1) + sum(leaf_2)


@asset
def broken(leaf_3: list[int]) -> int:
    raise RuntimeError("this step fails on purpose")


defs = Definitions(
    assets=[*leaves, total, combined, broken],
    resources={"io_manager": WandbArtifactsIOManager(wandb=_resource())},
    jobs=[
        define_asset_job(
            "everything", executor_def=multiprocess_executor.configured({"max_concurrent": 4})
        )
    ],
)


def everything():
    return defs.resolve_job_def("everything")
