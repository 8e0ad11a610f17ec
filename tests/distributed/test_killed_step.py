"""Killing a step's process mid-step fails that step visibly; Dagster's retry policy then runs
it again and it succeeds, and no version is left half-committed."""

from __future__ import annotations

import os
import signal
import socket
import threading

import pytest
from dagster import DagsterEventType, execute_job, reconstructable

from dagster_wandb_artifacts.client import Api
from tests.distributed import defs

pytestmark = pytest.mark.slow

#: Seconds the test waits for a step to reach its hold, and for the run to end.
WAIT_SECONDS = 120


def test_killed_step_fails_visibly_and_its_retry_succeeds(
    artifact_server, instance, launcher_env, monkeypatch
):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(WAIT_SECONDS)
    monkeypatch.setenv(defs.HOLD_ENV, f"127.0.0.1:{listener.getsockname()[1]}")
    outcome: dict = {}

    def run() -> None:
        with execute_job(
            reconstructable(defs.multiprocess_job), instance=instance, raise_on_error=False
        ) as result:
            outcome["success"] = result.success
            outcome["events"] = result.all_events

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    with listener:
        first, _ = listener.accept()  # `evaluation`'s process, holding
        with first:
            first.settimeout(WAIT_SECONDS)
            pid = int(first.recv(32).decode())
            os.kill(pid, signal.SIGKILL)
        retry, _ = listener.accept()  # its retry, in a new process
        with retry:
            retry.settimeout(WAIT_SECONDS)
            assert int(retry.recv(32).decode()) != pid
            retry.sendall(b"go")
    runner.join(WAIT_SECONDS)
    assert not runner.is_alive()

    assert outcome["success"]
    events = [e for e in outcome["events"] if e.step_key == "evaluation"]
    kinds = [e.event_type for e in events]
    # The killed attempt is a visible failure, up for retry; the retry succeeds.
    assert DagsterEventType.STEP_UP_FOR_RETRY in kinds or DagsterEventType.STEP_FAILURE in kinds
    assert kinds[-1] == DagsterEventType.STEP_SUCCESS
    assert kinds.count(DagsterEventType.STEP_START) + kinds.count(
        DagsterEventType.STEP_RESTARTED
    ) == 2

    # One committed version per asset, none pending from the killed attempt.
    api = Api(
        {"base_url": artifact_server.base_url, "entity": defs.ENTITY, "project": "multiprocess"},
        api_key=artifact_server.api_key,
    )
    versions = list(api.artifacts("evaluation", f"{defs.ENTITY}/multiprocess/evaluation"))
    assert [(v.version, v.state) for v in versions] == [("v0", "COMMITTED")]
    assert versions[0].logged_by().state == "finished"
