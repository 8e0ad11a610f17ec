"""Reference artifacts on real s3fs/gcsfs against moto and the GCS emulator, and the
``wandb-artifact://`` filesystem."""

from __future__ import annotations

import os
from pathlib import Path

import fsspec
import pandas as pd
import pytest

from dagster_wandb_artifacts.client import (
    Artifact,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
)
from dagster_wandb_artifacts.client.fs import WandbArtifactFileSystem
from dagster_wandb_artifacts.formats.manifest import md5_b64_bytes


def log(api, artifact):
    run = api.create_run()
    logged = run.log_artifact(artifact)
    run.finish()
    return logged


@pytest.fixture
def s3(s3_options):
    import s3fs

    fs = s3fs.S3FileSystem(**s3_options["options"], skip_instance_cache=True, version_aware=True)
    return fs, s3_options["bucket"], {"s3": s3_options["options"]}


def test_s3_objects_prefixes_and_checksum_off(api, s3, tmp_path):
    fs, bucket, options = s3
    fs.pipe(
        {
            f"{bucket}/data/a.csv": b"a,b\n1,2\n",
            f"{bucket}/data/sub/b.csv": b"x\n",
            f"{bucket}/other.txt": b"elsewhere",
        }
    )
    api.storage_options = options
    artifact = Artifact("s3-refs", "dataset")
    single = artifact.add_reference(f"s3://{bucket}/other.txt", storage_options=options)
    prefix = artifact.add_reference(f"s3://{bucket}/data", name="data", storage_options=options)
    unchecked = artifact.add_reference(f"s3://{bucket}/data/a.csv", name="raw", checksum=False)
    info = fs.info(f"{bucket}/other.txt")
    assert single[0].path == "other.txt" and single[0].digest == info["ETag"].strip('"')
    assert single[0].size == 9 and single[0].extra["etag"] == single[0].digest
    assert sorted(e.path for e in prefix) == ["data/a.csv", "data/sub/b.csv"]
    assert prefix[1].ref == f"s3://{bucket}/data/sub/b.csv"
    assert unchecked[0].digest == f"s3://{bucket}/data/a.csv"
    logged = log(api, artifact)
    root = Path(logged.download(tmp_path / "out"))
    assert (root / "data/sub/b.csv").read_bytes() == b"x\n"
    assert (root / "other.txt").read_bytes() == b"elsewhere"
    manifest = logged.manifest.to_bytes()
    assert b"testing" not in manifest  # no credentials in the manifest
    with pytest.raises(InvalidInputError, match="max_objects"):
        Artifact("x", "dataset").add_reference(
            f"s3://{bucket}/data", max_objects=1, storage_options=options
        )


def test_s3_versions_pin_downloads_and_changes_are_refused(api, s3, tmp_path):
    fs, bucket, options = s3
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=options["s3"]["client_kwargs"]["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    versioned = f"{bucket}-v"
    client.create_bucket(Bucket=versioned)
    client.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=versioned, Key="model.bin", Body=b"first")
    client.put_object(Bucket=bucket, Key="plain.bin", Body=b"first")
    api.storage_options = options
    artifact = Artifact("pinned", "model")
    (pinned,) = artifact.add_reference(f"s3://{versioned}/model.bin", storage_options=options)
    artifact.add_reference(f"s3://{bucket}/plain.bin", storage_options=options)
    assert pinned.extra["versionID"]
    logged = log(api, artifact)
    client.put_object(Bucket=versioned, Key="model.bin", Body=b"second")
    client.put_object(Bucket=bucket, Key="plain.bin", Body=b"second")
    uri, options_for_it = logged.get_entry("model.bin").fsspec_uri()
    assert uri == f"s3://{versioned}/model.bin?versionId={pinned.extra['versionID']}"
    with fsspec.open(uri, "rb", **options_for_it) as file:
        assert file.read() == b"first"  # the recorded version, read straight from S3
    root = tmp_path / "pinned"
    logged.download(root, path_prefix="model.bin")
    assert (root / "model.bin").read_bytes() == b"first"  # the recorded version
    with pytest.raises(IntegrityError, match="changed since it was logged"):
        logged.download(tmp_path / "changed", path_prefix="plain.bin")
    client.delete_object(Bucket=bucket, Key="plain.bin")
    with pytest.raises(NotFoundError):
        logged.download(tmp_path / "missing", path_prefix="plain.bin")
    logged.download(tmp_path / "allowed", path_prefix="plain.bin", allow_missing_references=True)
    assert not (tmp_path / "allowed" / "plain.bin").exists()


def test_sdk_sees_the_same_s3_entries(api, server, s3, wandb_home, monkeypatch):
    import wandb

    from tests.support import sdk_api

    fs, bucket, options = s3
    fs.pipe({f"{bucket}/p/x.txt": b"x", f"{bucket}/p/y/z.txt": b"zz"})
    monkeypatch.setenv("AWS_ENDPOINT_URL", options["s3"]["client_kwargs"]["endpoint_url"])
    api.storage_options = options
    ours = Artifact("shared-refs", "dataset")
    ours.add_reference(f"s3://{bucket}/p", storage_options=options)
    theirs = wandb.Artifact("shared-refs", "dataset")
    theirs.add_reference(f"s3://{bucket}/p")
    assert ours.digest == theirs.digest
    logged = log(api, ours)
    fetched = sdk_api(server).artifact(f"ent/proj/shared-refs:{logged.version}")
    for entry in logged.manifest.entries.values():
        sdk_entry = fetched.manifest.entries[entry.path]
        assert (sdk_entry.digest, sdk_entry.ref, sdk_entry.size) == (
            entry.digest,
            entry.ref,
            entry.size,
        )
        assert sdk_entry.extra.get("etag") == entry.extra["etag"]


