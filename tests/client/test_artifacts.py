"""Our client against the embedded server: every Artifact and Run method."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from dagster_wandb_artifacts.client import (
    Api,
    Artifact,
    ArtifactCache,
    ArtifactFinalizedError,
    ArtifactNotLoggedError,
    CommError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
)
from dagster_wandb_artifacts.server import LocalServer
from tests.support import Lines, graphql


def tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def log(api, artifact: Artifact, aliases=None, **kw) -> Artifact:
    run = api.create_run(job_type="test")
    logged = run.log_artifact(artifact, aliases=aliases, **kw)
    run.finish()
    return logged


FILES = {"a.txt": b"alpha", "sub/b.bin": os.urandom(5000), "sub/deep/empty": b""}


def test_log_download_and_properties(api, server, tmp_path):
    source = tree(tmp_path / "src", FILES)
    artifact = Artifact("ds", "dataset", description="d", metadata={"k": 1})
    artifact.add_dir(source)
    assert artifact.is_draft() and artifact.name == "ds"
    with pytest.raises(ArtifactNotLoggedError):
        _ = artifact.version
    logged = log(api, artifact, aliases=["best"], tags=["nightly"])
    assert not logged.is_draft()
    assert (logged.version, logged.name, logged.qualified_name) == ("v0", "ds:v0", "ent/proj/ds:v0")
    assert set(logged.aliases) == {"latest", "best"} and logged.tags == ["nightly"]
    assert logged.size == sum(len(v) for v in FILES.values()) and logged.file_count == 3
    assert logged.url.endswith("/ent/proj/artifacts/dataset/ds/v0")
    assert logged.json_encode()["sequenceName"] == "ds"

    fetched = api.artifact("ds:latest", type="dataset")
    assert fetched.digest == logged.digest and fetched.metadata == {"k": 1}
    assert fetched.description == "d"
    root = Path(fetched.download(tmp_path / "out", skip_cache=True))
    for name, data in FILES.items():
        assert (root / name).read_bytes() == data
    fetched.verify(root)
    with pytest.raises(CommError, match="has type 'dataset'"):
        api.artifact("ds:latest", type="model")
    assert api.artifact_exists("ds:best") and not api.artifact_exists("ds:nope")
    assert {f.name for f in fetched.files()} == set(FILES)
    assert fetched.logged_by().job_type == "test"


def test_download_uses_the_manifest_url_fetched_with_the_version(tmp_path, wandb_home):
    now = [1_000_000.0]
    with LocalServer(tmp_path / "s", clock=lambda: now[0], url_ttl_seconds=60) as server:
        api = Api(
            api_key=server.api_key,
            overrides={"base_url": server.base_url, "entity": "ent", "project": "proj"},
            cache=ArtifactCache(tmp_path / "cache"),
        )
        artifact = Artifact("ds", "dataset")
        artifact.add_dir(tree(tmp_path / "src", FILES))
        log(api, artifact)
        fetched, later = api.artifact("ds:latest"), api.artifact("ds:latest")
        queries, manifest_gets = server.requests["POST graphql"], server.requests["GET manifest"]
        fetched.download(tmp_path / "now")
        # The manifest's URL came with the version and logging filled the cache: no query.
        assert server.requests["POST graphql"] == queries
        assert server.requests["GET manifest"] == manifest_gets + 1

        now[0] += 61  # the URL fetched with ``later`` has expired: it is asked for again
        root = Path(later.download(tmp_path / "later"))
        assert server.requests["POST graphql"] == queries + 1
        assert server.requests["GET manifest"] == manifest_gets + 3
        assert {name: (root / name).read_bytes() for name in FILES} == FILES


def test_unchanged_relog_uploads_nothing(api, server, tmp_path):
    source = tree(tmp_path / "src", FILES)
    first = Artifact("same", "dataset")
    first.add_dir(source)
    log(api, first)
    before = server.bytes_received
    again = Artifact("same", "dataset")
    again.add_dir(source)
    logged = log(api, again, aliases=["again"])
    assert server.bytes_received == before
    assert logged.version == "v0" and "again" in logged.aliases


def test_aliases_move_and_edits_save(api, tmp_path):
    for text in ("one", "two"):
        artifact = Artifact("moving", "dataset")
        with artifact.new_file("f.txt") as file:
            file.write(text)
        log(api, artifact, aliases=["prod"])
    v0, v1 = api.artifact("moving:v0"), api.artifact("moving:v1")
    assert v0.aliases == [] and set(v1.aliases) == {"latest", "prod"}
    v0.aliases.append("prod")
    v0.description = "first"
    v0.metadata = {"edited": True}
    v0.tags = ["kept"]
    v0.ttl = timedelta(days=3)
    v0.save()
    again = api.artifact("moving:prod")
    assert again.version == "v0" and again.description == "first"
    assert again.metadata == {"edited": True} and again.tags == ["kept"]
    assert again.ttl == timedelta(days=3)
    assert api.artifact("moving:latest").version == "v1"
    assert api.artifact("moving:v1").aliases == ["latest"]


def test_delete(api, tmp_path):
    for text in ("x", "y"):
        artifact = Artifact("gone", "dataset")
        with artifact.new_file("f.txt") as file:
            file.write(text)
        log(api, artifact, aliases=["keep"] if text == "y" else None)
    latest = api.artifact("gone:latest")
    with pytest.raises(Exception, match="aliases"):
        latest.delete()
    latest.delete(delete_aliases=True)
    assert not api.artifact_exists("gone:v1")
    assert api.artifact("gone:latest").version == "v0"


def test_incremental_new_draft_uploads_only_changes(api, server, tmp_path):
    source = tree(tmp_path / "src", {"big.bin": os.urandom(200_000), "small.txt": b"1"})
    base = Artifact("inc", "dataset")
    base.add_dir(source)
    logged = log(api, base)
    draft = logged.new_draft()
    assert draft.is_draft() and len(draft.manifest) == 2
    (tmp_path / "new.txt").write_text("added")
    draft.add_file(tmp_path / "new.txt")
    draft.remove("small.txt")
    before = server.bytes_received
    v1 = log(api, draft)
    assert v1.version == "v1"
    assert server.bytes_received - before < 10_000  # the manifest and one tiny file
    root = Path(v1.download(tmp_path / "v1"))
    assert sorted(p.name for p in root.iterdir()) == ["big.bin", "new.txt"]
    assert (root / "big.bin").read_bytes() == (source / "big.bin").read_bytes()


def test_path_prefix_get_entry_file_and_checkout(api, tmp_path):
    artifact = Artifact("parts", "dataset")
    artifact.add_dir(tree(tmp_path / "src", FILES))
    logged = log(api, artifact)
    root = Path(logged.download(tmp_path / "p", path_prefix="sub/deep"))
    assert [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()] == [
        "sub/deep/empty"
    ]
    entry_path = logged.get_entry("a.txt").download(tmp_path / "e")
    assert Path(entry_path).read_bytes() == b"alpha"
    (root / "stray.txt").write_text("not in the artifact")
    logged.checkout(root)
    assert not (root / "stray.txt").exists() and (root / "a.txt").exists()

    single = Artifact("single", "model")
    (tmp_path / "m.bin").write_bytes(b"weights")
    single.add_file(tmp_path / "m.bin")
    assert Path(log(api, single).file(tmp_path / "f")).read_bytes() == b"weights"
    with pytest.raises(InvalidInputError):
        logged.file()


def test_multipart_upload_with_small_threshold(api, server, tmp_path):
    data = os.urandom(700 * 1024)  # above the fixture's 256 KiB threshold: 7 parts
    (tmp_path / "large.bin").write_bytes(data)
    artifact = Artifact("large", "dataset")
    artifact.add_file(tmp_path / "large.bin")
    logged = log(api, artifact)
    assert server.requests["PUT part"] == 7
    root = Path(logged.download(tmp_path / "out", skip_cache=True))
    assert (root / "large.bin").read_bytes() == data


def test_verify_catches_modified_files(api, tmp_path):
    artifact = Artifact("verified", "dataset")
    artifact.add_dir(tree(tmp_path / "src", FILES))
    logged = log(api, artifact)
    root = Path(logged.download(tmp_path / "v", skip_cache=True))
    logged.verify(root)
    (root / "a.txt").write_bytes(b"tampered")
    with pytest.raises(IntegrityError, match="modified"):
        logged.verify(root)


def test_cache_hits_and_eviction(api, server, tmp_path):
    artifact = Artifact("cached", "dataset")
    artifact.add_dir(tree(tmp_path / "src", FILES))
    logged = log(api, artifact)
    gets_before = server.requests["GET object"]
    fetched = api.artifact("cached:latest")
    fetched.download(tmp_path / "one")
    assert server.requests["GET object"] == gets_before  # logging filled the cache
    assert api.cache.cleanup(0) > 0
    fetched.download(tmp_path / "two")
    assert server.requests["GET object"] == gets_before + 2  # the non-empty files again
    assert logged.digest == fetched.digest


def test_drafts_validate_and_freeze(api, tmp_path):
    with pytest.raises(InvalidInputError):
        Artifact("bad name!", "dataset")
    with pytest.raises(InvalidInputError):
        Artifact("x" * 129, "dataset")
    with pytest.raises(InvalidInputError):
        Artifact("ok", "wandb-history")
    with pytest.raises(InvalidInputError):
        Artifact("ok", "job")
    with pytest.raises(InvalidInputError):
        Artifact("ok", "dataset", metadata={str(i): i for i in range(101)})
    artifact = Artifact("frozen", "dataset")
    (tmp_path / "f").write_text("1")
    artifact.add_file(tmp_path / "f")
    assert artifact.get_added_local_path_name(str(tmp_path / "f")) == "f"
    (tmp_path / "g").write_text("2")
    with pytest.raises(InvalidInputError, match="overwrite"):
        artifact.add_file(tmp_path / "g", name="f")
    artifact.add_file(tmp_path / "g", name="f", overwrite=True)
    entry = artifact.add_file(tmp_path / "g", name="tmp.txt", is_tmp=True)
    assert entry.path.endswith(".txt") and entry.path != "tmp.txt"
    logged = log(api, artifact)
    with pytest.raises(ArtifactFinalizedError):
        logged.add_file(tmp_path / "g")
    with pytest.raises(ArtifactFinalizedError):
        api.create_run().log_artifact(logged)


def test_references_file_and_http(api, tmp_path):
    folder = tree(tmp_path / "refs", {"x.csv": b"1,2", "d/y.csv": b"3,4"})
    artifact = Artifact("refs", "dataset")
    artifact.add_reference(folder.as_uri())
    artifact.add_reference((folder / "x.csv").as_uri(), name="single.csv", checksum=False)
    logged = log(api, artifact)
    root = Path(logged.download(tmp_path / "r"))
    assert (root / "d/y.csv").read_bytes() == b"3,4"
    assert (root / "single.csv").read_bytes() == b"1,2"
    with pytest.raises(InvalidInputError, match="max_objects"):
        Artifact("many", "dataset").add_reference(folder.as_uri(), max_objects=1)


def test_save_without_run_and_used_by(api, tmp_path):
    artifact = Artifact("saved", "dataset")
    with artifact.new_file("f.txt") as file:
        file.write("hi")
    artifact.save(api=api)
    logged = api.artifact("saved:latest")
    consumer = api.create_run(job_type="consume")
    consumer.use_artifact("saved:latest")
    consumer.finish()
    assert [run.id for run in logged.used_by()] == [consumer.id]
    assert api.run(f"ent/proj/{consumer.id}").state == "finished"
    assert logged.logged_by().job_type == "auto"


def test_missing_things_are_not_found(api):
    with pytest.raises(NotFoundError):
        api.artifact("ent/proj/none:latest")
    with pytest.raises(NotFoundError):
        api.run("ent/proj/nope")
    with pytest.raises(NotFoundError):
        api.project("nope").id  # noqa: B018 - a project is fetched when read


def test_run_config_group_and_crash(api, server):
    run = api.create_run(run_id="fixed-id", group="g", job_type="j", config={"lr": 0.1})
    run.finish(exit_code=2)
    data = graphql(
        server,
        '{ project(entityName: "ent", name: "proj") { run(name: "fixed-id") {'
        " state group jobType } } }",
    )
    assert data["project"]["run"] == {"state": "crashed", "group": "g", "jobType": "j"}
    assert api.run("proj/fixed-id").config == {"lr": 0.1}


def test_http_reference_records_etag_and_size(api, tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = b"served over http"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("ETag", '"abc123"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/data/file.csv"
        artifact = Artifact("web", "dataset")
        (entry,) = artifact.add_reference(url)
        assert (entry.path, entry.digest, entry.size) == ("file.csv", "abc123", len(body))
        assert entry.extra == {"etag": '"abc123"'} and entry.ref == url
        (unchecked,) = Artifact("web2", "dataset").add_reference(url, checksum=False)
        assert unchecked.digest == url
        logged = log(api, artifact)
        assert logged.wait() is logged
        root = Path(logged.download(tmp_path / "web"))
        assert (root / "file.csv").read_bytes() == body
    finally:
        server.shutdown()
        server.server_close()


def test_projects_and_viewer(api):
    assert api.create_project("fresh-project") is None
    assert "fresh-project" in [p.name for p in api.projects("ent")]
    assert api.viewer.entity == "local"
    assert api.client.execute("{ viewer { entity } }") == {"viewer": {"entity": "local"}}


def test_link_into_portfolio_and_registry(api, server):
    for text in ("a", "b"):
        artifact = Artifact("linked-src", "model")
        with artifact.new_file("w.txt") as file:
            file.write(text)
        log(api, artifact)
    v0, v1 = api.artifact("linked-src:v0"), api.artifact("linked-src:v1")
    first = v1.link("proj/best-models", aliases=["production"])
    assert first.digest == v1.digest and first.version == "v0"
    second = v0.link("ent/proj/best-models")
    assert second.is_link and second.source_version == "v0" and second.version == "v1"
    assert v0.link("ent/proj/best-models").version == "v1"  # linked once, not again
    data = graphql(
        server,
        """{ project(entityName: "ent", name: "proj") {
        artifactCollection(name: "best-models") { __typename
          artifacts { edges { version node { digest } } } } } }""",
    )
    collection = data["project"]["artifactCollection"]
    assert collection["__typename"] == "ArtifactPortfolio"
    assert {e["version"]: e["node"]["digest"] for e in collection["artifacts"]["edges"]} == {
        "v0": v1.digest,
        "v1": v0.digest,
    }
    assert api.artifact("best-models:production").digest == v1.digest
    assert api.artifact("best-models:latest").digest == v0.digest
    registry = v1.link("wandb-registry-model/detector")
    assert registry.version == "v0" and registry.project == "wandb-registry-model"
    assert registry.source_project == "proj" and registry.source_version == "v1"
    assert api.artifact("ent/wandb-registry-model/detector:latest").digest == v1.digest
    with pytest.raises(Exception, match="portfolio"):
        v0.link("proj/linked-src")  # a collection of logged versions is no link target
    assert sorted((a.collection_name, a.version) for a in v1.linked_artifacts) == [
        ("best-models", "v0"),
        ("detector", "v0"),
    ]
    assert first.source_artifact.version == "v1" and first.linked_artifacts == []
    first.unlink()
    assert api.artifact("best-models:latest").digest == v0.digest
    assert not api.artifact_exists("best-models:production")
    assert api.artifact("linked-src:v1").digest == v1.digest  # the source stays
    with pytest.raises(InvalidInputError, match="not a link"):
        v1.unlink()


def test_processes_downloading_into_one_root_and_cache(api, server, tmp_path):
    import subprocess
    import sys
    import textwrap

    artifact = Artifact("shared", "dataset")
    artifact.add_dir(tree(tmp_path / "src", {f"f{i}.bin": os.urandom(50_000) for i in range(20)}))
    log(api, artifact)
    script = textwrap.dedent(
        """
        import sys
        from dagster_wandb_artifacts.client import Api, ArtifactCache
        url, key, cache, root = sys.argv[1:]
        api = Api({"base_url": url, "entity": "ent", "project": "proj"}, api_key=key,
                  cache=ArtifactCache(cache))
        api.artifact("shared:latest").download(root)
        """
    )
    args = [server.base_url, server.api_key, str(tmp_path / "shared-cache"), str(tmp_path / "out")]
    processes = [subprocess.Popen([sys.executable, "-c", script, *args]) for _ in range(8)]
    assert [p.wait(timeout=120) for p in processes] == [0] * 8
    api.artifact("shared:latest").verify(tmp_path / "out")
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.startswith(".")]


def test_cache_size_limit_applies_after_downloads(api, server, tmp_path):
    from dagster_wandb_artifacts.client import ArtifactCache

    artifact = Artifact("bounded", "dataset")
    artifact.add_dir(tree(tmp_path / "src", {f"f{i}.bin": os.urandom(10_000) for i in range(5)}))
    log(api, artifact)
    api.cache = ArtifactCache(tmp_path / "small-cache", max_size=25_000)
    api.artifact("bounded:latest").download(tmp_path / "b", skip_cache=False)
    cached = [
        p
        for p in (tmp_path / "small-cache").rglob("*")
        if p.is_file() and not p.name.endswith(".stat")
    ]
    assert sum(p.stat().st_size for p in cached) <= 25_000
    api.artifact("bounded:latest").verify(tmp_path / "b")


def test_long_transfers_report_progress(api, tmp_path):
    from dataclasses import replace

    from dagster_wandb_artifacts.client.progress import reporting_to

    api.transfer = replace(api.transfer, progress_every=0.0, workers=1)
    artifact = Artifact("progress", "dataset")
    lines = Lines()
    with reporting_to(lines):
        artifact.add_dir(tree(tmp_path / "src", {f"f{i}": os.urandom(1000) for i in range(3)}))
        logged = log(api, artifact)
        logged.download(tmp_path / "out", skip_cache=True)
    # Once per phase at its end, with bytes and files (the draft's hashing, with no Api and
    # so the default interval, took under a second: no line).
    finals = [line for line in lines.infos if " in " in line and "files," in line]
    assert [line.split()[0] for line in finals] == ["uploaded", "downloaded"]
    assert all(line.startswith(f"{line.split()[0]} 3 files, 2.9 KiB") for line in finals)
    count = len(lines.infos)
    logged.download(tmp_path / "again", skip_cache=True)  # outside the block: not reported
    assert len(lines.infos) == count
