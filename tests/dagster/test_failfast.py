"""Failing before work is lost: the key and host are checked before an asset's code runs,
retries are Dagster warnings bounded in time, and a failed step's W&B run ends crashed even
when the server died under it."""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, asset, materialize

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource
from dagster_wandb_artifacts.client import Api
from dagster_wandb_artifacts.runs import wandb_run_id
from tests.support import free_port, kill_once_an_upload_starts, server_process

KEY = "local-" + "f" * 48


def _materialize_marking(resource: WandbArtifactsResource, ran: list[str], instance=None):
    @asset
    def table() -> dict:
        ran.append("table")
        return {"rows": 1}

    return materialize(
        [table],
        resources={"io_manager": WandbArtifactsIOManager(wandb=resource)},
        raise_on_error=False,
        instance=instance,
    )


def _failure_message(result) -> str:
    """The errors the run's events carry (a resource that fails to set up fails its step)."""
    errors = [getattr(e.event_specific_data, "error", None) for e in result.all_events]
    return "\n".join(str(error.message) for error in errors if error is not None)


def test_a_refused_key_fails_the_step_before_the_asset_runs(server, wandb_home):
    ran: list[str] = []
    resource = WandbArtifactsResource(host=server.base_url, api_key="local-" + "x" * 48)
    result = _materialize_marking(resource, ran)
    assert not result.success
    assert ran == []  # the asset's code never ran
    message = _failure_message(result)
    assert f"W&B at {server.base_url} refused the API key" in message
    assert "x" * 48 not in message


def _warnings(instance: DagsterInstance, run_id: str) -> list[str]:
    return [e.user_message for e in instance.all_logs(run_id) if e.level == 30]  # WARNING


def test_a_refused_connection_fails_the_check_within_seconds_with_truthful_retries(wandb_home):
    ran: list[str] = []
    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    resource = WandbArtifactsResource(host=host, api_key=KEY)  # retry_timeout: 30 s
    instance = DagsterInstance.ephemeral()
    result = _materialize_marking(resource, ran, instance)
    assert not result.success and ran == []
    assert f"W&B at {host} cannot be reached" in _failure_message(result)
    # The count announced is the count made: the 2 s leave room for one or two retries.
    warnings = _warnings(instance, result.run_id)
    (planned,) = {re.search(r"attempt \d+ of at most (\d+),", w).group(1) for w in warnings}
    assert len(warnings) == int(planned) - 1 and int(planned) <= 3
    assert f"failed after {planned} attempts in 2 s" in _failure_message(result)
    assert all("connection refused" in w for w in warnings)
    assert all("giving up 2 s after the first failure" in w for w in warnings)


def test_a_host_that_never_answers_keeps_the_bounded_retry(wandb_home):
    """Timeouts are not refusals: the check retries them for the whole retry_timeout."""
    ran: list[str] = []
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        resource = WandbArtifactsResource(host=host, api_key=KEY, timeout=0.5, retry_timeout=3)
        instance = DagsterInstance.ephemeral()
        result = _materialize_marking(resource, ran, instance)
    assert not result.success and ran == []
    warnings = _warnings(instance, result.run_id)
    assert warnings and all("timed out" in w for w in warnings)
    assert "giving up 3 s after the first failure" in warnings[0]


def test_a_server_killed_mid_upload_fails_the_step_soon_and_its_run_ends_crashed(
    tmp_path, wandb_home
):
    port, root = free_port(), tmp_path / "root"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(256 * 1024**2))
    resource = WandbArtifactsResource(
        host=f"http://127.0.0.1:{port}", api_key=KEY, entity="local", retry_timeout=2
    )

    @asset
    def model() -> Path:
        return big

    instance = DagsterInstance.ephemeral()
    with server_process(root, port, KEY) as process:
        killer = kill_once_an_upload_starts(process, root)
        started = time.monotonic()
        result = materialize(
            [model],
            resources={"io_manager": WandbArtifactsIOManager(wandb=resource)},
            raise_on_error=False,
            instance=instance,
        )
        elapsed = time.monotonic() - started
        killer.join()
    assert process.returncode is not None  # killed mid-upload
    assert not result.success
    assert elapsed < 45, elapsed  # the upload's retries (2 s) and teardown (5 s), not minutes
    print(f"materialize returned {elapsed:.1f} s after it started")
    messages = [(e.level, e.user_message) for e in instance.all_logs(result.run_id)]
    assert any(level == 30 and "PUT http" in m and "attempt 1 of" in m for level, m in messages)
    assert any(level == 30 and "it will be at the next contact" in m for level, m in messages)
    # The upload's progress went to the step's log too, and says where it stopped.
    assert any(m.startswith("uploaded ") and "stopped by an error" in m for _, m in messages)

    # The next contact with the server (the next step's resource setup) marks it crashed.
    with server_process(root, port, KEY):
        ran: list[str] = []
        assert _materialize_marking(resource, ran).success
        api = Api({"base_url": f"http://127.0.0.1:{port}", "entity": "local"}, api_key=KEY)
        run_id = wandb_run_id(result.run_id, "model")
        assert api.run(f"local/dagster/{run_id}").state == "crashed"


def test_discovery_with_the_host_down_fails_within_its_timeout_naming_the_host(wandb_home):
    from dagster_wandb_artifacts import wandb_artifact_specs
    from dagster_wandb_artifacts.client import CommError

    host = f"http://127.0.0.1:{free_port()}"
    resource = WandbArtifactsResource(host=host, api_key=KEY)
    started = time.monotonic()
    with pytest.raises(CommError, match=f"could not reach W&B at {host} within 1 s"):
        wandb_artifact_specs(resource, timeout=1)
    assert time.monotonic() - started < 10
