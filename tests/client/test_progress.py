"""What the client says while it works: bytes per phase while they move, and every retry,
bounded in time, against a real server killed mid-transfer."""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import replace

import pytest

from dagster_wandb_artifacts.client import Api, Artifact, CommError, RetryPolicy
from dagster_wandb_artifacts.client.progress import reporting_to
from dagster_wandb_artifacts.client.transfer import hash_files
from tests.support import Lines, free_port, kill_once_an_upload_starts, server_process

BIG = 48 * 1024**2


def _running(lines: list[str], phase: str) -> list[int]:
    """The percentages of the lines a phase reported while it ran."""
    return [int(m.group(1)) for line in lines if (m := re.match(rf"{phase} .*\((\d+)%\)", line))]


def test_bytes_are_reported_while_one_big_file_moves(api, tmp_path):
    api.transfer = replace(api.transfer, progress_every=0.005, multipart_threshold=2 * BIG)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(BIG))
    lines = Lines()
    with reporting_to(lines):
        hash_files([source], every=0.005)  # a draft has no Api, so no settings of one
        artifact = Artifact("big", "dataset")
        artifact.add_file(source)
        logged = api.create_run().log_artifact(artifact)
        logged.download(tmp_path / "out", skip_cache=True)
    for phase in ("hashed", "uploaded", "downloaded"):
        # One file, so these are bytes, not files: the ticker reported a share of it.
        assert any(0 <= share < 100 for share in _running(lines.infos, phase)), lines.infos
        finals = [line for line in lines.infos if line.startswith(f"{phase} 1 file, 48.0 MiB in")]
        assert len(finals) == 1  # once at the end (add_file hashed too, in under a second)
    assert lines.warnings == []


def test_outside_dagster_progress_goes_to_logging_and_to_a_bar(api, tmp_path, caplog, capsys):
    api.transfer = replace(api.transfer, progress_bar=True, progress_every=0.0)
    (tmp_path / "f.txt").write_text("hello")
    with caplog.at_level(logging.INFO, logger="dagster_wandb_artifacts.client"):
        artifact = Artifact("logged", "dataset")
        artifact.add_file(tmp_path / "f.txt")
        api.create_run().log_artifact(artifact)
    assert any(r.getMessage().startswith("uploaded 1 file, 5 B in") for r in caplog.records)
    bar = capsys.readouterr().err
    assert "\ruploaded   [########################] 100%" in bar


def test_nobody_listening_costs_nothing(api, tmp_path, capsys):
    from dagster_wandb_artifacts.client.progress import Progress

    assert not Progress("uploaded", 1, 1, bar=False).active
    (tmp_path / "f.txt").write_text("hello")
    artifact = Artifact("quiet", "dataset")
    artifact.add_file(tmp_path / "f.txt")
    api.create_run().log_artifact(artifact)
    assert capsys.readouterr().err == ""


def test_a_server_killed_mid_upload_fails_the_call_soon_with_every_retry_announced(
    tmp_path, wandb_home
):
    port = free_port()
    key = "local-" + "k" * 48
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(256 * 1024**2))
    api = Api(
        {"base_url": f"http://127.0.0.1:{port}", "entity": "local", "project": "p"},
        api_key=key,
        retry=RetryPolicy(initial_backoff=0.2, deadline=2.0),
    )
    api.transfer = replace(api.transfer, progress_every=0.01)
    lines = Lines()
    with server_process(tmp_path / "root", port, key) as process:
        run = api.create_run()
        artifact = Artifact("big", "dataset")
        artifact.add_file(source)
        killer = kill_once_an_upload_starts(process, tmp_path / "root")
        started = time.monotonic()
        with reporting_to(lines), pytest.raises(CommError, match="failed after .* attempts"):
            run.log_artifact(artifact)
        elapsed = time.monotonic() - started
        killer.join()
    assert process.returncode is not None
    assert elapsed < 20, elapsed
    assert lines.warnings, "no retry was announced"
    # Every call in flight when the server died announces its own retries (the file's PUT,
    # the manifest's, GraphQL requests alongside).
    announced = re.compile(
        r"(PUT|POST) http://127\.0\.0\.1:\d+/\S+ failed \(.+\): attempt 1 of at most \d+, next "
        r"try in [\d.]+ s, giving up 2 s after the first failure"
    )
    assert any(announced.search(warning) for warning in lines.warnings), lines.warnings
    assert any("stopped by an error" in line for line in lines.infos)
    assert key not in " ".join(lines.warnings + lines.infos)
