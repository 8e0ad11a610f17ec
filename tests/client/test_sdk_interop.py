"""The real wandb SDK is the referee: same digests, and each reads what the other logged."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_wandb_artifacts.client import Artifact
from tests.support import ENTITY, PROJECT, sdk_api, sdk_run


def make_files(root: Path) -> Path:
    files = {
        "a.txt": b"alpha\n",
        "nested/b.json": b'{"b": 2}',
        "nested/deeper/empty": b"",
        "data.bin": os.urandom(300_000),
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_files_same_digest_as_the_sdk(wandb_home, tmp_path):
    import wandb

    source = make_files(tmp_path / "src")
    ours = Artifact("d", "dataset")
    ours.add_dir(source, name="prefix")
    theirs = wandb.Artifact("d", "dataset")
    theirs.add_dir(str(source), name="prefix")
    assert ours.digest == theirs.digest
    for entry in ours.manifest.entries.values():
        assert theirs.manifest.entries[entry.path].digest == entry.digest
        assert theirs.manifest.entries[entry.path].size == entry.size

    reference = tmp_path / "refs"
    make_files(reference)
    ours_ref, theirs_ref = Artifact("r", "dataset"), wandb.Artifact("r", "dataset")
    for artifact in (ours_ref, theirs_ref):
        artifact.add_reference(reference.as_uri())
        artifact.add_reference((reference / "a.txt").as_uri(), name="unchecked", checksum=False)
    assert ours_ref.digest == theirs_ref.digest


def test_sdk_reads_what_we_log(api, server, tmp_path):
    source = make_files(tmp_path / "src")
    artifact = Artifact("ours", "dataset", metadata={"by": "client"})
    artifact.add_dir(source)
    run = api.create_run(job_type="client")
    logged = run.log_artifact(artifact, aliases=["candidate"])
    run.finish()

    fetched = sdk_api(server).artifact(f"{ENTITY}/{PROJECT}/ours:candidate")
    assert fetched.digest == logged.digest
    assert fetched.metadata == {"by": "client"}
    root = Path(fetched.download(root=str(tmp_path / "sdk")))
    assert tree_bytes(root) == tree_bytes(source)
    fetched.verify(root=str(root))


def test_we_read_what_the_sdk_logs(api, server, wandb_home, tmp_path):
    import wandb

    source = make_files(tmp_path / "src")
    run = sdk_run(server, job_type="sdk")
    artifact = wandb.Artifact("theirs", type="model", metadata={"by": "sdk"})
    artifact.add_dir(str(source))
    run.log_artifact(artifact, aliases=["prod"])
    artifact.wait()
    run.finish()

    fetched = api.artifact("theirs:prod", type="model")
    assert fetched.digest == artifact.digest
    assert fetched.metadata == {"by": "sdk"} and set(fetched.aliases) == {"latest", "prod"}
    root = Path(fetched.download(tmp_path / "ours"))
    assert tree_bytes(root) == tree_bytes(source)
    fetched.verify(root)
    assert fetched.logged_by().job_type == "sdk"
