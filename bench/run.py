"""Our client and IO manager against the hardware floor, measured side by side in one run.

    python bench/run.py [--big-mib 1024] [--small-files 10000]

The floor is ``hashlib.file_digest(f, "md5")`` plus ``shutil.copyfile`` of the same bytes:
what any log-then-load must at least do. For one big file and for many small files (1-64 KiB)
it times a log, a cold load (empty cache), a warm load (cache hit) and an unchanged re-log, and
counts the bytes that re-log uploads. Then it re-materializes an unchanged big numpy asset
through the IO manager, against ``np.save`` plus the md5 of the saved file. The server runs in
a process of its own (``harness.server_process``); memory is touched first (``--touch-gib``,
see ``harness.touch_memory``). Not part of the test run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from dagster import DagsterInstance, asset, materialize
from harness import ServerProcess, report, server_process, timed, touch_memory
from requests.adapters import HTTPAdapter
from requests.utils import super_len

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource
from dagster_wandb_artifacts.client import Api, Artifact, ArtifactCache

HEADERS = [
    "case",
    "floor s",
    "log s",
    "cold load s",
    "warm load s",
    "(log + cold load) / floor",
    "log ms/file",
    "cold load ms/file",
    "warm / cold",
    "re-log / floor",
    "re-log bytes",
]
# The benchmark issue's targets, by the kind of row they apply to.
BIG_TARGETS = {"(log + cold load) / floor": "<= 1.5", "warm / cold": "<= 0.05", "re-log bytes": "0"}
SMALL_TARGETS = {"log ms/file": "<= 2", "cold load ms/file": "<= 2", "warm / cold": "<= 0.05"}
ASSET_TARGETS = {"re-log / floor": "<= 1.2", "re-log bytes": "0"}


class UploadCounter:
    """Bytes of every PUT body this process sends through ``requests``."""

    def __init__(self) -> None:
        self.bytes = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.bytes += count


@contextmanager
def counting_uploads() -> Iterator[UploadCounter]:
    """Count PUT bodies at the adapter, below every client in this process (ours and the
    IO manager's), so "0 bytes uploaded" is measured, not inferred."""
    counter = UploadCounter()
    send = HTTPAdapter.send

    def counted(adapter: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method == "PUT" and request.body is not None:
            counter.add(super_len(request.body))
        return send(adapter, request, *args, **kwargs)

    HTTPAdapter.send = counted  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        HTTPAdapter.send = send  # type: ignore[method-assign]


def floor(files: list[Path], scratch: Path) -> float:
    """md5 of every file plus a copy of its bytes."""
    scratch.mkdir(parents=True, exist_ok=True)

    def run() -> None:
        for index, path in enumerate(files):
            with open(path, "rb") as file:
                hashlib.file_digest(file, "md5")
            shutil.copyfile(path, scratch / f"copy-{index}")

    elapsed = timed(run)
    shutil.rmtree(scratch)
    return elapsed


def log(api: Api, name: str, source: Path) -> Artifact:
    run = api.create_run(job_type="bench")
    artifact = Artifact(name, "dataset")
    if source.is_dir():
        artifact.add_dir(source, policy="immutable")
    else:
        artifact.add_file(source, policy="immutable")
    logged = run.log_artifact(artifact)
    run.finish()
    return logged


def measure(
    api: Api, uploads: UploadCounter, case: str, source: Path, work: Path
) -> dict[str, Any]:
    name = "big" if source.is_file() else "small"
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    floor_s = floor(files, work / "scratch")
    log_s = timed(lambda: log(api, name, source))
    api.cache.cleanup(0)
    cold = timed(lambda: api.artifact(f"{name}:latest").download(work / "cold"))
    warm = timed(lambda: api.artifact(f"{name}:latest").download(work / "warm"))
    before = uploads.bytes
    relog = timed(lambda: log(api, name, source))
    row = {
        "case": case,
        "floor s": floor_s,
        "log s": log_s,
        "cold load s": cold,
        "warm load s": warm,
        "(log + cold load) / floor": (log_s + cold) / floor_s,
        "warm / cold": warm / cold,
        "re-log / floor": relog / floor_s,
        "re-log bytes": uploads.bytes - before,
    }
    if len(files) > 1:
        row["log ms/file"] = 1000 * log_s / len(files)
        row["cold load ms/file"] = 1000 * cold / len(files)
    return row


def rematerialize(
    server: ServerProcess, uploads: UploadCounter, mib: int, work: Path
) -> dict[str, Any]:
    """An unchanged big asset materialized again: the IO manager serializes and hashes it, the
    server finds the same digest, and nothing is uploaded."""
    values = np.random.default_rng(0).integers(0, 255, size=mib << 20, dtype=np.uint8)

    @asset(name="big_array")
    def big_array() -> np.ndarray:
        return values

    wandb = WandbArtifactsResource(
        host=server.base_url,
        api_key=server.api_key,
        entity="bench",
        project="rematerialize",
        cache_dir=str(work / "dagster-cache"),
    )
    resources = {"io_manager": WandbArtifactsIOManager(wandb=wandb)}

    def once() -> None:
        result = materialize([big_array], resources=resources, instance=DagsterInstance.ephemeral())
        assert result.success

    once()
    before = uploads.bytes
    again = timed(once)
    saved = work / "saved.npy"

    def serialize_and_hash() -> None:
        np.save(saved, values)
        with open(saved, "rb") as file:
            hashlib.file_digest(file, "md5")

    baseline = timed(serialize_and_hash)
    saved.unlink()
    case = f"unchanged {mib} MiB numpy asset, re-materialized (baseline: np.save + md5)"
    return {
        "case": case,
        "floor s": baseline,
        "re-log / floor": again / baseline,
        "re-log bytes": uploads.bytes - before,
    }


def make_sources(work: Path, big_mib: int, small_files: int) -> tuple[Path, Path]:
    big = work / "big.bin"
    with open(big, "wb") as file:
        for _ in range(big_mib):
            file.write(os.urandom(1 << 20))
    small = work / "small"
    for index in range(small_files):
        folder = small / f"{index // 1000:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{index}.bin").write_bytes(os.urandom(1024 + (index * 7919) % (63 * 1024)))
    return big, small


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument(
        "--touch-gib", type=int, help="memory to touch first (default: 8 x the big file)"
    )
    args = parser.parse_args()
    touch_gib = args.touch_gib if args.touch_gib is not None else -(-8 * args.big_mib // 1024)
    with (
        tempfile.TemporaryDirectory(prefix="wandb-bench-") as tmp,
        server_process(Path(tmp) / "server") as server,
        counting_uploads() as uploads,
    ):
        work = Path(tmp)
        touch_memory(work, touch_gib)
        big, small = make_sources(work, args.big_mib, args.small_files)
        api = Api(
            {"base_url": server.base_url, "entity": "bench", "project": "bench"},
            api_key=server.api_key,
            cache=ArtifactCache(work / "cache"),
        )
        rows = [
            (measure(api, uploads, f"one {args.big_mib} MiB file", big, work / "b"), BIG_TARGETS),
            (
                measure(api, uploads, f"{args.small_files:,} files of 1-64 KiB", small, work / "s"),
                SMALL_TARGETS,
            ),
            (rematerialize(server, uploads, args.big_mib, work / "d"), ASSET_TARGETS),
        ]
    summary = [h for h in HEADERS if any(h in targets for _, targets in rows)]
    report(
        HEADERS + [f"target {metric}" for metric in summary],
        [
            [row.get(h) for h in HEADERS] + [targets.get(metric) for metric in summary]
            for row, targets in rows
        ],
        summary=summary,
    )


if __name__ == "__main__":
    main()
