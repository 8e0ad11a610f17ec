"""How our client scales with the file count: log, list and cold-load 1k to 100k small files.

    python bench/scaling.py [--sizes 1000,10000,100000]

Each size gets a fresh server process and a fresh client process (this script again, with
--child), so that both peak resident sets (VmHWM of the server, ru_maxrss of the client) are
those of that size alone. Files are 1-4 KiB of deterministic bytes, 1,000 per folder. Prints
milliseconds per file for each phase (the target is flat across sizes) and both peaks.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from harness import own_peak_rss_mib, report, run_json, server_process, timed

from dagster_wandb_artifacts.client import Api, Artifact, ArtifactCache

PHASES = ("log", "list", "cold load")
RSS_TARGET_MB = 300
MIB = 1 << 20


def make_files(root: Path, count: int) -> None:
    for index in range(count):
        folder = root / f"{index // 1000:03d}"
        if index % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"f{index}.bin").write_bytes(
            random.Random(index).randbytes(1024 + (index * 7919) % 3073)
        )


def child(count: int, base_url: str, api_key: str, work: Path) -> dict[str, float]:
    """Time the three phases in this process; the results and peak RSS as one dict."""
    started_mib = own_peak_rss_mib()
    make_files(work / "files", count)

    def api(cache: str) -> Api:
        return Api(
            {"base_url": base_url, "entity": "bench", "project": "scaling"},
            api_key=api_key,
            cache=ArtifactCache(work / cache),
        )

    def log() -> None:
        run = api("cache").create_run(job_type="bench")
        artifact = Artifact("files", "dataset")
        artifact.add_dir(work / "files")
        run.log_artifact(artifact)
        run.finish()

    def listing() -> None:
        listed = sum(1 for _ in api("list-cache").artifact("files:latest").files())
        assert listed == count, listed

    def cold_load() -> None:
        api("cold-cache").artifact("files:latest").download(work / "loaded")

    results = {"client start MiB": started_mib}
    # ru_maxrss only grows: read after each phase, it tells which phase set the peak.
    for phase, action in zip(PHASES, (log, listing, cold_load), strict=True):
        results[phase] = timed(action)
        results[f"client MiB after {phase}"] = own_peak_rss_mib()
    return results


def measure(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="scaling-bench-") as tmp:
        work = Path(tmp)
        with server_process(work / "server") as server:
            started_mib = server.peak_rss_mib()
            command = [sys.executable, __file__, "--child", str(count), server.base_url]
            results = run_json([*command, server.api_key, str(work / "client")])
            results["server peak MiB"] = server.peak_rss_mib()
    return {**results, "server start MiB": started_mib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="file counts, comma-separated")
    parser.add_argument(
        "--child", nargs=4, metavar=("COUNT", "URL", "KEY", "WORK"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        count, base_url, api_key, work = args.child
        print(json.dumps(child(int(count), base_url, api_key, Path(work))))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    results = {count: measure(count) for count in sizes}
    rows = []
    for count, r in results.items():
        per_file = [1000 * r[phase] / count for phase in PHASES]
        rows.append(
            [
                f"{count:,}",
                *(r[phase] for phase in PHASES),
                *per_file,
                " / ".join(
                    f"{r[key]:.0f}"
                    for key in ("client start MiB", *(f"client MiB after {p}" for p in PHASES))
                ),
                f"{r['server start MiB']:.0f} / {r['server peak MiB']:.0f}",
            ]
        )
    report(
        [
            "files",
            *(f"{phase} s" for phase in PHASES),
            *(f"{phase} ms/file" for phase in PHASES),
            "client peak RSS MiB: start / after " + " / ".join(PHASES),
            "server RSS MiB: start / peak",
        ],
        rows,
    )
    # Ratios for the summary: per-file time at the largest size over the smallest (flat is 1),
    # and each process's peak RSS over the target.
    smallest, largest = min(sizes), max(sizes)
    print()
    rows = [
        [
            f"{phase} ms/file, {largest:,} over {smallest:,} files",
            1000 * results[smallest][phase] / smallest,
            1000 * results[largest][phase] / largest,
            (results[largest][phase] / largest) / (results[smallest][phase] / smallest),
            "flat (~1)",
        ]
        for phase in PHASES
    ]
    for side, key in (("client", f"client MiB after {PHASES[-1]}"), ("server", "server peak MiB")):
        peak_mb = results[largest][key] * MIB / 1e6
        rows.append(
            [
                f"{side} peak RSS MB, {largest:,} files, over {RSS_TARGET_MB} MB",
                results[smallest][key] * MIB / 1e6,
                peak_mb,
                peak_mb / RSS_TARGET_MB,
                "<= 1",
            ]
        )
    report(
        ["measure", f"{smallest:,} files", f"{largest:,} files", "ratio", "target"],
        rows,
        summary=["ratio"],
    )


if __name__ == "__main__":
    main()
