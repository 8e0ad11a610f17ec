"""Killing a step's process mid-step fails that step visibly, and no version is left
half-committed: on the multiprocess executor Dagster's retry policy runs the step again and
it succeeds; on Dask (whose executor has no step retries) the run fails naming the step, and
the job run again succeeds."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import pytest
from dagster import DagsterEventType, execute_job, reconstructable

from dagster_wandb_artifacts.client import Api
from tests.distributed import defs, services

pytestmark = pytest.mark.slow

#: Seconds the test waits for a step to reach its hold, and for the run to end.
WAIT_SECONDS = 120


@pytest.fixture
def hold():
    """A listening socket the held step reports to, and the run tag that names it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(WAIT_SECONDS)
        yield listener, {defs.HOLD_TAG: f"127.0.0.1:{listener.getsockname()[1]}"}


def test_killed_step_fails_visibly_and_its_retry_succeeds(
    artifact_server, instance, launcher_env, hold
):
    listener, tags = hold
    outcome: dict = {}

    def run() -> None:
        with execute_job(
            reconstructable(defs.multiprocess_job),
            instance=instance,
            raise_on_error=False,
            tags=tags,
        ) as result:
            outcome["success"] = result.success
            outcome["events"] = result.all_events

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
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


def _text(entry) -> str:
    """An event log entry's message with the error it carries, if any."""
    data = entry.dagster_event.event_specific_data if entry.dagster_event else None
    error = getattr(data, "error", None)
    return entry.message + ("\n" + error.to_string() if error is not None else "")


@pytest.fixture
def own_dask_cluster(tmp_path, artifact_server):
    """A Dask cluster of its own: this test kills one of its workers."""
    with services.dask_cluster(tmp_path, artifact_server) as cluster:
        yield cluster


def test_killed_dask_worker_fails_the_run_and_a_new_run_succeeds(
    own_dask_cluster, artifact_server, instance, launcher_env, hold
):
    cluster = own_dask_cluster
    listener, tags = hold
    run_config = {
        "execution": {"config": {"cluster": {"existing": {"address": cluster.address}}}}
    }
    job = reconstructable(defs.dask_kill_job)
    outcome: dict = {}

    def run() -> None:
        with execute_job(
            job, instance=instance, run_config=run_config, raise_on_error=False, tags=tags
        ) as result:
            outcome["first"] = (result.success, result.run_id)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    first, _ = listener.accept()  # `evaluation`, holding on one of the workers
    with first:
        first.settimeout(WAIT_SECONDS)
        pid = int(first.recv(32).decode())
        assert pid in {worker.pid for worker in cluster.workers}
        os.kill(pid, signal.SIGKILL)
    runner.join(WAIT_SECONDS)
    assert not runner.is_alive()
    success, run_id = outcome["first"]
    # The run fails, and says which step's worker died.
    assert not success
    failure = instance.get_run_by_id(run_id)
    assert failure.status.value == "FAILURE"
    reported = "\n".join(map(_text, instance.all_logs(run_id)))
    assert "KilledWorker" in reported and "job.evaluation" in reported, reported[-3000:]

    api = Api(
        {"base_url": artifact_server.base_url, "entity": defs.ENTITY, "project": "dask-kill"},
        api_key=artifact_server.api_key,
    )
    assert not api.artifact_collection_exists("evaluation", "evaluation")

    # Run again, on the worker left, it succeeds. (Not a re-execution from the failure:
    # dagster-dask 0.29 cannot run a subset whose inputs come from steps it skips, KeyError.)
    def rerun() -> None:
        with execute_job(job, instance=instance, run_config=run_config, tags=tags) as result:
            outcome["again"] = result.success

    runner = threading.Thread(target=rerun, daemon=True)
    runner.start()
    again, _ = listener.accept()
    with again:
        again.settimeout(WAIT_SECONDS)
        assert int(again.recv(32).decode()) != pid
        again.sendall(b"go")
    runner.join(WAIT_SECONDS)
    assert outcome["again"]
    versions = list(api.artifacts("evaluation", f"{defs.ENTITY}/dask-kill/evaluation"))
    assert [(v.version, v.state) for v in versions] == [("v0", "COMMITTED")]
    # The upstream steps ran twice with the same values: the same versions, none added.
    assert [v.version for v in api.artifacts("model", f"{defs.ENTITY}/dask-kill/model")] == ["v0"]


