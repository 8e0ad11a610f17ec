"""Distributed versions written by real ``wandb`` SDK processes at the same moment: three
writers ``upsert_artifact`` into one distributed version per round, released together by a
barrier, then a fourth process finishes every version. Every file a writer was told it
logged is in the committed version, and no writer is refused.

The rounds run inside long-lived writer processes (a ``wandb.init`` costs seconds), each round
on its own distributed version, so the race gets many chances in a few seconds.
"""

from __future__ import annotations

import multiprocessing
import queue
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support import ENTITY, PROJECT, sdk_api, sdk_run

pytestmark = pytest.mark.usefixtures("wandb_home")

WRITERS = 3
ROUNDS = 20
FILES_PER_WRITER = 5


def _collection(round_number: int) -> str:
    return f"shards-{round_number}"


def _write_rounds(
    base_url: str, api_key: str, folder: str, writer: int, barrier: Any, acks: Any
) -> None:
    """One writer process: every round, wait for the others, then upsert its own files."""
    import wandb

    server = SimpleNamespace(base_url=base_url, api_key=api_key)
    run = sdk_run(server, job_type="writer")  # type: ignore[arg-type]
    root = Path(folder) / f"writer-{writer}"
    for round_number in range(ROUNDS):
        part = wandb.Artifact(_collection(round_number), "dataset")
        names = []
        for k in range(FILES_PER_WRITER):
            name = f"w{writer}-{k}.txt"
            path = root / str(round_number) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"round {round_number} writer {writer} file {k}")
            part.add_file(str(path), name=name)
            names.append(name)
        barrier.wait(timeout=120)
        try:
            run.upsert_artifact(part, distributed_id=f"round-{round_number}")
            part.wait(timeout=120)
        except Exception as exc:  # a refusal: reported to the test, which counts it
            acks.put((round_number, writer, [], repr(exc)))
        else:
            acks.put((round_number, writer, names, None))
    run.finish()


def test_concurrent_distributed_writers_lose_no_acknowledged_file(server, tmp_path):
    import wandb

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    acks = context.Queue()
    writers = [
        context.Process(
            target=_write_rounds,
            args=(server.base_url, server.api_key, str(tmp_path), writer, barrier, acks),
        )
        for writer in range(WRITERS)
    ]
    for process in writers:
        process.start()
    acknowledged: dict[int, set[str]] = {r: set() for r in range(ROUNDS)}
    refused = []
    try:
        for _ in range(WRITERS * ROUNDS):
            round_number, _writer, names, failure = acks.get(timeout=300)
            acknowledged[round_number].update(names)
            if failure is not None:
                refused.append((round_number, failure))
    except queue.Empty:
        pytest.fail("a writer process stopped reporting")
    finally:
        for process in writers:
            process.join(timeout=120)
            if process.is_alive():
                process.kill()
    assert all(process.exitcode == 0 for process in writers)

    finisher = sdk_run(server, job_type="finisher")
    for round_number in range(ROUNDS):
        last = wandb.Artifact(_collection(round_number), "dataset")
        path = tmp_path / "finisher" / f"{round_number}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"round {round_number} end")
        last.add_file(str(path), name="end.txt")
        finisher.finish_artifact(last, distributed_id=f"round-{round_number}")
        last.wait(timeout=120)
    finisher.finish()

    sdk = sdk_api(server)
    lost = {}
    for round_number, names in acknowledged.items():
        committed = sdk.artifact(f"{ENTITY}/{PROJECT}/{_collection(round_number)}:v0")
        entries = set(committed.manifest.entries)
        if missing := (names | {"end.txt"}) - entries:
            lost[round_number] = sorted(missing)
        # Every entry's bytes are there too: the committed version is readable whole.
        assert committed.file_count == len(entries)
    files = sum(len(names) for names in acknowledged.values())
    print(
        f"\n{ROUNDS} rounds, {files} acknowledged files, "
        f"{sum(len(m) for m in lost.values())} lost in {len(lost)} rounds, {len(refused)} refused"
    )
    assert not refused, refused
    assert not lost, lost
    assert files == ROUNDS * WRITERS * FILES_PER_WRITER
