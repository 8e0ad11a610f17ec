"""Render times of the embedded server's web UI at scale.

    python bench/ui_pages.py [--versions 10000] [--files 100000] [--consumers 200] [--repeat 20]
                             [--parquet-gb 1] [--pages compare,lineage]

Seeds a collection of ``--versions`` versions whose newest holds ``--files`` files in 100
folders and is used by ``--consumers`` runs (``tests.support.seed_big_collection``), gives
the version before it as many files (1 in 1,000 left out, 1 in 100 changed, 100 of its
own) for the Compare tab, and adds a ``--parquet-gb`` GB Parquet file to the newest (one
row group written over and over, uncompressed: cheap to make). Then times each page over
HTTP on loopback (the median and the slowest of ``--repeat`` requests, after one warm-up).
``--pages`` times only the pages whose names contain one of its comma-separated words (the
Parquet file is then made only if a Parquet page is timed).
Not part of the test run.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parents[1]))

from dagster_wandb_artifacts.server import LocalServer  # noqa: E402
from dagster_wandb_artifacts.server.blobs import object_key  # noqa: E402
from tests.support import seed_big_collection  # noqa: E402

VERSION = "/ent/big/artifacts/dataset/many/latest"
PAGES = {
    "home": "/",
    "search": "/?q=man",
    "project": "/ent/big",
    "collection, page 1": "/ent/big/artifacts/dataset/many",
    "collection, page 200 (last)": "/ent/big/artifacts/dataset/many?page=200",
    "version overview": VERSION,
    "version files (root of 100 folders)": f"{VERSION}/files/",
    "version, folder (1,000 files) page 1": f"{VERSION}/files/shard-042/",
    "version, folder page 20 (last)": f"{VERSION}/files/shard-042/?after=shard-042/part-094942.bin",
    "lineage": f"{VERSION}/lineage",
    "run (logged 10,000 versions)": "/ent/big/runs/producer",
    "compare (two 100,000-file versions)": f"{VERSION}/compare?with=previous",
    "Parquet file, first page": f"{VERSION}/files/big.parquet",
    "Parquet file, a page in the middle": f"{VERSION}/files/big.parquet?row=middle",
}


def seed_previous_version(store, versions: int) -> None:
    """The version before the newest: the newest's files, 1 in 1,000 left out (so the newest
    adds them), 1 in 100 with other bytes, and 100 files of its own (removed in the newest)."""
    sequence = store.find_collection(store.find_project("ent", "big")["id"], "many")
    newest = store.resolve_alias(sequence["id"], "latest")["id"]
    with store.write() as db:
        (previous,) = db.execute(
            "SELECT artifact_id FROM memberships WHERE collection_id = ? AND version_index = ?",
            (sequence["id"], versions - 2),
        ).fetchone()
        db.execute(  # seed_big_collection gives only the newest an alias
            "INSERT INTO aliases (collection_id, artifact_id, alias) VALUES (?, ?, ?)",
            (sequence["id"], previous, f"v{versions - 2}"),
        )
        db.execute(
            "INSERT INTO artifact_files (artifact_id, name, md5, size) "
            "SELECT ?, name, CASE WHEN id % 100 = 0 THEN substr('f' || md5, 1, 32) ELSE md5 "
            "END, size FROM artifact_files WHERE artifact_id = ? AND id % 1000 != 1",
            (previous, newest),
        )
        db.executemany(
            "INSERT INTO artifact_files (artifact_id, name, md5, size) VALUES (?, ?, ?, 1)",
            ((previous, f"old/{i:03d}.bin", f"{i:032x}") for i in range(100)),
        )


def add_parquet(server: LocalServer, gigabytes: float) -> int:
    """A ``gigabytes`` GB Parquet file ``big.parquet`` in the newest version; its rows."""
    import numpy
    import pyarrow
    import pyarrow.parquet

    rows = 1_000_000
    columns = {f"x{i}": numpy.random.default_rng(i).random(rows) for i in range(4)}
    columns["label"] = numpy.array([f"row-{i % 1000:04d}" for i in range(rows)])
    group = pyarrow.table(columns)
    state = server._state
    md5 = hashlib.md5()
    with state.blobs.staging_file() as (_, path):
        with pyarrow.parquet.ParquetWriter(
            path, group.schema, compression="none", use_dictionary=False
        ) as writer:
            while path.stat().st_size < gigabytes * 2**30:
                writer.write_table(group, row_group_size=rows)
        with path.open("rb") as file:
            while chunk := file.read(2**24):
                md5.update(chunk)
        size = path.stat().st_size
        state.blobs.commit(path, object_key(md5.hexdigest()))
    store = state.store
    sequence = store.find_collection(store.find_project("ent", "big")["id"], "many")
    newest = store.resolve_alias(sequence["id"], "latest")["id"]
    with store.write() as db:
        db.execute(
            "INSERT INTO artifact_files (artifact_id, name, md5, size) VALUES (?, ?, ?, ?)",
            (newest, "big.parquet", md5.hexdigest(), size),
        )
    total = pyarrow.parquet.ParquetFile(state.blobs.open(object_key(md5.hexdigest())))
    print(f"Parquet file: {size / 2**30:.2f} GB, {total.metadata.num_rows:,} rows")
    return total.metadata.num_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--consumers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--parquet-gb", type=float, default=1.0)
    parser.add_argument("--pages", default="", help="comma-separated words: only these pages")
    args = parser.parse_args()
    words = [word.strip().lower() for word in args.pages.split(",") if word.strip()]
    chosen = {
        name: path
        for name, path in PAGES.items()
        if not words or any(word in name.lower() for word in words)
    }
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as root, LocalServer(root) as server:
        started = time.perf_counter()
        seed_big_collection(server._state.store, args.versions, args.files, args.consumers)
        seed_previous_version(server._state.store, args.versions)
        parquet = any("Parquet" in name for name in chosen)
        parquet_rows = add_parquet(server, args.parquet_gb) if parquet else 0
        print(f"seeded in {time.perf_counter() - started:.1f} s\n")
        pages = {
            name: path.replace("with=previous", f"with=v{args.versions - 2}").replace(
                "row=middle", f"row={parquet_rows // 2}"
            )
            for name, path in chosen.items()
        }
        session = requests.Session()
        session.auth = ("api", server.api_key)
        print("| page | median ms | slowest ms | KiB |\n|---|---:|---:|---:|")
        for name, path in pages.items():
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
