"""Backfill a daily-partitioned asset over 365 partitions through Dagster's backfill machinery,
on our IO manager (one collection) and on ``FilesystemIOManager``, in one run.

    python -m bench.backfill [--days 365]

Each backfill is added to a Dagster instance (SQLite, in a temp folder) as a
``PartitionBackfill`` and carried out by the backfill daemon's own iteration
(``execute_backfill_iteration``), run here in-process against a workspace whose code server
serves ``bench/backfill_defs.py``; its runs go through the run coordinator to a run launcher
that executes each run in this process (one run per partition). The server runs in its own
process. Printed: seconds per partition (wall time of the backfill over its partitions, and
the median run), the ratio, this process's and the server's resident memory at a quarter,
half and the end of our backfill and their peaks; then partition p is loaded back by its key.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from dagster import AssetKey, DagsterInstance

BENCH = Path(__file__).resolve().parent
DEFINITIONS = BENCH / "backfill_defs.py"
#: Seconds a backfill may take before the bench gives up on it.
BACKFILL_TIMEOUT = 3600.0


def rss_mib(pid: int | str = "self", field_name: str = "VmRSS") -> float:
    """A process's resident set (VmRSS) or its peak (VmHWM), from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field_name} in /proc/{pid}/status")


#: Instance settings under which the runs a backfill submits execute in the submitting process.
RUNS_IN_PROCESS = {
    "run_coordinator": {
        "module": "dagster._core.run_coordinator",
        "class": "DefaultRunCoordinator",
    },
    "run_launcher": {
        "module": "dagster._core.launcher.sync_in_memory_run_launcher",
        "class": "SyncInMemoryRunLauncher",
    },
}


def backfill_instance(home: Path) -> DagsterInstance:
    """An instance whose runs execute in this process as the backfill submits them."""
    config = {**RUNS_IN_PROCESS, "telemetry": {"enabled": False}}
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return DagsterInstance.from_config(str(home))


@contextmanager
def workspace(instance: DagsterInstance, python_file: Path = DEFINITIONS) -> Iterator[object]:
    """The daemons' view of the code: a code server for ``python_file``."""
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import PythonFileTarget

    target = PythonFileTarget(
        python_file=str(python_file),
        attribute=None,
        working_directory=str(BENCH.parent),
        location_name=python_file.stem,
    )
    with create_test_daemon_workspace_context(target, instance) as context:
        yield context


class MemorySampler:
    """This process's and the server's RSS every ``interval`` seconds, in a thread."""

    def __init__(self, server_pid: int, interval: float = 0.5) -> None:
        self.samples: list[tuple[float, float]] = []
        self._server_pid = server_pid
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.samples.append((rss_mib(), rss_mib(self._server_pid)))

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def at(self, fraction: float) -> tuple[float, float]:
        """The sample taken at ``fraction`` of the sampled time."""
        return self.samples[min(len(self.samples) - 1, int(fraction * len(self.samples)))]


@dataclass
class Backfilled:
    seconds: float
    run_seconds: list[float]

    @property
    def per_partition(self) -> float:
        return self.seconds / len(self.run_seconds)

    @property
    def median_run(self) -> float:
        return statistics.median(self.run_seconds)


