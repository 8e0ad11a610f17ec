"""``Api``, ``Project``, ``User`` and ``Run`` as the SDK has them: the same calls through ``wandb``
and through our client, on one server."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.conformance.harness import Pair, outcome
from tests.conformance.versions import log_one_per_side
from tests.support import ENTITY

PROJECT = "conf-api"
DATA = f"{ENTITY}/{PROJECT}/ds"


@pytest.fixture(scope="module")
def world(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A run of our client (tags, display name, config) that logged ``ds:v0`` and ``ds:v1``,
    and ``ds:v0`` linked into the portfolio ``chosen``."""
    folder: Path = tmp_path_factory.mktemp("api-data")
    run = pair.ours.api.create_run(
        project=PROJECT,
        display_name="the run",
        tags=["nightly"],
        group="g",
        job_type="train",
        config={"lr": 0.1},
    )
    for index in range(2):
        (folder / "a.txt").write_text(f"version {index}\n")
        draft = pair.ours.Artifact("ds", "dataset")
        draft.add_file(str(folder / "a.txt"))
        run.log_artifact(draft)
    run.finish()
    pair.ours.api.artifact(f"{DATA}:v0").link(f"{ENTITY}/{PROJECT}/chosen")
    return {"run": run.id}


def test_api_takes_overrides_timeout_and_key_in_the_sdks_order(pair: Pair, conformance_server):
    overrides = {"base_url": conformance_server.base_url, "entity": ENTITY, "run": "abc"}

    def make(side):
        api = type(side.api)(dict(overrides), 30, conformance_server.api_key)
        return [api.settings[key] for key in ("base_url", "entity", "run")]

    pair.check(make)


@pytest.mark.conformance("Api.api_key", "Api.user_agent", "Api.default_entity")
def test_api_key_user_agent_and_default_entity(pair: Pair, conformance_server):
    pair.check(lambda side: side.api.api_key == conformance_server.api_key)
    pair.check(lambda side: isinstance(side.api.user_agent, str) and bool(side.api.user_agent))
    # The viewer's entity, whatever overrides["entity"] says.
    pair.check(lambda side: side.api.default_entity)


@pytest.mark.conformance("Api.viewer")
def test_viewer_is_a_user(pair: Pair):
    pair.check(lambda side: [side.api.viewer.entity, side.api.viewer.username])
    pair.check(lambda side: type(side.api.viewer).__name__)


@pytest.mark.conformance("Api.artifact_exists")
def test_artifact_exists_of_another_type_is_false(pair: Pair, world: dict):
    assert pair.check(lambda side: side.api.artifact_exists(f"{DATA}:v0", "model")) == (
        False,
        False,
    )
    assert pair.check(lambda side: side.api.artifact_exists(f"{DATA}:v0", "dataset")) == (
        True,
        True,
    )


def _path(found) -> list[str]:
    return list(found.path)


@pytest.mark.conformance("Api.from_path")
@pytest.mark.parametrize(
    "path",
    [
        "{project}",
        "{entity}/{project}",
        "{entity}/{project}/{run}",
        "/{entity}/{project}/runs/{run}/",
    ],
)
def test_from_path_accepts_projects_and_runs(pair: Pair, world: dict, path: str):
    named = path.format(entity=ENTITY, project=PROJECT, run=world["run"])
    pair.check(lambda side: type(side.api.from_path(named)).__name__)
    pair.check(lambda side: side.api.from_path(named), key=_path)


@pytest.mark.conformance("Api.from_path")
@pytest.mark.parametrize(
    "path",
    ["{entity}/{project}/artifacts/dataset/ds/v0", "{entity}/{project}/nothing/{run}", "a/b/c/d/e"],
)
def test_from_path_refuses_what_the_sdk_refuses(pair: Pair, world: dict, path: str):
    """The SDK raises ``wandb.Error``; ours an ``InvalidInputError`` (README, differences)."""
    named = path.format(entity=ENTITY, project=PROJECT, run=world["run"])
    sdk, ours = pair.run(lambda side: side.api.from_path(named))
    assert sdk.error is not None and ours.error is not None, (sdk, ours)


@pytest.mark.conformance("Api.project")
def test_project_is_lazy_with_a_list_path(pair: Pair, world: dict):
    pair.check(lambda side: side.api.project(PROJECT).path)
    pair.check(lambda side: side.api.project(PROJECT).id)
    pair.check(lambda side: [t.name for t in side.api.project(PROJECT).artifacts_types()])
    # A missing project is only found missing once a field is read.
    pair.check(lambda side: side.api.project("no-such-project").path)
    pair.check(lambda side: side.api.project("no-such-project").id)


