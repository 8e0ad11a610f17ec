"""The Registry: create, edit, rename and delete registries; search registries, collections
and versions with filters, orders and cursors; the real SDK sees the same."""

from __future__ import annotations

from itertools import islice

import pytest

from dagster_wandb_artifacts.client import Artifact, InvalidInputError, NotFoundError
from dagster_wandb_artifacts.client.registries import Registries
from tests.support import sdk_api


def log(api, name: str, type_name: str, text: str, **fields):
    run = api.create_run()
    artifact = Artifact(name, type_name, metadata=fields.pop("metadata", None))
    with artifact.new_file("f.txt") as file:
        file.write(text)
    logged = run.log_artifact(artifact, tags=fields.pop("tags", []))
    run.finish()
    return logged


def test_create_edit_rename_delete(api, server):
    registry = api.create_registry(
        "models", "organization", description="first", artifact_types=["model"]
    )
    assert registry.full_name == "wandb-registry-models" and registry.entity == server.entity
    assert registry.artifact_types == ["model"] and not registry.allow_all_artifact_types
    assert registry.visibility == "organization" and registry.description == "first"

    with pytest.raises(InvalidInputError, match="already exists"):
        api.create_registry("models", "organization")
    # The refused creation left the existing registry as it was (no type opened up).
    unchanged = api.registry("models")
    assert unchanged.artifact_types == ["model"] and not unchanged.allow_all_artifact_types
    for bad in (
        lambda: api.create_registry("bad/name", "organization"),
        lambda: api.create_registry("fine", "public"),
        lambda: api.create_registry("fine", "organization", artifact_types=["a:b"]),
    ):
        with pytest.raises(InvalidInputError):
            bad()
    assert [r.name for r in api.registries()] == ["models"]

    registry.description = "second"
    registry.visibility = "restricted"
    registry.artifact_types.append("checkpoint")
    registry.save()
    loaded = api.registry("models")
    assert loaded.description == "second" and loaded.visibility == "restricted"
    assert sorted(loaded.artifact_types) == ["checkpoint", "model"]
    loaded.artifact_types.remove("model")
    with pytest.raises(InvalidInputError, match="cannot be removed"):
        loaded.save()

    model = log(api, "detector", "model", "weights")
    dataset = log(api, "images", "dataset", "pixels")
    linked = model.link("wandb-registry-models/detector", aliases=["best"])
    assert linked.version == "v0" and linked.source_name == "detector:v0"
    with pytest.raises(Exception, match="does not accept artifacts of type 'dataset'"):
        dataset.link("wandb-registry-models/images")

    registry.name = "prod-models"
    registry.save()
    assert api.registry("prod-models").id == registry.id
    with pytest.raises(NotFoundError):
        api.registry("models")
    assert api.artifact("wandb-registry-prod-models/detector:best").digest == model.digest

    registry.delete()
    assert list(api.registries()) == []
    assert api.artifact("ent/proj/detector:v0").linked_artifacts == []


@pytest.fixture
def catalog(api):
    """Five registries; ``r0`` holds five collections; ``r0/c0`` holds five versions."""
    for i in range(5):
        api.create_registry(f"r{i}", "organization", description=f"number {i}" if i else None)
    api.create_registry("other", "restricted")
    for i in range(5):
        source = log(api, f"src-{i}", "model", f"collection {i}", tags=["gold"] if i % 2 else [])
        source.link(f"wandb-registry-r0/c{i}")
    api.artifact_collection("model", "wandb-registry-r0/c3").tags = ["prod"]
    collection = api.artifact_collection("model", "wandb-registry-r0/c3")
    collection.tags = ["prod"]
    collection.save()
    for i in range(5):
        version = log(
            api,
            "weights",
            "model",
            "x" * (10 + i),
            metadata={"acc": i / 10, "stage": "late" if i > 2 else "early"},
            tags=["prod"] if i == 1 else [],
        )
        version.link("wandb-registry-r0/c0", aliases=["best"] if i == 3 else [])
    log(api, "stranger", "model", "s").link("wandb-registry-r1/elsewhere")
    return api


