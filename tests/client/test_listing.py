"""Paginators, types and collections, run filters; the real SDK lists the same things."""

from __future__ import annotations

import pytest

from dagster_wandb_artifacts.client import Artifact, InvalidInputError, NotFoundError
from dagster_wandb_artifacts.client.paginators import Artifacts, ArtifactTypes, Runs
from tests.support import sdk_api


def log_text(api, name: str, text: str, type_name: str = "dataset", **run_fields):
    run = api.create_run(**run_fields)
    artifact = Artifact(name, type_name)
    with artifact.new_file("f.txt") as file:
        file.write(text)
    logged = run.log_artifact(artifact)
    run.finish()
    return logged, run


def test_versions_page_by_two_with_cursors_and_resume(api):
    for i in range(5):
        log_text(api, "paged", f"version {i}")
    versions = api.artifacts("dataset", "paged", per_page=2)
    assert len(versions) == 5 and versions.length == 5
    assert [a.version for a in versions] == ["v4", "v3", "v2", "v1", "v0"]
    assert versions[4].version == "v0" and not versions.more

    first_page = api.artifacts("dataset", "paged", per_page=2)
    # As the SDK's, a slice loads one page past its end: first_page[:1] loads one page.
    assert [a.version for a in first_page[:1]] == ["v4"]
    assert first_page.more and first_page.cursor
    resumed = Artifacts(api, "ent", "proj", "paged", "dataset", per_page=2)
    resumed.cursor = first_page.cursor
    assert [a.version for a in resumed] == ["v2", "v1", "v0"]
    assert api.artifact_versions("dataset", "paged")[0].version == "v4"


def test_types_collections_and_their_edits(api):
    for i in range(5):
        log_text(api, f"coll-{i}", str(i))
    log_text(api, "weights", "w", type_name="model")
    types = api.artifact_types("ent/proj")
    assert isinstance(types, ArtifactTypes)
    assert sorted(t.name for t in types) == ["dataset", "model"]
    dataset = api.artifact_type("dataset", "proj")
    assert dataset.name == "dataset" and dataset.id
    collections = api.artifact_collections("proj", "dataset", per_page=2)
    assert [c.name for c in collections] == [f"coll-{i}" for i in range(5)]
    assert len(collections) == 5
    assert [c.name for c in dataset.collections(per_page=2)][-1] == "coll-4"

    collection = api.artifact_collection("dataset", "coll-0")
    assert collection.is_sequence() and collection.type == "dataset"
    assert collection.aliases == ["latest"]  # W&B leaves out the vN aliases
    assert [a.version for a in collection.artifacts()] == ["v0"]
    collection.description = "described"
    collection.tags = ["gold"]
    collection.name = "renamed"
    collection.save()
    fetched = api.artifact_collection("dataset", "renamed")
    assert (fetched.description, fetched.tags) == ("described", ["gold"])
    assert not api.artifact_collection_exists("coll-0", "dataset")
    fetched.tags = []
    fetched.save()
    assert api.artifact_collection("dataset", "renamed").tags == []
    fetched.change_type("model")
    assert api.artifact("renamed:latest").type == "model"
    assert api.artifact_collection_exists("renamed", "model")
    fetched.delete()
    assert not api.artifact_collection_exists("renamed", "model")
    with pytest.raises(NotFoundError):
        api.artifact("renamed:latest")
    with pytest.raises(NotFoundError):
        api.artifact_type("nope", "proj")


