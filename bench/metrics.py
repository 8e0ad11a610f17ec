"""Metrics: our ``run.log`` against the SDK's ``wandb.log``, on one server process, in one
benchmark run; and the time W&B asset checks add to a materialization.

    python bench/metrics.py [--rows 10000] [--metrics 10] [--repeat 3]

Logging is timed as the user sees it: the ``log`` calls alone (rows a second), and the calls
plus ``finish`` (until the server holds every row: the SDK's ``finish`` waits for its file
stream too). Both histories are read back to check that every row arrived. The check
overhead is the median time of ``materialize([asset])`` against ``materialize([asset,
*build_wandb_artifact_checks([asset])])`` (four checks), each on a fresh Dagster instance.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import wandb
from dagster import DagsterInstance, asset, materialize
from harness import ServerProcess, report, sdk_settings, server_process

from dagster_wandb_artifacts import (
    WandbArtifactsIOManager,
    WandbArtifactsResource,
    build_wandb_artifact_checks,
)
from dagster_wandb_artifacts.client import Api

WANDB_DIRS = ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR")
#: Seconds of the log calls alone, and of the calls plus ``finish``.
Timing = tuple[float, float]


def rows(count: int, metrics: int) -> list[dict[str, float]]:
    return [{f"m{k}": step * 0.001 + k for k in range(metrics)} for step in range(count)]


def bench_api(server: ServerProcess) -> Api:
    return Api(
        {"base_url": server.base_url, "entity": "bench", "project": "bench"},
        api_key=server.api_key,
    )


def log_and_finish(run: Any, data: list[dict[str, float]]) -> Timing:
    started = time.perf_counter()
    for row in data:
        run.log(row)
    logged = time.perf_counter() - started
    run.finish()
    return logged, time.perf_counter() - started


def log_ours(server: ServerProcess, data: list[dict[str, float]], run_id: str) -> Timing:
    return log_and_finish(bench_api(server).create_run(run_id=run_id), data)


def log_sdk(server: ServerProcess, data: list[dict[str, float]], run_id: str) -> Timing:
    settings = sdk_settings(server)
    return log_and_finish(
        wandb.init(entity="bench", project="bench", id=run_id, settings=settings), data
    )


def stored_rows(server: ServerProcess, run_id: str) -> int:
    run = bench_api(server).run(f"bench/bench/{run_id}")
    return sum(1 for _ in run.scan_history(page_size=5000))


@asset
def bench_table() -> pd.DataFrame:
    return pd.DataFrame({"user": [f"u{i}" for i in range(1000)], "score": range(1000)})


def check_overhead(server: ServerProcess, repeat: int) -> tuple[float, float]:
    wandb_resource = WandbArtifactsResource(
        host=server.base_url, api_key=server.api_key, entity="bench", project="bench"
    )
    io_manager = WandbArtifactsIOManager(wandb=wandb_resource)
    resources = {"io_manager": io_manager, "wandb": wandb_resource}
    checks = build_wandb_artifact_checks([bench_table])

    def once(with_checks: bool) -> float:
        started = time.perf_counter()
        result = materialize(
            [bench_table, *(checks if with_checks else [])],
            resources=resources,
            instance=DagsterInstance.ephemeral(),
        )
        assert result.success
        return time.perf_counter() - started

    once(False)  # imports and the first connection
    plain = statistics.median(once(False) for _ in range(repeat))
    checked = statistics.median(once(True) for _ in range(repeat))
    return plain, checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = rows(args.rows, args.metrics)
    with tempfile.TemporaryDirectory() as scratch:
        for variable in WANDB_DIRS:
            folder = Path(scratch) / variable.lower()
            folder.mkdir()
            os.environ[variable] = str(folder)
        os.environ["WANDB_SILENT"] = "true"
        with server_process(Path(scratch) / "server") as server:
            ours, sdk = [], []
            for index in range(args.repeat):
                ours.append(log_ours(server, data, f"ours-{index}"))
                sdk.append(log_sdk(server, data, f"sdk-{index}"))
            for index in range(args.repeat):
                assert stored_rows(server, f"ours-{index}") == args.rows
                assert stored_rows(server, f"sdk-{index}") == args.rows
            plain, checked = check_overhead(server, args.repeat)
    median = {
        name: statistics.median(found)
        for name, found in {
            "ours_log": [t for t, _ in ours],
            "ours_total": [t for _, t in ours],
            "sdk_log": [t for t, _ in sdk],
            "sdk_total": [t for _, t in sdk],
        }.items()
    }
    print(f"{args.rows} rows x {args.metrics} metrics, median of {args.repeat}")
    ours_rate = args.rows / median["ours_total"]
    sdk_rate = args.rows / median["sdk_total"]
    report(
        ["client", "log calls, rows/s", "log + finish, rows/s", "ours / SDK", "target"],
        [
            ["ours run.log", args.rows / median["ours_log"], ours_rate, ours_rate / sdk_rate, 1.0],
            ["SDK wandb.log", args.rows / median["sdk_log"], sdk_rate, None, None],
        ],
    )
    report(
        ["materialize a DataFrame asset", "seconds"],
        [["alone", plain], ["with the 4 W&B checks", checked], ["checks add", checked - plain]],
    )


if __name__ == "__main__":
    main()