def test_registries_page_filter_order_and_resume(catalog):
    api = catalog
    found = api.registries(filter={"name": {"$regex": "registry-r"}}, per_page=2)
    assert isinstance(found, Registries)
    assert [r.name for r in found] == ["r0", "r1", "r2", "r3", "r4"]

    first = api.registries(per_page=2, order="name")
    assert [r.name for r in islice(first, 2)] == ["other", "r0"] and first.more
    resumed = api.registries(per_page=2, order="name", start=first.cursor)
    assert [r.name for r in resumed] == ["r1", "r2", "r3", "r4"]

    def names(**kwargs):
        return [r.name for r in api.registries(**kwargs)]

    assert names(filter={"name": "r1"}) == ["r1"]
    assert names(filter={"name": {"$in": ["r2", "r3"]}}) == ["r2", "r3"]
    assert names(filter={"name": {"$nin": ["r2", "r3"]}, "description": {"$exists": True}}) == [
        "r1",
        "r4",
    ]
    assert names(filter={"$nor": [{"name": "other"}, {"name": "r0"}]}, order="-name") == [
        "r4",
        "r3",
        "r2",
        "r1",
    ]
    assert names(filter={"description": {"$regex": "^number [34]$"}}) == ["r3", "r4"]
    assert api.registry("other").visibility == "restricted"

    with pytest.raises(InvalidInputError, match="cannot filter registries on 'colour'"):
        api.registries(filter={"colour": "red"})
    with pytest.raises(InvalidInputError, match="cannot order by 'size'"):
        api.registries(order="-size")


def test_collections_and_versions_search(catalog):
    api = catalog
    r0 = api.registry("r0")
    collections = r0.collections(per_page=2)
    assert [c.name for c in collections] == ["c0", "c1", "c2", "c3", "c4"]
    assert len(collections) == 5 and collections.length == 5
    first_page = r0.collections(per_page=2)
    assert [c.name for c in islice(first_page, 2)] == ["c0", "c1"] and first_page.more
    resumed = r0.collections(per_page=2, start=first_page.cursor)
    assert [c.name for c in resumed] == ["c2", "c3", "c4"] and not resumed.more
    assert [c.name for c in r0.collections(order="-name")][0] == "c4"
    assert [c.name for c in r0.collections(filter={"tag": "prod"})] == ["c3"]
    assert [c.name for c in r0.collections(filter={"name": {"$regex": "c[12]"}})] == ["c1", "c2"]
    every = api.registries().collections(per_page=2)
    assert sorted(c.name for c in every) == ["c0", "c1", "c2", "c3", "c4", "elsewhere"]
    chained = api.registries(filter={"name": "r0"}).collections(filter={"name": "c0"}).versions()
    assert [a.version for a in chained] == ["v5", "v4", "v3", "v2", "v1", "v0"]

    c0 = api.registries(filter={"name": "r0"}).collections(filter={"name": "c0"})
    versions = c0.versions(per_page=2)
    first = list(islice(versions, 2))
    assert [a.version for a in first] == ["v5", "v4"]
    assert all(a.project == "wandb-registry-r0" and a.is_link for a in first)
    assert first[0].source_name.startswith("weights:")
    resumed = c0.versions(per_page=2, start=versions.cursor)
    assert [a.version for a in resumed] == ["v3", "v2", "v1", "v0"]

    def versions_of(registry_filter=None, **kwargs):
        found = api.registries(filter=registry_filter).versions(**kwargs)
        return sorted(f"{a.collection_name}:{a.version}" for a in found)

    r0_only = {"name": "r0"}
    assert versions_of(r0_only, filter={"alias": "best"}) == ["c0:v4"]
    assert versions_of(r0_only, filter={"$or": [{"tag": "prod"}, {"alias": "best"}]}) == [
        "c0:v2",
        "c0:v4",
    ]
    assert versions_of(filter={"tag": "gold"}) == ["c1:v0", "c3:v0"]
    metadata_cases = {
        "$eq": (0.2, ["c0:v3"]),
        "$ne": (0.0, ["c0:v2", "c0:v3", "c0:v4", "c0:v5"]),
        "$gt": (0.25, ["c0:v4", "c0:v5"]),
        "$gte": (0.3, ["c0:v4", "c0:v5"]),
        "$lt": (0.1, ["c0:v1"]),
        "$lte": (0.1, ["c0:v1", "c0:v2"]),
        "$in": ([0.0, 0.4], ["c0:v1", "c0:v5"]),
        "$nin": ([0.0, 0.4], ["c0:v2", "c0:v3", "c0:v4"]),
    }
    for operator, (operand, expected) in metadata_cases.items():
        # As in MongoDB, $ne and $nin also match versions without the field.
        condition = {operator: operand, "$exists": True}
        assert versions_of(filter={"metadata.acc": condition}) == expected, operator
    assert versions_of(filter={"metadata.stage": {"$regex": "^la"}}) == ["c0:v4", "c0:v5"]
    assert versions_of(filter={"metadata.acc": {"$exists": False}}) == [
        "c0:v0",
        "c1:v0",
        "c2:v0",
        "c3:v0",
        "c4:v0",
        "elsewhere:v0",
    ]
    assert versions_of(
        filter={"$and": [{"metadata.stage": "late"}, {"metadata.acc": {"$lt": 0.4}}]}
    ) == ["c0:v4"]
    assert versions_of(filter={"version": "v5", "alias": "latest"}) == ["c0:v5"]
    by_size = [
        a.size for a in r0.versions(filter={"metadata.acc": {"$gte": 0}}, order="-artifact_size")
    ]
    assert by_size == sorted(by_size, reverse=True) and len(by_size) == 5
    with pytest.raises(InvalidInputError, match="cannot filter versions on 'colour'"):
        r0.versions(filter={"colour": 1})


