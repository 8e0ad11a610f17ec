"""``Api.artifact``, the ``load`` methods, the ``create_*`` calls, registries and the listings'
page helpers as the SDK has them: the same calls through ``wandb`` and through our client."""

from __future__ import annotations

import itertools

import pytest

from tests.conformance.harness import Pair
from tests.conformance.test_api import DATA, LISTINGS, _described, world  # noqa: F401
from tests.support import ENTITY

PROJECT = "conf-api"
_fresh = itertools.count()


@pytest.mark.conformance("Api.artifact")
def test_artifact_by_name_alias_and_type(pair: Pair, world: dict):  # noqa: F811
    pair.check(lambda side: side.api.artifact(f"{DATA}:v0").qualified_name)
    pair.check(lambda side: side.api.artifact(f"{DATA}:latest").version)
    pair.check(lambda side: side.api.artifact(f"{PROJECT}/ds:v1").qualified_name)
    pair.check(lambda side: side.api.artifact(f"{DATA}:v0", type="dataset").type)
    pair.check(lambda side: side.api.artifact(f"{DATA}:v0", type="model"))
    pair.check(lambda side: side.api.artifact(f"{DATA}:v9"))


@pytest.mark.conformance("ArtifactCollection.load")
@pytest.mark.xfail(
    strict=True,
    reason="the SDK's load(entity, project, type_, name) returns its internal GraphQL fragment; "
    "ours, load(), reloads the collection itself",
)
def test_collection_load(pair: Pair, world: dict):  # noqa: F811
    def collection(side):
        found = side.api.artifact_collection("dataset", DATA)
        return [found.load(ENTITY, PROJECT, "dataset", "ds") is None, found.name]

    pair.check(collection)


@pytest.mark.conformance("ArtifactType.load")
def test_type_load(pair: Pair, world: dict):  # noqa: F811
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
def test_page_helpers_after_one_page(pair: Pair, world: dict, name: str):  # noqa: F811
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