RUN_FIELDS = [
    "id",
    "name",
    "display_name",
    "tags",
    "created_at",
    "heartbeat_at",
    "history_keys",
    "history_line_count",
    "path",
    "state",
    "group",
    "job_type",
    "config",
    "entity",
    "project",
    "storage_id",
    "sweep_name",
    "notes",
    "description",
    "commit",
    "read_only",
    "summary_metrics",
]


@pytest.mark.conformance("Api.run")
def test_run_fields(pair: Pair, world: dict):
    runs = pair.each(lambda side: side.api.run(f"{ENTITY}/{PROJECT}/{world['run']}"))
    for field in RUN_FIELDS:
        pair.check(lambda side, field=field: getattr(runs[side.is_sdk is False], field))
    pair.check(lambda side: dict(runs[side.is_sdk is False].summary))
    pair.check(lambda side: runs[side.is_sdk is False].user.username)
    pair.check(lambda side: runs[side.is_sdk is False].url.rpartition("/")[2])


@pytest.mark.conformance("Api.run")
@pytest.mark.parametrize("path", ["{project}/{run}", "{project}:{run}", "{entity}/{project}:{run}"])
def test_run_paths(pair: Pair, world: dict, path: str):
    named = path.format(entity=ENTITY, project=PROJECT, run=world["run"])
    pair.check(lambda side: side.api.run(named).path)


@pytest.mark.conformance("Api.run")
def test_a_missing_run_raises(pair: Pair, world: dict):
    pair.check(lambda side: side.api.run(f"{ENTITY}/{PROJECT}/no-such-run"))


@pytest.mark.conformance("Api.runs")
def test_runs(pair: Pair, world: dict):
    path = f"{ENTITY}/{PROJECT}"
    pair.check(lambda side: [r.id for r in side.api.runs(path, include_sweeps=True)])
    pair.check(lambda side: len(side.api.runs(path, per_page=1)))
    pair.check(lambda side: next(side.api.runs(path)).id)
    pair.check(lambda side: list(side.api.runs(f"{ENTITY}/no-such-project")))


# Listings -------------------------------------------------------------------------------------

LISTINGS = {
    "ArtifactTypes": lambda api: api.artifact_types(f"{ENTITY}/{PROJECT}"),
    "ArtifactCollections": lambda api: api.artifact_collections(f"{ENTITY}/{PROJECT}", "dataset"),
    "Artifacts": lambda api: api.artifacts("dataset", DATA, per_page=1),
    "RunArtifacts": lambda api: next(api.runs(f"{ENTITY}/{PROJECT}")).logged_artifacts(per_page=1),
    "ArtifactFiles": lambda api: api.artifact(f"{DATA}:v0").files(per_page=1),
    "Projects": lambda api: api.projects(ENTITY, per_page=1),
    "Runs": lambda api: api.runs(f"{ENTITY}/{PROJECT}", per_page=1),
}


def _listing_case(name: str) -> object:
    seed = {"Projects": "Api.projects", "Runs": "Api.runs"}.get(name, name)
    return pytest.param(name, marks=pytest.mark.conformance(seed), id=name)


def _described(item) -> str:
    """An item of a listing by what both sides show alike."""
    for field in ("qualified_name", "name", "id"):
        if isinstance(getattr(type(item), field, None), property) or hasattr(item, field):
            value = getattr(item, field)
            return value if isinstance(value, str) else str(value)
    return repr(item)


@pytest.mark.parametrize("name", [_listing_case(name) for name in LISTINGS])
def test_listings_are_iterators_indexed_and_sized_as_the_sdks(pair: Pair, world: dict, name):
    listing = LISTINGS[name]
    pair.check(lambda side: _described(next(listing(side.api))))
    pair.check(lambda side: _described(listing(side.api)[0]))
    pair.check(lambda side: [_described(item) for item in listing(side.api)[0:2]])
    # A negative index counts from what is loaded: nothing yet.
    pair.check(lambda side: _described(listing(side.api)[-1]))
    pair.check(lambda side: listing(side.api)[99])
    # len() where the SDK's listing has one (TypeError where it has none).
    pair.check(lambda side: len(listing(side.api)))

    def twice(side) -> list[list[str]]:
        found = listing(side.api)
        return [[_described(item) for item in found] for _ in range(2)]

    pair.check(twice)


