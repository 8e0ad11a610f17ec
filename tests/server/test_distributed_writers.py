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
import requests

from tests.server.test_server import (
    COMMIT,
    CREATE,
    FILES,
    MEMBERSHIP,
    commit,
    manifest_for,
    md5_b64,
)
from tests.support import ENTITY, PROJECT, graphql, sdk_api, sdk_run

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


PATCH_MANIFEST = """mutation($id: ID!, $digest: String!) {
  createArtifactManifest(input: {artifactID: $id, name: "wandb_manifest.json", digest: $digest,
    entityName: "ent", projectName: "proj", runName: "r", type: PATCH}) {
    artifactManifest { id digest file { uploadUrl } } } }"""


def _write_patch(server, files: dict[str, bytes]) -> tuple[str, str, bytes]:
    """One writer's part of the distributed version ``shared``: its files uploaded; returns the
    version's id, its patch's upload URL and the patch."""
    manifest, digest = manifest_for(files)
    graphql(
        server,
        'mutation { upsertBucket(input: {name: "r", modelName: "proj", entityName: "ent"}) '
        "{ bucket { id } } }",
    )
    created = {
        "entityName": ENTITY,
        "projectName": PROJECT,
        "artifactTypeName": "dataset",
        "artifactCollectionName": "parts",
        "digest": digest,
        "digestAlgorithm": "MANIFEST_MD5",
        "distributedID": "shared",
    }
    artifact_id = graphql(server, CREATE, {"input": created})["createArtifact"]["artifact"]["id"]
    node = graphql(server, PATCH_MANIFEST, {"id": artifact_id, "digest": md5_b64(manifest)})
    specs = [
        {"artifactID": artifact_id, "name": name, "md5": md5_b64(data)}
        for name, data in files.items()
    ]
    edges = graphql(server, FILES, {"input": {"artifactFiles": specs, "storageLayout": "V2"}})
    for data, edge in zip(
        files.values(), edges["createArtifactFiles"]["files"]["edges"], strict=True
    ):
        if edge["node"]["uploadUrl"]:
            assert requests.put(edge["node"]["uploadUrl"], data=data, timeout=30).ok
    upload = node["createArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"]
    return artifact_id, upload, manifest


def test_patch_uploads_are_signed_each_writers_own_and_refused_once_finished(server):
    first_id, first_url, first = _write_patch(server, {"a.txt": b"first writer"})
    second_id, second_url, second = _write_patch(server, {"b.txt": b"second writer"})
    assert first_id == second_id and first_url != second_url
    # Unsigned, or signed for another patch: refused; a patch never lands on another's key.
    assert requests.put(first_url.split("?")[0], data=first, timeout=30).status_code == 403
    swapped = second_url.replace(second_url.split("/patches/")[1].split("/")[0], "0" * 32)
    assert requests.put(swapped, data=second, timeout=30).status_code == 403
    assert requests.put(first_url, data=second, timeout=30).status_code == 400  # wrong md5
    assert requests.put(first_url, data=first, timeout=30).ok
    assert requests.put(second_url, data=second, timeout=30).ok
    assert requests.put(second_url, data=second, timeout=30).ok  # a retried upload: fine
    committed = commit(server, first_id)
    assert committed["state"] == "COMMITTED"
    # Finished: a replayed patch upload is refused and changes nothing.
    late = requests.put(first_url, data=first, timeout=30)
    assert late.status_code in (400, 409) and "finished" in late.text
    node = graphql(server, MEMBERSHIP, {"name": "parts:v0"})["project"]
    files = node["artifactCollectionMembership"]["files"]["edges"]
    assert sorted(edge["node"]["name"] for edge in files) == ["a.txt", "b.txt"]


def test_finishing_needs_an_uploaded_patch(server):
    artifact_id, _, _ = _write_patch(server, {"a.txt": b"never uploaded"})
    reply = requests.post(
        f"{server.base_url}/graphql",
        json={"query": COMMIT, "variables": {"id": artifact_id}},
        auth=("api", server.api_key),
        timeout=30,
    )
    assert "upload the version's patch manifest" in reply.json()["errors"][0]["message"]
