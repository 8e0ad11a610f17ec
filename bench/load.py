"""Load: many client processes logging and downloading against one CLI server at once.

    python -m bench.load [--clients 32] [--seconds 30] [--root DIR]

Starts ``dagster-wandb-artifacts server`` on a free loopback port, then ``--clients``
processes that for ``--seconds`` each log versions (a file of their own, a file every client
shares, and now and then a larger one) into collections shared by four clients each, and
download versions logged by themselves and by others. Reported: HTTP requests, errors (5xx
answers and failed operations), request latency p50/p99 (to the reply's headers, as
``requests`` measures it), operations per second. Afterwards every committed version is read
back with a fresh cache: its digest, and each file's bytes (md5) against what its writer
logged; then ``server scrub`` checks every stored object on disk. Not part of the test run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

COLLECTIONS_PER_CLIENT = 4  # clients logging into each collection
SHARED = b"a file every client logs: stored once\n" * 100


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _client(
    index: int, clients: int, url: str, key: str, start_at: float, seconds: float, work: str
) -> dict:
    from dagster_wandb_artifacts.client import Api, Artifact, ArtifactCache, NotFoundError

    folder = Path(work) / f"client-{index}"
    folder.mkdir(parents=True)
    api = Api(
        {"base_url": url, "entity": "local", "project": "load"},
        api_key=key,
        cache=ArtifactCache(folder / "cache"),
    )
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    def record(response: Any, *args: Any, **kwargs: Any) -> None:
        latencies.append(response.elapsed.total_seconds())
        statuses[response.status_code] += 1

    api.client.session.hooks["response"].append(record)
    collection = f"c{index // COLLECTIONS_PER_CLIENT}"
    # Every collection; another's may not exist yet in the first moments (then one error).
    others = [f"c{i}" for i in range(-(-clients // COLLECTIONS_PER_CLIENT))]
    logged: list[dict[str, Any]] = []
    operations: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    examples: list[str] = []
    rng = random.Random(index)
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.time() + seconds
    run = api.create_run(job_type="load")
    step = 0
    while time.time() < deadline:
        step += 1
        kind = "log" if step % 2 else "download"
        try:
            if kind == "log":
                source = folder / f"src-{step}"
                source.mkdir()
                files = {"own.bin": os.urandom(4096), "shared.txt": SHARED}
                if step % 7 == 1:
                    files["big.bin"] = rng.randbytes(512 * 1024)
                for name, data in files.items():
                    (source / name).write_bytes(data)
                draft = Artifact(collection, "dataset")
                draft.add_dir(source)
                version = run.log_artifact(draft)
                logged.append(
                    {
                        "name": f"local/load/{collection}:{version.version}",
                        "digest": version.digest,
                        "files": {n: hashlib.md5(d).hexdigest() for n, d in files.items()},
                    }
                )
                shutil.rmtree(source)
            else:
                name = (
                    rng.choice(logged)["name"]
                    if logged and rng.random() < 0.5
                    else f"local/load/{rng.choice(others)}:latest"
                )
                target = folder / f"dl-{step}"
                api.artifact(name).download(target)
                shutil.rmtree(target)
            operations[kind] += 1
        except Exception as exc:  # noqa: BLE001 - counted and reported, the load goes on
            if kind == "download" and name.endswith(":latest") and isinstance(exc, NotFoundError):
                # Another collection, in the first moments: none of its clients logged yet.
                operations["download skipped: collection not logged yet"] += 1
                continue
            errors[f"{kind}: {type(exc).__name__}"] += 1
            if len(examples) < 3:
                examples.append(f"{kind}: {str(exc)[:300]}")
    run.finish()
    return {
        "latencies": latencies,
        "statuses": dict(statuses),
        "operations": dict(operations),
        "errors": dict(errors),
        "examples": examples,
        "logged": logged,
    }


def _start_server(root: Path) -> tuple[subprocess.Popen, str, str]:
    command = [sys.executable, "-m", "dagster_wandb_artifacts.server.cli", "server"]
    process = subprocess.Popen(
        [*command, "--root", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"},
    )
    banner = process.stdout.readline()
    url = banner.split(" on ")[1].split()[0]
    return process, url, (root / "api-key").read_text().strip()


def _verify(url: str, key: str, logged: list[dict[str, Any]], work: Path) -> Counter[str]:
    """Every committed version read back with a fresh cache, against what its writer logged."""
    from dagster_wandb_artifacts.client import Api, ArtifactCache

    api = Api({"base_url": url}, api_key=key, cache=ArtifactCache(work / "verify-cache"))
    outcome: Counter[str] = Counter()
    for number, expected in enumerate(logged):
        try:
            version = api.artifact(expected["name"])
            folder = Path(version.download(work / f"verify-{number}"))
            actual = {
                path.name: hashlib.md5(path.read_bytes()).hexdigest() for path in folder.iterdir()
            }
            good = version.digest == expected["digest"] and actual == expected["files"]
            outcome["verified" if good else "MISMATCH"] += 1
            shutil.rmtree(folder)
        except Exception as exc:  # noqa: BLE001 - reported
            outcome[f"FAILED {type(exc).__name__}: {str(exc)[:200]}"] += 1
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--root", help="server root (default: a temporary folder)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    root = Path(args.root) if args.root else work / "server"
    server, url, key = _start_server(root)
    try:
        context = multiprocessing.get_context("spawn")
        # Room for every process to start and import before the clock starts.
        start_at = time.time() + 5 + args.clients * 0.4
        with context.Pool(args.clients) as pool:
            results = pool.starmap(
                _client,
                [
                    (index, args.clients, url, key, start_at, args.seconds, str(work))
                    for index in range(args.clients)
                ],
            )
        latencies = [value for result in results for value in result["latencies"]]
        statuses: Counter[int] = Counter()
        operations: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        for result in results:
            statuses.update({int(k): v for k, v in result["statuses"].items()})
            operations.update(result["operations"])
            errors.update(result["errors"])
        logged = [entry for result in results for entry in result["logged"]]
        verified = _verify(url, key, logged, work)
    finally:
        server.terminate()
        server.wait(timeout=60)
    scrub = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster_wandb_artifacts.server.cli",
            "server",
            "scrub",
            "--root",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    summary = {
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / args.seconds, 1),
        "http_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "http_4xx": sum(v for k, v in statuses.items() if 400 <= k < 500),
        "statuses": dict(sorted(statuses.items())),
        "operations": dict(operations),
        "operation_errors": dict(errors),
        "error_examples": [e for r in results for e in r["examples"]][:5],
        "latency_ms_p50": round(1000 * _percentile(latencies, 0.50), 1),
        "latency_ms_p99": round(1000 * _percentile(latencies, 0.99), 1),
        "latency_ms_mean": round(1000 * statistics.fmean(latencies), 1) if latencies else 0,
        "versions_logged": len(logged),
        "reverified": dict(verified),
        "scrub": scrub.stdout.strip().splitlines()[:1],
        "scrub_exit_code": scrub.returncode,
    }
    print(json.dumps(summary, indent=2))
    if not args.root:
        shutil.rmtree(work, ignore_errors=True)
    clean = not errors and set(verified) == {"verified"} and scrub.returncode == 0
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
