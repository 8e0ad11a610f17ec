"""The real wandb SDK gets W&B's answers from the embedded server: incremental and distributed
versions merged with their base, paged listings that keep every version once a collection has
links, references among a version's files, W&B's run ids, outputs, aliases, regions and URLs.

Each test drives as much as it can through one or two SDK runs: every SDK process costs
seconds.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support import ENTITY, PROJECT, graphql, sdk_api, sdk_run

pytestmark = pytest.mark.usefixtures("wandb_home", "logged_in")


@pytest.fixture
def logged_in(server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server as `wandb login --host` would set it: older SDKs (0.28) ask their
    process-wide API, not the run's settings, for serverInfo (media in tables) and use_artifact."""
    monkeypatch.setenv("WANDB_BASE_URL", server.base_url)
    monkeypatch.setenv("WANDB_API_KEY", server.api_key)


#: A run id W&B accepts though it is no artifact name (``=``).
RUN_ID = "run-=1234567-seed-0"


def write(root: Path, name: str, text: str) -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def versions_of(listing) -> list[str]:
    return [artifact.version for artifact in listing]


def test_sdk_runs_log_merged_linked_and_referenced_versions(api, server, tmp_path):
    import wandb

    referenced = write(tmp_path / "outside", "ref.txt", "referenced bytes")

    run = sdk_run(server, id=RUN_ID, job_type="build")
    for step in range(3):
        run.log({"loss": 1.0 / (step + 1)})
    run.log({"table": wandb.Table(columns=["a"], data=[[1], [2]])})

    first = wandb.Artifact("ds", "dataset")
    first.add_file(write(tmp_path, "a.txt", "a"))
    first.add_reference(f"file://{referenced}", name="ref.txt")
    run.log_artifact(first)
    first.wait()
    run.link_artifact(first, f"{ENTITY}/{PROJECT}/portfolio")

    second = wandb.Artifact("ds", "dataset", incremental=True)
    second.add_file(write(tmp_path, "b.txt", "b"))
    run.log_artifact(second)
    second.wait()
    run.link_artifact(second, f"{ENTITY}/{PROJECT}/portfolio")

    third = wandb.Artifact("ds", "dataset", incremental=True)
    third.add_file(write(tmp_path, "c.txt", "c"))
    run.log_artifact(third, aliases=["best"])
    third.wait()

    part = wandb.Artifact("shards", "dataset")
    part.add_file(write(tmp_path, "shard-0.txt", "0"))
    run.upsert_artifact(part, distributed_id="shared")
    run.finish()

    # A second writer: the same bytes as v2 (deduplicated), and the distributed version's end.
    other = sdk_run(server, job_type="repeat")
    again = wandb.Artifact("ds", "dataset")
    for name in ("a.txt", "b.txt", "c.txt"):
        again.add_file(str(tmp_path / name))
    again.add_reference(f"file://{referenced}", name="ref.txt")
    other.log_artifact(again)
    again.wait()
    last = wandb.Artifact("shards", "dataset")
    last.add_file(write(tmp_path, "shard-1.txt", "1"))
    other.finish_artifact(last, distributed_id="shared")
    last.wait()
    other_id = other.id
    other.finish()

    sdk = sdk_api(server)
    v2 = sdk.artifact(f"{ENTITY}/{PROJECT}/ds:v2")
    # Incremental versions hold their base's entries with their own.
    assert sorted(v2.manifest.entries) == ["a.txt", "b.txt", "c.txt", "ref.txt"]
    assert v2.digest == again.digest and again.version == "v2"
    assert sorted(sdk.artifact(f"{ENTITY}/{PROJECT}/shards:v0").manifest.entries) == [
        "shard-0.txt",
        "shard-1.txt",
    ]
    # W&B's historyStep is the run's next step; the SDK shows the last logged one.
    assert sdk.artifact(f"{ENTITY}/{PROJECT}/ds:v0").history_step == 3
    # A deduplicated log is among its run's outputs.
    logged = sdk.run(f"{ENTITY}/{PROJECT}/{other_id}").logged_artifacts()
    assert {artifact.name for artifact in logged} == {"ds:v2", "shards:v0"}
    assert sdk.run(f"{ENTITY}/{PROJECT}/{RUN_ID}").id == RUN_ID

    # Paged one at a time, every version is there though links made memberships in between.
    expected = ["v2", "v1", "v0"]
    assert versions_of(sdk.artifacts("dataset", f"{ENTITY}/{PROJECT}/ds", per_page=1)) == expected
    collection = sdk.artifact_collection("dataset", f"{ENTITY}/{PROJECT}/ds")
    assert versions_of(collection.artifacts(per_page=1)) == expected
    assert versions_of(api.artifacts("dataset", "ds", per_page=1)) == expected
    portfolio = sdk.artifacts("dataset", f"{ENTITY}/{PROJECT}/portfolio", per_page=1)
    assert versions_of(portfolio) == ["v1", "v0"]
    assert sorted(collection.aliases) == ["best", "latest"]

    # The project's collections, paged, filtered and ordered.
    project = sdk.project(PROJECT, ENTITY)
    names = sorted(c.name for c in project.collections(per_page=1))
    # The logged table's own collection (W&B names it after the run) is among them.
    assert names[:2] == ["ds", "portfolio"] and names[-1] == "shards"
    assert len(names) == 4 and names[2].endswith("-table") or "-table-" in names[2]
    assert [c.name for c in project.collections(filters={"name": "shards"})] == ["shards"]
    assert [c.name for c in project.collections(order="-name")][0] == "shards"

    # References are among the files the SDK downloads: a missing one is an error.
    v0 = sdk.artifact(f"{ENTITY}/{PROJECT}/ds:v0")
    assert sorted(f.name for f in v0.files()) == ["a.txt", "ref.txt"]
    root = Path(v0.download(root=str(tmp_path / "down")))
    assert (root / "ref.txt").read_text() == "referenced bytes"
    Path(referenced).unlink()
    with pytest.raises(Exception, match="ref.txt"):
        v0.download(root=str(tmp_path / "down-again"))

    # W&B's URL and storage path shapes.
    shapes = graphql(
        server,
        """query($e: String!, $p: String!) { project(entityName: $e, name: $p) {
          artifact(name: "ds:v0") { currentManifest { file { directUrl } }
            files { edges { node { name storagePath } } } } } }""",
        {"e": ENTITY, "p": PROJECT},
    )["project"]["artifact"]
    assert urlsplit(shapes["currentManifest"]["file"]["directUrl"]).path.endswith(
        "/wandb_manifest.json"
    )
    paths = {e["node"]["name"]: e["node"]["storagePath"] for e in shapes["files"]["edges"]}
    assert paths["a.txt"].startswith("wandb_artifacts/") and paths["ref.txt"] is None


def test_sdk_project_and_region_answers(server, tmp_path):
    import wandb

    sdk = sdk_api(server)
    sdk.create_project("fresh", ENTITY)
    assert sdk.project("fresh", ENTITY).name == "fresh"

    run = sdk_run(server, job_type="regions")
    artifact = wandb.Artifact("far", "dataset", storage_region="mars-1")
    artifact.add_file(write(tmp_path, "x.txt", "x"))
    run.log_artifact(artifact)
    with pytest.raises(Exception, match="mars-1"):
        artifact.wait()
    run.finish()
    assert not sdk.artifact_exists(f"{ENTITY}/{PROJECT}/far:v0")