def run_backfill(
    context,
    asset_key: AssetKey,
    partition_keys: list[str],
) -> Backfilled:
    """Add a backfill of ``partition_keys`` of ``asset_key`` to the instance and run the
    backfill daemon's iterations until it is done (bounded)."""
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
    from dagster._core.storage.dagster_run import RunsFilter
    from dagster._core.utils import make_new_backfill_id
    from dagster._daemon.backfill import execute_backfill_iteration

    instance = context.instance
    asset_graph = context.create_request_context().asset_graph
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=asset_graph,
        partition_names=partition_keys,
        asset_selection=[asset_key],
        backfill_timestamp=time.time(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=None,
        description=None,
        run_config=None,
    )
    logger = logging.getLogger("bench.backfill")
    started = time.perf_counter()
    instance.add_backfill(backfill)
    runs_filter = RunsFilter.for_backfill(backfill.backfill_id)
    deadline = time.monotonic() + BACKFILL_TIMEOUT
    while instance.get_backfill(backfill.backfill_id).status == BulkActionStatus.REQUESTED:
        if time.monotonic() > deadline:
            raise TimeoutError(f"backfill {backfill.backfill_id} still running")
        for error in execute_backfill_iteration(context, logger):
            if error is not None:
                raise RuntimeError(error.to_string())
    seconds = time.perf_counter() - started
    status = instance.get_backfill(backfill.backfill_id).status
    if status != BulkActionStatus.COMPLETED_SUCCESS:
        raise RuntimeError(f"backfill ended {status}")
    records = instance.get_run_records(runs_filter)
    run_seconds = [record.end_time - record.start_time for record in records]
    if len(run_seconds) != len(partition_keys):
        raise RuntimeError(f"{len(run_seconds)} runs for {len(partition_keys)} partitions")
    return Backfilled(seconds, run_seconds)


def load_partition(base_url: str, api_key: str, partition_key: str):
    """Partition ``partition_key`` of the collection, loaded back by its key."""
    from dagster_wandb_artifacts import partitions, serializers
    from dagster_wandb_artifacts.client import Api

    from .backfill_defs import COLLECTION

    api = Api({"base_url": base_url, "entity": "bench", "project": "backfill"}, api_key=api_key)
    artifact = api.artifact(f"{COLLECTION}:{partitions.partition_alias(partition_key)}")
    assert artifact.metadata[partitions.KEY_METADATA] == partition_key
    return serializers.Serializers().read(
        Path(artifact.download()), artifact.metadata, allow_pickle=False
    )


def main() -> None:
    import numpy as np

    from .harness import report, server_process

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    os.environ["BACKFILL_DAYS"] = str(args.days)
    from .backfill_defs import days, readings

    keys = days.get_partition_keys()
    with (
        tempfile.TemporaryDirectory(prefix="backfill-bench-") as tmp,
        server_process(Path(tmp) / "server") as server,
    ):
        work = Path(tmp)
        os.environ.update(
            WANDB_BASE_URL=server.base_url,
            WANDB_API_KEY=server.api_key,
            BACKFILL_FS_DIR=str(work / "fs"),
            WANDB_CACHE_DIR=str(work / "cache"),
            WANDB_SILENT="true",
        )
        instance = backfill_instance(work / "dagster-home")

        with instance, workspace(instance) as context:
            # Ours first, its figures printed as soon as it is done (the whole takes long).
            with MemorySampler(server.process.pid) as memory:
                ours = run_backfill(context, AssetKey("daily_wandb"), keys)
            client_peak, server_peak = rss_mib(field_name="VmHWM"), server.peak_rss_mib()
            probe = keys[len(keys) // 2]
            loaded = load_partition(server.base_url, server.api_key, probe)
            assert np.array_equal(loaded, readings(probe))
            print(f"{len(keys)} partitions, one run each; partition {probe} loaded back by key")
            memory_rows = [
                [f"after {int(fraction * 100)}% of its time", *memory.at(fraction)]
                for fraction in (0.25, 0.5, 1.0)
            ]
            memory_rows.append(["peak", client_peak, server_peak])
            report(["our backfill", "client RSS MiB", "server RSS MiB"], memory_rows)
            report(
                ["io manager", "s / partition", "median run s"],
                [["WandbArtifactsIOManager", ours.per_partition, ours.median_run]],
            )
            filesystem = run_backfill(context, AssetKey("daily_fs"), keys)
    ratio = ours.per_partition / filesystem.per_partition
    rows: list[list[object]] = [
        ["FilesystemIOManager", filesystem.per_partition, None, filesystem.median_run, None],
        ["WandbArtifactsIOManager", ours.per_partition, ratio, ours.median_run, "<= 1.5"],
    ]
    report(
        ["io manager", "s / partition", "/ FilesystemIOManager", "median run s", "target"],
        rows,
        summary=["/ FilesystemIOManager"],
    )


if __name__ == "__main__":
    main()
