"""``ArtifactType``, ``ArtifactCollection`` and the listings' paging members as the SDK has
them: the same calls through ``wandb`` and through our client, on one server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.harness import Pair
from tests.conformance.versions import log_one_per_side
from tests.support import ENTITY

PROJECT = "conf-collections"
DATA = f"{ENTITY}/{PROJECT}/data"


@pytest.fixture(scope="module")
def world(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``data:v0..v2`` (``v2`` tagged ``best``, the collection tagged ``gold``, described), and
    ``data:v0`` linked into the portfolio ``picked``."""
    folder: Path = tmp_path_factory.mktemp("collection-data")
    run = pair.ours.api.create_run(project=PROJECT)
    for index in range(3):
        (folder / "a.txt").write_text(f"version {index}\n")
        draft = pair.ours.Artifact("data", "dataset")
        draft.add_file(str(folder / "a.txt"))
        run.log_artifact(draft, aliases=["best"] if index == 2 else None)
    run.finish()
    pair.ours.api.artifact(f"{DATA}:v0").link(f"{ENTITY}/{PROJECT}/picked")
    collection = pair.ours.api.artifact_collection("dataset", DATA)
    collection.description = "three versions"
    collection.tags = ["gold"]
    collection.save()
    return {}


def _pick(side, pair_of):
    return pair_of[0] if side.is_sdk else pair_of[1]


COLLECTION_FIELDS = ["id", "name", "description", "tags", "type", "created_at"]


@pytest.mark.conformance(
    "Api.artifact_collection",
    *(f"ArtifactCollection.{field}" for field in COLLECTION_FIELDS),
    "ArtifactCollection.is_sequence",
    "ArtifactCollection.aliases",
)
def test_collection_fields(pair: Pair, world: dict):
    found = pair.each(lambda side: side.api.artifact_collection("dataset", DATA))
    for field in COLLECTION_FIELDS:
        pair.check(lambda side, field=field: getattr(_pick(side, found), field))
    pair.check(lambda side: _pick(side, found).is_sequence())
    pair.check(lambda side: sorted(_pick(side, found).aliases))
    pair.check(
        lambda side: side.api.artifact_collection(
            "dataset", f"{ENTITY}/{PROJECT}/picked"
        ).is_sequence()
    )


@pytest.mark.conformance("ArtifactCollection.artifacts")
def test_collection_versions(pair: Pair, world: dict):
    pair.check(
        lambda side: [
            a.version for a in side.api.artifact_collection("dataset", DATA).artifacts(per_page=2)
        ]
    )


@pytest.mark.conformance("Api.artifact_collection_exists")
def test_collection_exists(pair: Pair, world: dict):
    assert pair.check(lambda side: side.api.artifact_collection_exists(DATA, "dataset")) == (
        True,
        True,
    )
    pair.check(lambda side: side.api.artifact_collection_exists(f"{DATA}-nope", "dataset"))
    pair.check(lambda side: side.api.artifact_collection_exists(DATA, "model"))


@pytest.mark.conformance(
    "Api.artifact_type",
    "ArtifactType",
    "ArtifactType.id",
    "ArtifactType.name",
    "ArtifactType.collections",
    "ArtifactType.collection",
)
def test_artifact_type(pair: Pair, world: dict):
    project = f"{ENTITY}/{PROJECT}"
    pair.check(lambda side: side.api.artifact_type("dataset", project).name)
    pair.check(lambda side: side.api.artifact_type("dataset", project).id)
    pair.check(
        lambda side: sorted(
            c.name for c in side.api.artifact_type("dataset", project).collections()
        )
    )
    pair.check(lambda side: side.api.artifact_type("dataset", project).collection("data").name)
    pair.check(lambda side: side.api.artifact_type("no-such-type", project))


@pytest.mark.conformance(
    "Api.artifact_versions",
    "Api.artifacts",
    "Artifacts.cursor",
    "Artifacts.more",
    "ArtifactCollections.cursor",
    "ArtifactCollections.more",
    "ArtifactTypes.cursor",
    "ArtifactTypes.more",
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_paging_members(pair: Pair, world: dict):
    pair.check(lambda side: [a.version for a in side.api.artifact_versions("dataset", DATA)])

    def resumed(side):
        first = side.api.artifacts("dataset", DATA, per_page=1)
        head = [first[0].version, first.more, first.cursor is not None]
        rest = side.api.artifacts("dataset", DATA, per_page=1, start=first.cursor)
        return head + [[a.version for a in rest]]

    # As the SDK's, first[0] loads one page past the item: the resumed listing starts at v0.
    pair.check(resumed)
    pair.check(
        lambda side: [
            (lambda listing: [next(listing).name, listing.more])(
                side.api.artifact_types(f"{ENTITY}/{PROJECT}")
            )
        ]
    )
    pair.check(
        lambda side: (lambda listing: [listing.cursor, len(listing), listing.more])(
            side.api.artifact_collections(f"{ENTITY}/{PROJECT}", "dataset")
        )[1:]
    )


@pytest.mark.conformance("Api.projects", "Api.flush")
def test_projects_and_flush(pair: Pair, world: dict):
    pair.check(lambda side: PROJECT in [p.name for p in side.api.projects(ENTITY)])
    pair.check(lambda side: side.api.projects(ENTITY) is side.api.projects(ENTITY))

    def flushed(side):
        before = side.api.runs(f"{ENTITY}/{PROJECT}")
        side.api.flush()
        return before is side.api.runs(f"{ENTITY}/{PROJECT}")

    assert pair.check(flushed) == (False, False)


@pytest.mark.conformance(
    "ArtifactFiles.cursor", "ArtifactFiles.more", "RunArtifacts.cursor", "RunArtifacts.more"
)
def test_paging_members_of_files_and_run_artifacts(pair: Pair, world: dict):
    def files(side):
        listing = side.api.artifact(f"{DATA}:v0").files(per_page=1)
        before = [listing.more, listing.cursor]
        names = [f.name for f in listing]
        return before + [names, listing.more, listing.cursor is not None]

    pair.check(files)

    def logged(side):
        run = next(side.api.runs(f"{ENTITY}/{PROJECT}"))
        listing = run.logged_artifacts(per_page=2)
        first = next(listing)
        return [first.version, listing.more, listing.cursor is not None, len(list(listing))]

    pair.check(logged)


@pytest.mark.conformance("ArtifactCollection.change_type", "ArtifactCollection.delete")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_change_type_and_delete(pair: Pair, world: dict, tmp_path: Path):
    """Each side changes the type of a collection of its own, then deletes it."""
    log_one_per_side(pair, PROJECT, "doomed", tmp_path)

    def change_then_delete(side):
        path = f"{ENTITY}/{PROJECT}/doomed-{side.name}"
        collection = side.api.artifact_collection("dataset", path)
        collection.change_type("model")
        moved = [collection.type, side.api.artifact(f"{path}:v0").type]
        collection.delete()
        return moved + [side.api.artifact_collection_exists(path, "model")]

    assert pair.check(change_then_delete)[1] == ["model", "model", False]


def test_project_collections(pair: Pair, world: dict):
    """``Project.collections()``: every collection of the project, whatever its type."""

    def names(side, **kwargs):
        found = side.api.project(PROJECT, ENTITY).collections(per_page=1, **kwargs)
        return [len(found), sorted(c.name for c in found)]

    sdk, ours = pair.check(names)
    assert {"data", "picked"} <= set(ours[1])
    pair.check(lambda side: names(side, filters={"name": "data"}))
    pair.check(lambda side: list(side.api.project("no-such-project", ENTITY).collections()))
