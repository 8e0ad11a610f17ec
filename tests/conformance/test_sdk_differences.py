"""The last differences the side-by-side comparison with ``wandb`` 0.31 found (issue 28):
each case through the SDK and through our client, on the suite's server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.harness import Pair
from tests.support import ENTITY

PROJECT = "conf-differences"


def _entries(draft) -> list:
    entries = draft.manifest.entries.values()
    return sorted((entry.path, entry.ref, entry.digest, entry.size) for entry in entries)


@pytest.fixture
def logged_in(conformance_server, monkeypatch) -> None:
    """What the SDK reads from the environment when a call needs the server without a run."""
    monkeypatch.setenv("WANDB_API_KEY", conformance_server.api_key)
    monkeypatch.setenv("WANDB_BASE_URL", conformance_server.base_url)
    monkeypatch.setenv("WANDB_ENTITY", ENTITY)


def _logged(pair: Pair, name: str, folder: Path) -> tuple:
    """A version ``name`` of one file, logged by each side, then fetched by each side."""
    (folder / "a.txt").write_text("alpha\n")
    writer = pair.ours.api.create_run(project=PROJECT, job_type="conformance")
    draft = pair.ours.Artifact(name, "dataset")
    draft.add_file(folder / "a.txt")
    writer.log_artifact(draft)
    writer.finish()
    return pair.each(lambda side: side.api.artifact(f"{ENTITY}/{PROJECT}/{name}:latest"))


@pytest.mark.conformance("Artifact.add_reference")
def test_a_reference_with_an_unknown_scheme_is_an_opaque_uri(pair: Pair):
    def call(side):
        draft = side.Artifact("d", "dataset")
        draft.add_reference("foo://bucket/key.bin", name="key.bin")
        return _entries(draft)

    pair.check(call)


@pytest.mark.conformance("Artifact.add_reference")
def test_a_reference_to_an_entry_of_a_logged_version(pair: Pair, tmp_path: Path, logged_in):
    logged = _logged(pair, "entry-source", tmp_path)

    def call(side):
        draft = side.Artifact("d", "dataset")
        draft.add_reference(side.pick(logged).get_entry("a.txt"), name="copied.txt")
        return [(path, ref) for path, ref, _, _ in _entries(draft)]

    pair.check(call)


@pytest.mark.conformance("Artifact.__setitem__")
def test_setitem_adds_a_table(pair: Pair):
    import wandb

    def call(side):
        draft = side.Artifact("d", "dataset")
        draft["labels"] = wandb.Table(columns=["a"], data=[[1], [2]])
        return sorted(draft.manifest.entries)

    pair.check(call)


def test_link_of_a_draft_saves_it_first(pair: Pair, tmp_path: Path, logged_in):
    """SDK 0.31's ``link`` saves a draft first (``save()`` then ``wait()``); its ``save`` of a
    draft starts a run through ``wandb-core``, which here reaches for W&B's cloud despite the
    environment: so our side is checked alone against what the SDK's code does."""
    (tmp_path / "a.txt").write_text("x")
    draft = pair.ours.Artifact("draft-link", "dataset")
    draft.add_file(tmp_path / "a.txt")
    linked = draft.link(f"{ENTITY}/{PROJECT}/linked")
    assert not draft.is_draft() and draft.state == "COMMITTED"
    assert linked.is_link and linked.version == "v0" and linked.digest == draft.digest


@pytest.mark.conformance("Artifact.delete", "Artifact.state")
def test_state_after_delete_stays_committed(pair: Pair, tmp_path: Path):
    def call(side):
        version = _logged(pair, f"deleted-{side.name}", tmp_path / side.name)
        fetched = side.pick(version)
        fetched.delete()
        return fetched.state

    for side in (pair.sdk, pair.ours):
        (tmp_path / side.name).mkdir()
    pair.check(call)


@pytest.mark.conformance("ArtifactType.collection")
def test_a_missing_collection_of_a_type(pair: Pair, tmp_path: Path):
    _logged(pair, "typed", tmp_path)
    pair.check(
        lambda side: side.api.artifact_type("dataset", f"{ENTITY}/{PROJECT}")
        .collection("missing")
        .name
    )


@pytest.mark.conformance("Artifact.metadata")
def test_metadata_that_is_not_a_dict(pair: Pair):
    def assign(side):
        side.Artifact("d", "dataset").metadata = "not a dict"

    pair.check(assign)
    pair.check(lambda side: side.Artifact("d", "dataset", metadata="not a dict"))


@pytest.mark.conformance("Artifact.download")
def test_download_with_a_vanished_file_reference(pair: Pair, tmp_path: Path):
    vanishing = tmp_path / "vanishing.txt"
    vanishing.write_text("here for now")
    writer = pair.ours.api.create_run(project=PROJECT, job_type="conformance")
    draft = pair.ours.Artifact("vanished", "dataset")
    draft.add_reference(vanishing.as_uri())
    writer.log_artifact(draft)
    writer.finish()
    vanishing.unlink()
    pair.check(
        lambda side: side.api.artifact(f"{ENTITY}/{PROJECT}/vanished:latest").download(
            str(tmp_path / side.name)
        )
    )