MISSING = {
    "types of a missing project": lambda api: api.artifact_types(f"{ENTITY}/no-such-project"),
    "collections of a missing type": lambda api: api.artifact_collections(
        f"{ENTITY}/{PROJECT}", "no-such-type"
    ),
    "collections of a missing project": lambda api: api.artifact_collections(
        f"{ENTITY}/no-such-project", "dataset"
    ),
    "versions of a missing collection": lambda api: api.artifacts(
        "dataset", f"{ENTITY}/{PROJECT}/no-such-collection"
    ),
    "versions of a missing type": lambda api: api.artifacts("no-such-type", DATA),
    "versions of a missing project": lambda api: api.artifacts(
        "dataset", f"{ENTITY}/no-such-project/ds"
    ),
    "runs of a missing project": lambda api: api.runs(f"{ENTITY}/no-such-project"),
}


@pytest.mark.conformance(
    "Api.artifact_types", "Api.artifact_collections", "Api.artifacts", "Api.runs"
)
@pytest.mark.parametrize("case", list(MISSING))
def test_listings_of_what_is_missing_raise(pair: Pair, world: dict, case: str):
    pair.check(lambda side: list(MISSING[case](side.api)))


FILE_FIELDS = ["name", "size", "mimetype", "digest", "md5", "id", "storage_path"]


def test_file_fields(pair: Pair, world: dict):
    files = pair.each(lambda side: next(side.api.artifact(f"{DATA}:v0").files()))
    for field in FILE_FIELDS:
        pair.check(lambda side, field=field: getattr(files[side.is_sdk is False], field))
    # Signed URLs differ by signature: compared by where they point.
    for field in ("path_uri", "url", "direct_url"):
        pair.check(
            lambda side, field=field: getattr(files[side.is_sdk is False], field).split("?")[0]
        )
    pair.check(lambda side: type(files[side.is_sdk is False].updated_at).__name__)


# Collections ----------------------------------------------------------------------------------


def _client(side):
    """What the SDK's objects take first: its internal service API; ours: our Api."""
    return side.api._service_api if side.is_sdk else side.api


@pytest.mark.conformance("ArtifactCollection.__init__", "ArtifactCollection")
def test_collection_made_as_the_sdk_makes_it(pair: Pair, world: dict):
    def make(side, name="ds", kind="dataset"):
        from_module = type(side.api.artifact_collection("dataset", DATA))
        found = from_module(_client(side), ENTITY, PROJECT, name, kind)
        return [found.name, found.type, found.entity, found.project, found.organization]

    pair.check(make)
    pair.check(lambda side: make(side, "no-such-collection"))


@pytest.mark.conformance("ArtifactCollection.type", "ArtifactCollection.save")
def test_collection_type_is_settable_on_a_sequence(pair: Pair, world: dict):
    def portfolio_type(side):
        portfolio = side.api.artifact_collection("dataset", f"{ENTITY}/{PROJECT}/chosen")
        portfolio.type = "model"

    pair.check(portfolio_type)

    def unsaved(side):
        sequence = side.api.artifact_collection("dataset", DATA)
        sequence.type = "model"
        return [sequence.type, side.api.artifact_collection("dataset", DATA).type]

    pair.check(unsaved)


def test_collection_type_saved(pair: Pair, tmp_path: Path):
    """Each side moves a collection of its own to another type with ``save()``."""
    log_one_per_side(pair, PROJECT, "moved", tmp_path)

    def move(side):
        path = f"{ENTITY}/{PROJECT}/moved-{side.name}"
        collection = side.api.artifact_collection("dataset", path)
        collection.type = "model"
        collection.save()
        return [collection.type, side.api.artifact(f"{path}:v0").type]

    assert pair.check(move)[1] == ["model", "model"]


def test_outcome_of_a_listing_is_not_loaded_before_use(pair: Pair):
    """Making a listing asks the server nothing (the SDK's are lazy): a missing project only
    raises once the listing is read."""
    assert outcome(lambda: pair.ours.api.artifact_types(f"{ENTITY}/no-such-project")).error is None


def test_a_key_passed_first_is_a_clear_type_error(conformance_server):
    """Code written for the old ``Api(api_key, overrides)`` fails saying what to do."""
    from dagster_wandb_artifacts.client import Api

    with pytest.raises(TypeError, match="api_key="):
        Api(conformance_server.api_key, {"base_url": conformance_server.base_url})