def test_gcs_objects_and_prefixes_record_etag_and_generation(api, gcs_options, tmp_path):
    import gcsfs

    bucket, options = gcs_options["bucket"], {"gs": gcs_options["options"]}
    fs = gcsfs.GCSFileSystem(**gcs_options["options"], skip_instance_cache=True)
    fs.pipe({f"{bucket}/g/a.txt": b"gcs a", f"{bucket}/g/deep/b.txt": b"gcs b"})
    api.storage_options = options
    artifact = Artifact("gcs-refs", "dataset")
    entries = artifact.add_reference(f"gs://{bucket}/g", storage_options=options)
    (single,) = artifact.add_reference(
        f"gs://{bucket}/g/a.txt", name="single.txt", storage_options=options
    )
    info = fs.info(f"{bucket}/g/a.txt")
    assert single.digest == info["etag"] and single.size == 5
    assert single.extra == {"versionID": int(info["generation"])}
    assert sorted(e.path for e in entries) == ["a.txt", "deep/b.txt"]
    logged = log(api, artifact)
    root = Path(logged.download(tmp_path / "gcs"))
    assert (root / "deep/b.txt").read_bytes() == b"gcs b"


def test_missing_extra_names_it(api, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "gcsfs" else real(name, *a)
    )
    with pytest.raises(InvalidInputError, match=r"dagster-wandb-artifacts\[gcs\]"):
        Artifact("x", "dataset").add_reference("gs://bucket/key")


def test_wandb_artifact_urls_read_one_file_lazily(api, server, tmp_path):
    frame = pd.DataFrame({"x": range(100), "y": [i * 2 for i in range(100)]})
    frame.to_parquet(tmp_path / "data.parquet")
    (tmp_path / "big.bin").write_bytes(os.urandom(500_000))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "note.txt").write_text("hello")
    artifact = Artifact("lazy", "dataset")
    for name in ("data.parquet", "big.bin", "sub/note.txt"):
        artifact.add_file(tmp_path / name, name=name)
    log(api, artifact)
    api.cache.cleanup(0)  # nothing cached: reads must go to the server
    fs = WandbArtifactFileSystem(api)
    root = "wandb-artifact://ent/proj/lazy:v0"
    assert fs.ls(root, detail=False) == [
        "ent/proj/lazy:v0/big.bin",
        "ent/proj/lazy:v0/data.parquet",
        "ent/proj/lazy:v0/sub",
    ]
    assert fs.info(f"{root}/big.bin")["size"] == 500_000
    assert fs.glob(f"{root}/**/*.txt") == ["ent/proj/lazy:v0/sub/note.txt"]
    before = server.requests["GET object"]
    with fs.open(f"{root}/big.bin", block_size=1024) as file:
        file.seek(1000)
        assert file.read(10) == (tmp_path / "big.bin").read_bytes()[1000:1010]
    assert server.requests["GET object"] - before <= 2  # ranged reads of that one file
    read_back = pd.read_parquet(f"{root}/data.parquet", storage_options={"api": api})
    assert read_back.equals(frame)
    assert fsspec.open(f"{root}/sub/note.txt", api=api).open().read() == b"hello"
    with pytest.raises(FileNotFoundError):
        fs.info(f"{root}/absent.txt")
    with pytest.raises(PermissionError):
        fs.open(f"{root}/sub/note.txt", "wb")


def test_fsspec_schemes_are_referenced_with_checksums_and_unknown_ones_opaquely(api, tmp_path):
    memory = fsspec.filesystem("memory")
    memory.pipe({"/refs-test/lake/a.txt": b"alpha", "/refs-test/lake/sub/b.txt": b"beta"})
    draft = Artifact("memory-refs", "dataset")
    draft.add_reference("memory://refs-test/lake", name="lake")
    draft.add_reference("foo://bucket/key.bin", name="opaque.bin")
    entries = {path: (e.ref, e.digest, e.size) for path, e in draft.manifest.entries.items()}
    alpha = md5_b64_bytes(b"alpha")
    assert entries["lake/a.txt"] == ("memory:///refs-test/lake/a.txt", alpha, 5)
    assert entries["lake/sub/b.txt"][1] == md5_b64_bytes(b"beta")
    assert entries["opaque.bin"] == ("foo://bucket/key.bin", "foo://bucket/key.bin", None)
    log(api, draft)
    logged = api.artifact("memory-refs:latest")
    root = Path(logged.download(tmp_path / "out", path_prefix="lake"))
    assert (root / "lake" / "sub" / "b.txt").read_bytes() == b"beta"
    memory.pipe({"/refs-test/lake/a.txt": b"changed"})
    with pytest.raises(IntegrityError, match="changed since it was logged"):
        logged.get_entry("lake/a.txt").download(tmp_path / "again")
    memory.rm("/refs-test/lake", recursive=True)