def test_collection_filters_and_orders_outside_the_registry(api):
    for name in ("b", "a", "c"):
        log(api, name, "dataset", name)
    collection = api.artifact_collection("dataset", "b")
    collection.tags = ["keep"]
    collection.save()
    ordered = api.artifact_collections("proj", "dataset", order="-name", per_page=2)
    assert [c.name for c in ordered] == ["c", "b", "a"]
    kept = api.artifact_collections("proj", "dataset", filters={"tag": "keep"})
    assert [c.name for c in kept] == ["b"]
    for i in range(2):
        log(api, "b", "dataset", f"b{i}")
    oldest_first = api.artifacts("dataset", "b", order="+created_at")
    assert [a.version for a in oldest_first] == ["v0", "v1", "v2"]


def test_sdk_sees_the_same_registry(catalog, server):
    api = catalog
    sdk = sdk_api(server)
    ours = [r.name for r in api.registries(filter={"name": {"$regex": "r[0-4]"}})]
    theirs = [r.name for r in sdk.registries(filter={"name": {"$regex": "r[0-4]"}})]
    assert theirs == ours == ["r0", "r1", "r2", "r3", "r4"]

    sdk_r0 = sdk.registry("r0")
    assert sdk_r0.full_name == "wandb-registry-r0" and sdk_r0.visibility == "organization"
    assert [c.name for c in sdk_r0.collections()] == [
        c.name for c in api.registry("r0").collections()
    ]
    assert sorted(f"{a.collection.name}:{a.version}" for a in sdk_r0.versions()) == sorted(
        f"{a.collection_name}:{a.version}" for a in api.registry("r0").versions()
    )
    best = list(sdk.registries().versions(filter={"alias": "best"}))
    assert [(a.version, a.digest) for a in best] == [
        (a.version, a.digest) for a in api.registries().versions(filter={"alias": "best"})
    ]

    made = sdk.create_registry(
        "sdk-made", visibility="restricted", description="by the SDK", artifact_types=["model"]
    )
    assert made.full_name == "wandb-registry-sdk-made"
    mine = api.registry("sdk-made")
    assert (mine.visibility, mine.description, mine.artifact_types) == (
        "restricted",
        "by the SDK",
        ["model"],
    )
    api.create_registry("client-made", "organization", artifact_types=["dataset"])
    theirs = sdk.registry("client-made")
    assert list(theirs.artifact_types) == ["dataset"] and not theirs.allow_all_artifact_types
    theirs.description = "edited by the SDK"
    theirs.save()
    assert api.registry("client-made").description == "edited by the SDK"
