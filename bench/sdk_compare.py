"""Our client against the real wandb SDK (0.31), on the same server process, same run.

    python bench/sdk_compare.py [--files 1000] [--big-mib 256] [--repeat 3]

Logging is timed twice over the same call: as the user sees it (``wandb.init`` +
``log_artifact`` + ``finish``; our ``create_run`` + ``log_artifact`` + ``finish``) and the
logging alone (``log_artifact`` + ``artifact.wait()``; our ``log_artifact``). Cold loads
download one artifact (logged by our client) into an empty cache and an empty folder through
each side's ``Api().artifact(name).download(root)``. Each time is the median of --repeat
rounds, each on fresh random bytes; the SDK starts its ``wandb-core`` helper (about 1.5 s) in
the first round only, so the median "init + log + finish" is a warm one.
``Api().artifact(name)`` latency is the median of 20 calls after one warm-up. Memory is
touched first (see ``harness.touch_memory``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import wandb
from harness import ServerProcess, report, sdk_settings, server_process, timed, touch_memory

from dagster_wandb_artifacts.client import Api, Artifact, ArtifactCache

# The benchmark issue's targets for ours / SDK: small files and per-call latency, big files.
SMALL_TARGET, BIG_TARGET = 0.5, 1.0
WANDB_DIRS = ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR")


def ours_api(server: ServerProcess, cache: Path) -> Api:
    return Api(
        {"base_url": server.base_url, "entity": "bench", "project": "bench"},
        api_key=server.api_key,
        cache=ArtifactCache(cache),
    )


def ours_log(api: Api, name: str, source: Path) -> tuple[float, float]:
    """Seconds of (the whole logging, ``log_artifact`` alone)."""
    started = time.perf_counter()
    run = api.create_run(job_type="bench")
    artifact = Artifact(name, "dataset")
    artifact.add_dir(source)
    alone = timed(lambda: run.log_artifact(artifact))
    run.finish()
    return time.perf_counter() - started, alone


def sdk_log(server: ServerProcess, name: str, source: Path) -> tuple[float, float]:
    """Seconds of (the whole logging, ``log_artifact`` + ``wait`` alone)."""
    started = time.perf_counter()
    run = wandb.init(
        entity="bench",
        project="bench",
        settings=sdk_settings(server),
    )
    artifact = wandb.Artifact(name, "dataset")
    artifact.add_dir(str(source))

    def log() -> None:
        run.log_artifact(artifact)
        artifact.wait()

    alone = timed(log)
    run.finish()
    return time.perf_counter() - started, alone


def latency(fetch: Callable[[], object]) -> float:
    fetch()
    samples = [timed(fetch) for _ in range(20)]
    return statistics.median(samples)


def empty(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def cold_loads(server: ServerProcess, name: str, work: Path) -> tuple[float, float]:
    """Seconds of (ours, the SDK's) download of ``name`` into an empty cache and folder."""
    api, ours_root = ours_api(server, empty(work / "cold-cache")), empty(work / "ours-cold")
    ours = timed(lambda: api.artifact(name).download(ours_root))
    empty(work / "WANDB_CACHE_DIR")
    sdk_api = wandb.Api(overrides={"base_url": server.base_url}, api_key=server.api_key)
    sdk_root = str(empty(work / "sdk-cold"))
    return ours, timed(lambda: sdk_api.artifact(name).download(sdk_root))


def small_files(folder: Path, count: int) -> Path:
    """``count`` files of 1-64 KiB of random bytes in an emptied ``folder``."""
    empty(folder)
    for index in range(count):
        (folder / f"f{index}.bin").write_bytes(os.urandom(1024 + (index * 7919) % 64512))
    return folder


def big_file(folder: Path, mib: int) -> Path:
    """One file of ``mib`` MiB of random bytes in an emptied ``folder``."""
    empty(folder)
    with open(folder / "big.bin", "wb") as file:
        for _ in range(mib):
            file.write(os.urandom(1 << 20))
    return folder


def make_sources(root: Path, files: int, big_mib: int) -> tuple[Path, Path]:
    """Random bytes of our own per side, so that neither logs what the other one uploaded
    already (the server would skip those uploads)."""
    return small_files(root / "small", files), big_file(root / "big", big_mib)


KINDS = ("small", "big")
# Row names, with the kind's label in the braces.
MEASURES = ("log {} (init + log + finish)", "log {} (log_artifact alone)", "cold load {}")


def one_round(
    server: ServerProcess, api: Api, work: Path, index: int, files: int, big_mib: int
) -> dict[tuple[str, str], tuple[float, float]]:
    """One sample of each (kind, measure) as (ours, SDK) seconds, on bytes new to the server."""
    ours_sources = make_sources(work / "ours", files, big_mib)
    sdk_sources = make_sources(work / "sdk", files, big_mib)
    samples = {}
    for kind, ours, sdk in zip(KINDS, ours_sources, sdk_sources, strict=True):
        name = f"{kind}-{index}"
        sdk_whole, sdk_alone = sdk_log(server, f"sdk-{name}", sdk)
        ours_whole, ours_alone = ours_log(api, f"ours-{name}", ours)
        cold = cold_loads(server, f"bench/bench/ours-{name}:latest", work)
        for measure, pair in zip(
            MEASURES, ((ours_whole, sdk_whole), (ours_alone, sdk_alone), cold), strict=True
        ):
            samples[kind, measure] = pair
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3, help="rounds per median")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sdk-bench-") as tmp:
        work = Path(tmp)
        touch_memory(work, -(-6 * args.big_mib * args.repeat // 1024))
        # Each SDK folder in the temp dir: nothing leaks into the home folder, and emptying
        # WANDB_CACHE_DIR makes the SDK's next download cold.
        for variable in WANDB_DIRS:
            os.environ[variable] = str(empty(work / variable))
        os.environ["WANDB_SILENT"] = "true"
        with server_process(work / "server") as server:
            api = ours_api(server, work / "cache")
            rounds = [
                one_round(server, api, work, index, args.files, args.big_mib)
                for index in range(args.repeat)
            ]
            name = "bench/bench/ours-small-0:latest"
            sdk_api = wandb.Api(overrides={"base_url": server.base_url}, api_key=server.api_key)
            latencies = latency(lambda: api.artifact(name)), latency(lambda: sdk_api.artifact(name))
    labels = {"small": f"{args.files:,} small files", "big": f"one {args.big_mib} MiB file"}
    targets = {"small": SMALL_TARGET, "big": BIG_TARGET}
    rows = []
    for kind in KINDS:
        for measure in MEASURES:
            ours, sdk = (
                statistics.median(r[kind, measure][side] for r in rounds) for side in (0, 1)
            )
            case = measure.format(labels[kind])
            rows.append((case, ours, sdk, ours / sdk, f"<= {targets[kind]}"))
    ours, sdk = latencies
    rows.append(("Api().artifact(name), median of 20", ours, sdk, ours / sdk, f"<= {SMALL_TARGET}"))
    report(["case", "ours s", "SDK s", "ours / SDK", "target"], rows, summary=["ours / SDK"])


if __name__ == "__main__":
    main()