def _parent(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


def _accept_pid(listener: socket.socket) -> tuple[socket.socket, int]:
    """The next held step's connection and the pid it reports."""
    connection, _ = listener.accept()
    connection.settimeout(WAIT_SECONDS)
    return connection, int(connection.recv(32).decode())


#: Celery settings of the workers that put a task back in the queue when the process running
#: it dies (the task is acknowledged once it has run, not when it is received).
REQUEUE = {"task_acks_late": True, "task_reject_on_worker_lost": True}


@pytest.fixture
def prefork_workers(request, tmp_path, artifact_server, redis_url):
    """Two Celery workers of their own, each running its task in a child process it watches
    (the prefork pool): this test kills a child mid-step."""
    with services.celery_workers(
        tmp_path, artifact_server, redis_url, pool="prefork", settings=request.param
    ) as workers:
        yield workers


@pytest.mark.parametrize("prefork_workers", [None], indirect=True)
def test_killed_celery_task_fails_the_run_and_a_new_run_succeeds(
    prefork_workers, redis_url, artifact_server, instance, launcher_env, hold
):
    listener, tags = hold
    run_config = {"execution": {"config": {"broker": redis_url, "backend": redis_url}}}
    job = reconstructable(defs.celery_kill_job)
    outcome: dict = {}

    def run(name: str) -> None:
        with execute_job(
            job, instance=instance, run_config=run_config, raise_on_error=False, tags=tags
        ) as result:
            outcome[name] = (result.success, result.run_id)

    runner = threading.Thread(target=run, args=("first",), daemon=True)
    runner.start()
    first, pid = _accept_pid(listener)
    with first:
        assert _parent(pid) in {worker.pid for worker in prefork_workers}
        os.kill(pid, signal.SIGKILL)
    runner.join(WAIT_SECONDS)
    assert not runner.is_alive()
    success, run_id = outcome["first"]
    # The worker records the task failed (WorkerLostError); dagster-celery fails the run
    # naming the step. Its RetryPolicy is not applied: it acts on a failure the step itself
    # reports, and a killed step reports nothing.
    assert not success
    assert instance.get_run_by_id(run_id).status.value == "FAILURE"
    reported = "\n".join(map(_text, instance.all_logs(run_id)))
    assert "WorkerLostError" in reported and "evaluation" in reported, reported[-3000:]
    api = Api(
        {"base_url": artifact_server.base_url, "entity": defs.ENTITY, "project": "celery-kill"},
        api_key=artifact_server.api_key,
    )
    assert not api.artifact_collection_exists("evaluation", "evaluation")

    runner = threading.Thread(target=run, args=("again",), daemon=True)
    runner.start()
    again, second_pid = _accept_pid(listener)
    with again:
        assert second_pid != pid
        again.sendall(b"go")
    runner.join(WAIT_SECONDS)
    assert outcome["again"][0]
    versions = list(api.artifacts("evaluation", f"{defs.ENTITY}/celery-kill/evaluation"))
    assert [(v.version, v.state) for v in versions] == [("v0", "COMMITTED")]
    assert versions[0].logged_by().state == "finished"
    assert [v.version for v in api.artifacts("model", f"{defs.ENTITY}/celery-kill/model")] == [
        "v0"
    ]


@pytest.mark.parametrize("prefork_workers", [REQUEUE], indirect=True)
def test_killed_celery_task_is_requeued_and_the_run_succeeds(
    prefork_workers, redis_url, artifact_server, instance, launcher_env, hold
):
    listener, tags = hold
    run_config = {"execution": {"config": {"broker": redis_url, "backend": redis_url}}}
    outcome: dict = {}

    def run() -> None:
        with execute_job(
            reconstructable(defs.celery_requeue_job),
            instance=instance,
            run_config=run_config,
            raise_on_error=False,
            tags=tags,
        ) as result:
            outcome["run"] = (result.success, result.run_id)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    first, pid = _accept_pid(listener)
    with first:
        [killed] = [w for w in prefork_workers if w.pid == _parent(pid)]
        os.kill(pid, signal.SIGKILL)
    # The worker puts the task back in the queue; a new process takes it up.
    again, second_pid = _accept_pid(listener)
    with again:
        assert second_pid != pid
        again.sendall(b"go")
    runner.join(WAIT_SECONDS)
    assert not runner.is_alive()
    success, run_id = outcome["run"]
    assert success
    # Visible: the worker reports its process killed, and the run's log shows the step
    # started twice, each time on a Celery worker.
    assert killed.output is not None
    killed.output.wait_for(f"pid:{pid} exited with 'signal 9 (SIGKILL)'", timeout=10)
    entries = instance.all_logs(run_id)
    starts = [
        e for e in entries
        if e.dagster_event_type == DagsterEventType.STEP_START and e.step_key == "evaluation"
    ]
    assert len(starts) == 2
    api = Api(
        {"base_url": artifact_server.base_url, "entity": defs.ENTITY, "project": "celery-requeue"},
        api_key=artifact_server.api_key,
    )
    versions = list(api.artifacts("evaluation", f"{defs.ENTITY}/celery-requeue/evaluation"))
    assert [(v.version, v.state) for v in versions] == [("v0", "COMMITTED")]
    assert versions[0].logged_by().state == "finished"
