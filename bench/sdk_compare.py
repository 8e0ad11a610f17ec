"""Our client against the real wandb SDK (0.31), on the same embedded server, same run.

    python bench/sdk_compare.py [--files 1000] [--big-mib 256]

Logging is timed as the user sees it (``wandb.init`` + ``log_artifact`` + ``finish``; our
``create_run`` + ``log_artifact`` + ``finish``); ``Api().artifact(name)`` latency is the
median of 20 calls after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from dagster_wandb_artifacts.client import Api, Artifact, ArtifactCache
from dagster_wandb_artifacts.server import LocalServer


def ours_log(api: Api, name: str, source: Path) -> float:
    started = time.perf_counter()
    run = api.create_run(job_type="bench")
    artifact = Artifact(name, "dataset")
    artifact.add_dir(source)
    run.log_artifact(artifact)
    run.finish()
    return time.perf_counter() - started


def sdk_log(server: LocalServer, name: str, source: Path) -> float:
    import wandb

    started = time.perf_counter()
    run = wandb.init(
        entity="bench",
        project="bench",
        settings=wandb.Settings(
            base_url=server.base_url,
            api_key=server.api_key,
            silent=True,
            x_disable_stats=True,
            x_disable_machine_info=True,
            console="off",
            save_code=False,
            disable_git=True,
        ),
    )
    artifact = wandb.Artifact(name, "dataset")
    artifact.add_dir(str(source))
    run.log_artifact(artifact)
    artifact.wait()
    run.finish()
    return time.perf_counter() - started


def latency(fetch) -> float:
    fetch()
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        fetch()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--big-mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sdk-bench-") as tmp:
        work = Path(tmp)
        for variable in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
            (work / variable).mkdir()
            os.environ[variable] = str(work / variable)
        small, big = work / "small", work / "big"
        small.mkdir()
        big.mkdir()
        for index in range(args.files):
            (small / f"f{index}.bin").write_bytes(os.urandom(1024 + (index * 7919) % 64512))
        with open(big / "big.bin", "wb") as file:
            for _ in range(args.big_mib):
                file.write(os.urandom(1 << 20))
        import wandb

        with LocalServer(work / "server") as server:
            api = Api(
                server.api_key,
                {"base_url": server.base_url, "entity": "bench", "project": "bench"},
                cache=ArtifactCache(work / "cache"),
            )
            sdk_api = wandb.Api(overrides={"base_url": server.base_url}, api_key=server.api_key)
            rows = []
            for label, source in (
                (f"{args.files} small files", small),
                (f"one {args.big_mib} MiB file", big),
            ):
                sdk = sdk_log(server, f"sdk-{source.name}", source)
                ours = ours_log(api, f"ours-{source.name}", source)
                rows.append((f"log {label}", ours, sdk))
            ours_latency = latency(lambda: api.artifact("bench/bench/ours-small:latest"))
            sdk_latency = latency(lambda: sdk_api.artifact("bench/bench/ours-small:latest"))
            rows.append(("Api().artifact(name)", ours_latency, sdk_latency))
    print(f"{'case':<28}{'ours s':>9}{'sdk s':>9}{'ours/sdk':>10}")
    for case, ours, sdk in rows:
        print(f"{case:<28}{ours:>9.3f}{sdk:>9.3f}{ours / sdk:>10.2f}")


if __name__ == "__main__":
    main()
