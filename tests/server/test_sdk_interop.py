"""The real wandb SDK logs into and reads from the embedded server."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest

from tests.support import ENTITY, PROJECT, graphql, sdk_api, sdk_run

pytestmark = pytest.mark.usefixtures("wandb_home")


def make_tree(root: Path, big: int = 20 * 1024 * 1024) -> Path:
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("hello artifacts\n")
    (root / "nested" / "b.json").write_text('{"k": 1}')
    (root / "nested" / "deeper" / "empty.bin").write_bytes(b"")
    (root / "big.bin").write_bytes(os.urandom(big))
    return root


def same_tree(left: Path, right: Path) -> bool:
    def files(root: Path) -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    return files(left) == files(right) and all(
        filecmp.cmp(left / name, right / name, shallow=False) for name in files(left)
    )


def log_with_sdk(server, source: Path, name: str = "my-ds", aliases=()) -> tuple[str, str]:
    import wandb

    run = sdk_run(server, job_type="build")
    artifact = wandb.Artifact(name, type="dataset", metadata={"rows": 3})
    artifact.add_dir(str(source))
    run.log_artifact(artifact, aliases=list(aliases))
    artifact.wait()
    run_id = run.id
    run.finish()
    return artifact.digest, run_id


def versions(server, name: str = "my-ds") -> dict[int, list[str]]:
    data = graphql(
        server,
        """query($e: String!, $p: String!, $n: String!) {
          project(entityName: $e, name: $p) { artifactCollection(name: $n) {
            artifacts { edges { node { versionIndex aliases { alias } } } } } } }""",
        {"e": ENTITY, "p": PROJECT, "n": name},
    )
    edges = data["project"]["artifactCollection"]["artifacts"]["edges"]
    return {
        edge["node"]["versionIndex"]: sorted(a["alias"] for a in edge["node"]["aliases"])
        for edge in edges
    }


def test_sdk_round_trip_versions_aliases_and_dedup(server, tmp_path):
    source = make_tree(tmp_path / "src")
    digest, run_id = log_with_sdk(server, source, aliases=["best"])

    api = sdk_api(server)
    fetched = api.artifact(f"{ENTITY}/{PROJECT}/my-ds:latest")
    assert fetched.digest == digest
    assert fetched.version == "v0"
    assert set(fetched.aliases) >= {"latest", "best"}
    assert fetched.metadata == {"rows": 3}
    downloaded = Path(fetched.download(root=str(tmp_path / "down0")))
    assert same_tree(source, downloaded)
    fetched.verify(root=str(downloaded))

    state = graphql(
        server,
        "query($e: String!, $p: String!, $r: String!) {"
        " project(entityName: $e, name: $p) { run(name: $r) { state jobType } } }",
        {"e": ENTITY, "p": PROJECT, "r": run_id},
    )
    assert state["project"]["run"] == {"state": "finished", "jobType": "build"}

    # An unchanged re-log: no new version and not one byte uploaded.
    puts_before, bytes_before = server.requests["PUT object"], server.bytes_received
    digest_again, _ = log_with_sdk(server, source)
    assert digest_again == digest
    assert server.requests["PUT object"] == puts_before
    # What was received is the SDK's own run files (config, summary), never artifact bytes.
    assert server.bytes_received - bytes_before < 10_000
    assert versions(server) == {0: ["best", "latest", "v0"]}

    # A change makes v1; `latest` moves, `best` stays.
    (source / "a.txt").write_text("changed\n")
    digest1, _ = log_with_sdk(server, source)
    assert digest1 != digest
    assert versions(server) == {0: ["best", "v0"], 1: ["latest", "v1"]}
    v1 = api.artifact(f"{ENTITY}/{PROJECT}/my-ds:v1")
    assert v1.digest == digest1
    assert (Path(v1.download(root=str(tmp_path / "down1"))) / "a.txt").read_text() == "changed\n"
    assert api.artifact(f"{ENTITY}/{PROJECT}/my-ds:best").version == "v0"

    # Alias moves and edits through the SDK's public API.
    v1.aliases.append("best")
    v1.save()
    assert versions(server) == {0: ["v0"], 1: ["best", "latest", "v1"]}


def test_sdk_missing_artifact_is_not_found(server):
    import wandb

    with pytest.raises(wandb.errors.CommError):
        sdk_api(server).artifact(f"{ENTITY}/{PROJECT}/nope:latest")


def test_sdk_reads_links_made_by_our_client(api, server, tmp_path):
    from dagster_wandb_artifacts.client import Artifact

    artifact = Artifact("to-link", "model")
    with artifact.new_file("w.txt") as file:
        file.write("weights")
    run = api.create_run()
    logged = run.log_artifact(artifact)
    run.finish()
    logged.link("wandb-registry-model/detector", aliases=["staging"])
    fetched = sdk_api(server).artifact(f"{server.entity}/wandb-registry-model/detector:staging")
    assert fetched.digest == logged.digest
    root = Path(fetched.download(root=str(tmp_path / "linked")))
    assert (root / "w.txt").read_text() == "weights"


def test_sdk_paths_of_every_declared_feature(api, server, tmp_path):
    """Each optional feature the server declares changes what the SDK sends; this walks the
    SDK through all of them: tags and client IDs at creation, a long file name, a link that
    answers with its membership, use by entity and project, file counts, and a download of a
    Registry link through the collection membership."""
    import wandb

    from dagster_wandb_artifacts.server.resolvers import FEATURES

    assert {"ARTIFACT_TAGS", "ARTIFACT_DIGEST_ALGORITHM", "CLIENT_IDS"} <= set(FEATURES)
    long_name = "d" * 200 + "/" + "f" * 200 + ".txt"
    run = sdk_run(server, job_type="features")
    artifact = wandb.Artifact("featured", type="model", metadata={"acc": 0.9})
    with artifact.new_file(long_name) as file:
        file.write("long")
    run.log_artifact(artifact, tags=["candidate"])
    artifact.wait()
    run.link_artifact(artifact, "wandb-registry-model/featured", aliases=["prod"])
    run.finish()

    ours = api.artifact(f"{ENTITY}/{PROJECT}/featured:latest")
    assert ours.tags == ["candidate"] and [f.name for f in ours.files()] == [long_name]
    link = api.artifact(f"{server.entity}/wandb-registry-model/featured:prod")
    assert link.is_link and link.digest == ours.digest

    user = sdk_run(server, job_type="consume")
    used = user.use_artifact(f"{server.entity}/wandb-registry-model/featured:prod")
    root = Path(used.download(root=str(tmp_path / "used")))
    assert (root / long_name).read_text() == "long"
    user.finish()
    assert [a.source_name for a in api.run(f"{ENTITY}/{PROJECT}/{user.id}").used_artifacts()] == [
        "featured:v0"
    ]

    sdk = sdk_api(server)
    fetched = sdk.artifact(f"{ENTITY}/{PROJECT}/featured:v0")
    assert fetched.tags == ["candidate"] and len(fetched.files()) == 1
    fetched.tags.append("reviewed")
    fetched.save()
    assert api.artifact(f"{ENTITY}/{PROJECT}/featured:v0").tags == ["candidate", "reviewed"]


def test_sdk_resumes_a_run(server):
    """``wandb.init(resume=...)`` asks for the run's resume status (``RunResumeStatus``), as
    dagster-wandb does around every output; the second init continues the same run."""
    first = sdk_run(server, id="resumable", resume="allow", config={"lr": 0.1})
    first.finish()
    again = sdk_run(server, id="resumable", resume="must")
    assert again.id == "resumable" and again.resumed
    again.finish()
    runs = graphql(
        server,
        "query($e: String!, $p: String!) "
        "{ project(entityName: $e, name: $p) { runs { edges { node { name } } } } }",
        {"e": ENTITY, "p": PROJECT},
    )
    assert [e["node"]["name"] for e in runs["project"]["runs"]["edges"]] == ["resumable"]
