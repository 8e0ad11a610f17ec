"""Every benchmark, then one table of all their ratios: ``python -m bench`` from the repo root.

    python -m bench [--only NAMES] [--skip NAMES] [--big-mib 1024] [--small-files 10000]
                    [--sdk-files 1000] [--sdk-big-mib 256] [--scaling-sizes 1000,10000,100000]
                    [--wan-rtts 40,150] [--wan-files 1000,10000] [--wan-big-mib 1024]
                    [--venv-dir DIR]

NAMES, comma-separated, from: run, sdk, dagster, dagster-wandb, scaling, wan. The benchmarks run
one after the other (on 2 cores they would disturb each other's timings), each as a subprocess
of this interpreter; their own tables are printed as they finish, their stderr goes to a log
file per benchmark. Not part of the test run (pytest collects tests/ only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.harness import SUMMARY_VARIABLE, report

BENCH = Path(__file__).resolve().parent
NAMES = ("run", "sdk", "dagster", "dagster-wandb", "scaling", "wan")


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    arguments: list[str]


def plan(args: argparse.Namespace) -> list[Benchmark]:
    chosen = set(args.only.split(",")) if args.only else set(NAMES)
    chosen -= set(args.skip.split(",")) if args.skip else set()
    unknown = chosen - set(NAMES)
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(sorted(unknown))}; known: {NAMES}")
    benchmarks = []
    if "run" in chosen:
        sizes = ["--big-mib", str(args.big_mib), "--small-files", str(args.small_files)]
        benchmarks.append(Benchmark("run", "run.py", sizes))
    if "sdk" in chosen:
        sizes = ["--files", str(args.sdk_files), "--big-mib", str(args.sdk_big_mib)]
        benchmarks.append(Benchmark("sdk", "sdk_compare.py", sizes))
    # dagster-wandb is measured inside the Dagster chain's run, so its ratios are side by side.
    if chosen & {"dagster", "dagster-wandb"}:
        if "dagster-wandb" in chosen:
            options = ["--venv-dir", str(args.venv_dir)] if args.venv_dir else []
        else:
            options = ["--no-dagster-wandb"]
        benchmarks.append(Benchmark("dagster", "dagster_chain.py", options))
    if "scaling" in chosen:
        benchmarks.append(Benchmark("scaling", "scaling.py", ["--sizes", args.scaling_sizes]))
    if "wan" in chosen:
        sizes = ["--rtts", args.wan_rtts, "--files", args.wan_files]
        benchmarks.append(Benchmark("wan", "wan.py", [*sizes, "--big-mib", str(args.wan_big_mib)]))
    return benchmarks


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated benchmarks to run (default: all)")
    parser.add_argument("--skip", help="comma-separated benchmarks to leave out")
    parser.add_argument("--big-mib", type=int, default=1024, help="run.py's big file")
    parser.add_argument("--small-files", type=int, default=10_000, help="run.py's file count")
    parser.add_argument("--sdk-files", type=int, default=1000)
    parser.add_argument("--sdk-big-mib", type=int, default=256)
    parser.add_argument("--scaling-sizes", default="1000,10000,100000")
    parser.add_argument("--wan-rtts", default="40,150", help="wan.py's round trip times, ms")
    parser.add_argument("--wan-files", default="1000,10000", help="wan.py's small-file counts")
    parser.add_argument("--wan-big-mib", type=int, default=1024, help="wan.py's big file")
    parser.add_argument("--venv-dir", type=Path, help="dagster-wandb's virtualenv")
    args = parser.parse_args()
    benchmarks = plan(args)
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    summary_file = logs / "summary.jsonl"
    summary_file.touch()
    env = dict(os.environ, **{SUMMARY_VARIABLE: str(summary_file)})
    failed = []
    for benchmark in benchmarks:
        print(f"\n## {benchmark.name}: {benchmark.script} {' '.join(benchmark.arguments)}\n")
        sys.stdout.flush()
        log = logs / f"{benchmark.name}.log"
        with open(log, "w") as stderr:
            result = subprocess.run(
                [sys.executable, str(BENCH / benchmark.script), *benchmark.arguments],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=env,
            )
        print(result.stdout)
        if result.returncode != 0:
            failed.append(benchmark.name)
            print(f"FAILED (exit code {result.returncode}): see {log}")
    print("\n## All ratios\n")
    entries = [json.loads(line) for line in summary_file.read_text().splitlines()]
    report(
        ["benchmark", "case", "ratio", "value", "target"],
        [(e["script"], e["case"], e["metric"], e["value"], e.get("target", "")) for e in entries],
    )
    print(f"\nstderr of each benchmark: {logs}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
