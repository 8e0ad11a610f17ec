"""Benchmarks: our client against the hardware floor, measured side by side in one run.

    python bench/run.py [--big-mib 1024] [--small-files 10000]

Prints a table of times and ratios (absolute times are noisy on shared machines; the ratios
are what we track). The floor is ``hashlib.file_digest(f, "md5")`` plus ``shutil.copyfile``
of the same bytes. The embedded server runs in a process of its own, as a real W&B server is
remote: in this process it would share the client's GIL. Not part of the test run.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from dagster_wandb_artifacts.client import Api, Artifact, ArtifactCache
from dagster_wandb_artifacts.server import LocalServer


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def floor(files: list[Path], scratch: Path) -> float:
    """md5 of every file plus a copy of its bytes: what any log-then-load must at least do."""

    def run() -> None:
        for index, path in enumerate(files):
            with open(path, "rb") as file:
                hashlib.file_digest(file, "md5")
            shutil.copyfile(path, scratch / f"copy-{index}")

    elapsed = timed(run)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
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


def serve(root: Path, channel: Connection) -> None:
    """The server's process: sends (base URL, API key), then answers each message with the
    bytes received so far, until the message is None."""
    with LocalServer(root) as server:
        channel.send((server.base_url, server.api_key))
        while channel.recv() is not None:
            channel.send(server.bytes_received)


class ServerProcess:
    def __init__(self, channel: Connection, base_url: str, api_key: str) -> None:
        self._channel = channel
        self.base_url, self.api_key = base_url, api_key

    @property
    def bytes_received(self) -> int:
        self._channel.send("bytes_received")
        return self._channel.recv()


@contextmanager
def server_process(root: Path) -> Iterator[ServerProcess]:
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=serve, args=(root, theirs))
    process.start()
    try:
        yield ServerProcess(ours, *ours.recv())
    finally:
        ours.send(None)
        process.join()


def measure(api: Api, server: ServerProcess, name: str, source: Path, work: Path) -> dict:
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    scratch = work / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    results = {"floor": floor(files, scratch)}
    results["log"] = timed(lambda: log(api, name, source))
    api.cache.cleanup(0)
    results["cold load"] = timed(lambda: api.artifact(f"{name}:latest").download(work / "cold"))
    results["warm load"] = timed(lambda: api.artifact(f"{name}:latest").download(work / "warm"))
    before = server.bytes_received
    results["unchanged re-log"] = timed(lambda: log(api, name, source))
    results["re-log bytes"] = server.bytes_received - before
    results["files"] = len(files)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--small-files", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wandb-bench-") as tmp:
        work = Path(tmp)
        big = work / "big.bin"
        with open(big, "wb") as file:
            for _ in range(args.big_mib):
                file.write(os.urandom(1 << 20))
        small = work / "small"
        small.mkdir()
        for index in range(args.small_files):
            size = 1024 + (index * 7919) % (63 * 1024)
            (small / f"{index // 1000:02d}" / f"f{index}.bin").parent.mkdir(exist_ok=True)
            (small / f"{index // 1000:02d}" / f"f{index}.bin").write_bytes(os.urandom(size))
        with server_process(work / "server") as server:
            api = Api(
                server.api_key,
                {"base_url": server.base_url, "entity": "bench", "project": "bench"},
                cache=ArtifactCache(work / "cache"),
            )
            rows = {
                f"one {args.big_mib} MiB file": measure(api, server, "big", big, work / "b"),
                f"{args.small_files} small files": measure(api, server, "small", small, work / "s"),
            }
    print("server: in its own process on loopback")
    print(
        f"{'case':<22}{'floor s':>9}{'log s':>8}{'cold s':>8}{'warm s':>8}"
        f"{'(log+cold)/floor':>18}{'warm/cold':>10}{'relog/floor':>12}{'relog B':>9}"
        f"{'ms/file':>9}"
    )
    for case, r in rows.items():
        ratio = (r["log"] + r["cold load"]) / r["floor"]
        per_file = 1000 * (r["log"] + r["cold load"]) / r["files"]
        print(
            f"{case:<22}{r['floor']:>9.2f}{r['log']:>8.2f}{r['cold load']:>8.2f}"
            f"{r['warm load']:>8.2f}{ratio:>18.2f}{r['warm load'] / r['cold load']:>10.2f}"
            f"{r['unchanged re-log'] / r['floor']:>12.2f}{r['re-log bytes']:>9}"
            f"{per_file:>9.3f}"
        )


if __name__ == "__main__":
    main()