@pytest.mark.conformance("ArtifactFiles.path")
def test_files_listing_path(pair: Pair, world: dict):
    pair.check(lambda side: side.api.artifact(f"{DATA}:v1").files().path)


# Artifacts, projects, runs and registries made and read --------------------------------------

_fresh = itertools.count()


@pytest.mark.conformance("Api.artifact")
def test_artifact_by_name_alias_and_type(pair: Pair, world: dict):
    pair.check(lambda side: side.api.artifact(f"{DATA}:v0").qualified_name)
    pair.check(lambda side: side.api.artifact(f"{DATA}:latest").version)
    pair.check(lambda side: side.api.artifact(f"{PROJECT}/ds:v1").qualified_name)
    pair.check(lambda side: side.api.artifact(f"{DATA}:v0", type="dataset").type)
    pair.check(lambda side: side.api.artifact(f"{DATA}:v0", type="model"))
    pair.check(lambda side: side.api.artifact(f"{DATA}:v9"))


@pytest.mark.conformance("ArtifactCollection.load")
def test_collection_load(pair: Pair, world: dict):
    def collection(side):
        found = side.api.artifact_collection("dataset", DATA)
        # What load() returns is the SDK's internal GraphQL fragment: compared by its name.
        loaded = found.load(ENTITY, PROJECT, "dataset", "ds")
        name = loaded["name"] if isinstance(loaded, dict) else loaded.name
        return [name, found.name]

    pair.check(collection)
    pair.check(
        lambda side: side.api.artifact_collection("dataset", DATA).load(
            ENTITY, PROJECT, "dataset", "no-such-collection"
        )
    )


@pytest.mark.conformance("ArtifactType.load")
def test_type_load(pair: Pair, world: dict):
    def artifact_type(side):
        found = side.api.artifact_type("dataset", f"{ENTITY}/{PROJECT}")
        # What load() returns is the SDK's internal GraphQL fragment: compared by being there.
        return [found.load() is not None, found.name]

    pair.check(artifact_type)


@pytest.mark.conformance("Api.create_project", "Api.create_run")
def test_create_project_and_run(pair: Pair):
    def project(side):
        name = f"made-{side.name}-{next(_fresh)}"
        made = side.api.create_project(name, ENTITY)
        return [made is None, name in [p.name for p in side.api.projects(ENTITY)]]

    pair.check(project)

    def run(side):
        made = side.api.create_run(project=f"runs-{side.name}", entity=ENTITY)
        found = side.api.run(f"{ENTITY}/runs-{side.name}/{made.id}")
        return [type(made).__name__, found.id == made.id, made.entity, made.project[:5]]

    pair.check(run)


@pytest.mark.conformance("Api.create_registry", "Api.registry", "Api.registries")
def test_registries(pair: Pair):
    def made(side):
        name = f"reg-{side.name}"
        created = side.api.create_registry(name, "organization", description="shared models")
        fetched = side.api.registry(name)
        return [type(created).__name__, created.name == name, fetched.description]

    pair.check(made)
    pair.check(lambda side: side.api.registry(f"reg-{side.name}-nope"))
    pair.check(
        lambda side: (
            sorted(r.name for r in side.api.registries() if r.name in ("reg-sdk", "reg-ours"))
            + [side.api.registry(f"reg-{side.name}").visibility]
        )
    )


PAGE_HELPERS = {
    "ArtifactTypes": ("convert_objects", "update_variables"),
    "ArtifactCollections": ("convert_objects", "update_variables"),
    "ArtifactFiles": ("convert_objects", "update_variables"),
    "Artifacts": ("convert_objects",),
    "RunArtifacts": ("convert_objects",),
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.conformance(*(f"{name}.{helper}" for helper in helpers)),
            id=name,
        )
        for name, helpers in PAGE_HELPERS.items()
    ],
)
def test_page_helpers_after_one_page(pair: Pair, world: dict, name: str):
    """Internal helpers of the SDK's paginators, checked by what they give after one page is
    loaded: the page's objects again, and the variables of the next page's query."""
    listing = LISTINGS[name]

    def converted(side):
        found = listing(side.api)
        next(found)
        return [_described(item) for item in found.convert_objects()]

    pair.check(converted)
    if "update_variables" in PAGE_HELPERS[name]:

        def variables(side):
            found = listing(side.api)
            next(found)
            found.update_variables()
            return [found.variables["perPage"], found.variables["cursor"] == found.cursor]

        pair.check(variables)
