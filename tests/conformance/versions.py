"""Versions the conformance tests log with our client, for both sides to read or change."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.harness import Pair


def log_one_per_side(pair: Pair, project: str, prefix: str, folder: Path) -> None:
    """``<prefix>-sdk:v0`` and ``<prefix>-ours:v0`` (dataset, one file): a collection each side
    may change or delete without touching the other's."""
    (folder / "a.txt").write_text("a\n")
    writer = pair.ours.api.create_run(project=project)
    for side in ("sdk", "ours"):
        draft = pair.ours.Artifact(f"{prefix}-{side}", "dataset")
        draft.add_file(str(folder / "a.txt"))
        writer.log_artifact(draft)
    writer.finish()
