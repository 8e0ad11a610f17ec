"""Render times of the embedded server's web UI at scale.

    python bench/ui_pages.py [--versions 10000] [--files 100000] [--consumers 200] [--repeat 20]

Seeds a collection of ``--versions`` versions whose newest holds ``--files`` files in 100
folders and is used by ``--consumers`` runs (``tests.support.seed_big_collection``), then
times each page over HTTP on loopback (the median and the slowest of ``--repeat`` requests,
after one warm-up). Not part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parents[1]))

from dagster_wandb_artifacts.server import LocalServer  # noqa: E402
from tests.support import seed_big_collection  # noqa: E402

VERSION = "/ent/big/artifacts/dataset/many/latest"
PAGES = {
    "home": "/",
    "search": "/?q=man",
    "project": "/ent/big",
    "collection, page 1": "/ent/big/artifacts/dataset/many",
    "collection, page 200 (last)": "/ent/big/artifacts/dataset/many?page=200",
    "version (root of 100 folders)": VERSION,
    "version, folder (1,000 files) page 1": f"{VERSION}/files/shard-042/",
    "version, folder page 20 (last)": f"{VERSION}/files/shard-042/?after=shard-042/part-094942.bin",
    "lineage": f"{VERSION}/lineage",
    "run (logged 10,000 versions)": "/ent/big/runs/producer",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--consumers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as root, LocalServer(root) as server:
        started = time.perf_counter()
        seed_big_collection(server._state.store, args.versions, args.files, args.consumers)
        print(f"seeded in {time.perf_counter() - started:.1f} s\n")
        session = requests.Session()
        session.auth = ("api", server.api_key)
        print("| page | median ms | slowest ms | KiB |\n|---|---:|---:|---:|")
        for name, path in PAGES.items():
            url = server.base_url + path
            session.get(url, timeout=60).raise_for_status()
            times = []
            for _ in range(args.repeat):
                begin = time.perf_counter()
                reply = session.get(url, timeout=60)
                times.append((time.perf_counter() - begin) * 1000)
                reply.raise_for_status()
            size = len(reply.content) / 1024
            print(f"| {name} | {statistics.median(times):.1f} | {max(times):.1f} | {size:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