def test_run_filters_every_operator_and_orders(api):
    for i in range(6):
        run = api.create_run(
            run_id=f"run-{i}",
            group="even" if i % 2 == 0 else "odd",
            job_type="train",
            config={"lr": 0.1 * (i + 1), "arch": "cnn" if i < 3 else "mlp"},
            tags=["nightly"] if i % 3 == 0 else [],
        )
        url = f"{api.base_url}/files/ent/proj/{run.id}/file_stream"
        api.client.request(
            "POST",
            url,
            authenticated=True,
            json={
                "files": {"wandb-summary.json": {"offset": 0, "content": [f'{{"loss": {10 - i}}}']}}
            },
        )
        run.finish(exit_code=1 if i == 5 else 0)

    def ids(filters=None, order="+created_at", per_page=2) -> list[str]:
        runs = api.runs("ent/proj", filters=filters, order=order, per_page=per_page)
        assert isinstance(runs, Runs)
        return [run.id for run in runs]

    assert ids() == [f"run-{i}" for i in range(6)]
    assert len(api.runs("ent/proj", per_page=2)) == 6
    assert ids(order="-created_at")[0] == "run-5"
    assert ids(order="+summary_metrics.loss")[0] == "run-5"
    cases = {
        "eq": ({"group": {"$eq": "even"}}, ["run-0", "run-2", "run-4"]),
        "plain": ({"group": "odd"}, ["run-1", "run-3", "run-5"]),
        "ne": ({"state": {"$ne": "finished"}}, ["run-5"]),
        "gt": ({"config.lr": {"$gt": 0.45}}, ["run-4", "run-5"]),
        "gte": ({"summary_metrics.loss": {"$gte": 9}}, ["run-0", "run-1"]),
        "lt": ({"summary_metrics.loss": {"$lt": 6}}, ["run-5"]),
        "lte": ({"config.lr.value": {"$lte": 0.15}}, ["run-0"]),
        "in": ({"config.arch": {"$in": ["mlp"]}}, ["run-3", "run-4", "run-5"]),
        "nin": ({"name": {"$nin": ["run-0", "run-1", "run-2", "run-3"]}}, ["run-4", "run-5"]),
        "exists": ({"config.missing": {"$exists": False}, "tags": "nightly"}, ["run-0", "run-3"]),
        "regex": ({"name": {"$regex": "^run-[12]$"}}, ["run-1", "run-2"]),
        "and": ({"$and": [{"group": "even"}, {"config.arch": "cnn"}]}, ["run-0", "run-2"]),
        "or": ({"$or": [{"name": "run-0"}, {"state": "crashed"}]}, ["run-0", "run-5"]),
        "nor": ({"$nor": [{"group": "even"}, {"name": "run-1"}]}, ["run-3", "run-5"]),
    }
    for label, (filters, expected) in cases.items():
        assert ids(filters) == expected, label
    with pytest.raises(Exception, match="unsupported operator"):
        ids({"name": {"$near": 1}})


def test_run_artifacts_files_projects_and_from_path(api):
    logged, producer = log_text(api, "produced", "x", job_type="make")
    consumer = api.create_run(job_type="use")
    consumer.use_artifact("produced:latest")
    consumer.finish()
    assert [a.name for a in api.run(f"ent/proj/{producer.id}").logged_artifacts()] == [
        "produced:v0"
    ]
    assert [a.name for a in consumer.used_artifacts()] == ["produced:v0"]
    assert [f.name for f in logged.files(per_page=1)] == ["f.txt"]
    assert [p.name for p in api.projects()] == ["proj"]
    assert api.from_path(f"ent/proj/runs/{consumer.id}").job_type == "use"
    assert api.from_path("ent/proj").path == ["ent", "proj"]
    for refused in ("ent/proj/artifacts/dataset/produced/v0", "http://host/ent/proj/runs/x"):
        with pytest.raises(InvalidInputError):
            api.from_path(refused)


def test_the_sdk_lists_what_our_client_lists(api, server, wandb_home):
    for i in range(3):
        log_text(api, f"listed-{i}", "a")
        log_text(api, "listed-0", f"again {i}")
    sdk = sdk_api(server)
    assert sorted(t.name for t in sdk.artifact_types("ent/proj")) == sorted(
        t.name for t in api.artifact_types("ent/proj")
    )
    assert [c.name for c in sdk.artifact_collections("ent/proj", "dataset")] == [
        c.name for c in api.artifact_collections("ent/proj", "dataset")
    ]
    assert [a.version for a in sdk.artifacts("dataset", "ent/proj/listed-0")] == [
        a.version for a in api.artifacts("dataset", "ent/proj/listed-0")
    ]
    assert sorted(r.id for r in sdk.runs("ent/proj")) == sorted(r.id for r in api.runs("ent/proj"))
    assert [
        r.id for r in sdk.runs("ent/proj", filters={"state": "finished"}, order="+created_at")
    ] == [r.id for r in api.runs("ent/proj", filters={"state": "finished"})]
    assert sorted(sdk.artifact_collection("dataset", "ent/proj/listed-0").aliases) == sorted(
        api.artifact_collection("dataset", "ent/proj/listed-0").aliases
    )
