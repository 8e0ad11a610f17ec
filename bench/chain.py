"""The chain of 10 small assets that the Dagster benchmarks materialize.

It imports only ``dagster``, so the dagster-wandb virtualenv (without our package) runs the
very same definitions.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from dagster import AssetIn, AssetKey, AssetsDefinition, DagsterInstance, asset, materialize

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


def timed_materialize(resources: dict[str, object]) -> float:
    """Seconds to materialize the chain once, on a fresh ephemeral instance."""
    started = time.perf_counter()
    result = materialize(chain(), resources=resources, instance=DagsterInstance.ephemeral())
    assert result.success
    return time.perf_counter() - started


def median_materialize(resources: Callable[[int], dict[str, object]], repeat: int) -> float:
    """The median of ``repeat`` materializations, the i-th with ``resources(i)``."""
    return interleaved_medians({"only": resources}, repeat)["only"]


def interleaved_medians(
    contenders: dict[str, Callable[[int], dict[str, object]]], repeat: int
) -> dict[str, float]:
    """The median time of each contender over ``repeat`` rounds, each round materializing
    once per contender in turn, so drift in the machine's speed (other load, caches) falls on
    all of them alike rather than on whichever ran its rounds during it."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for index in range(repeat):
        for name, resources in contenders.items():
            times[name].append(timed_materialize(resources(index)))
    return {name: statistics.median(samples) for name, samples in times.items()}
