"""Killing a step's process mid-step fails that step visibly, and no version is left
half-committed: on the multiprocess executor Dagster's retry policy runs the step again and
it succeeds; on Dask (whose executor has no step retries) the run fails naming the step, and
the job run again succeeds. On Celery's prefork pool, the worker whose child was killed records
the task failed (the run fails naming the step; the job run again succeeds), or, acknowledging
tasks late, puts it back in the queue (the run succeeds)."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass
class Ended:
    success: bool
    run_id: str
    events: list


def start_run(job, instance, tags: dict, run_config: dict | None = None) -> Callable[[], Ended]:
    """Run ``job`` in a thread while the test holds and kills its steps; the function returned
    waits for the run's end (bounded) and gives its outcome."""
    ended: list[Ended] = []

    def run() -> None:
        with execute_job(
            reconstructable(job),
            instance=instance,
            run_config=run_config or {},
            raise_on_error=False,
            tags=tags,
        ) as result:
            ended.append(Ended(result.success, result.run_id, result.all_events))

    runner = threading.Thread(target=run, daemon=True)
    runner.start()

    def wait() -> Ended:
        runner.join(WAIT_SECONDS)
        assert not runner.is_alive(), "the run did not end"
        return ended[0]

    return wait


def accept_pid(listener: socket.socket) -> tuple[socket.socket, int]:
    """The next held step's connection and the pid it reports."""
    connection, _ = listener.accept()
    connection.settimeout(WAIT_SECONDS)
    return connection, int(connection.recv(32).decode())


def test_killed_step_fails_visibly_and_its_retry_succeeds(
    artifact_server, instance, launcher_env, hold
):
    listener, tags = hold
    wait = start_run(defs.multiprocess_job, instance, tags)
    first, pid = accept_pid(listener)  # `evaluation`'s process, holding
    with first:
        os.kill(pid, signal.SIGKILL)
    retry, retry_pid = accept_pid(listener)  # its retry, in a new process
    with retry:
        assert retry_pid != pid
        retry.sendall(b"go")
    ended = wait()

    assert ended.success
    events = [e for e in ended.events if e.step_key == "evaluation"]
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


def kill_then_run_again(
    job,
    project: str,
    run_config: dict,
    hold,
    instance,
    artifact_server,
    is_worker: Callable[[int], bool],
    reported: tuple[str, ...],
) -> None:
    """Kill `evaluation`'s process mid-step (``is_worker`` checks whose it is) in a run of
    ``job``, which logs into ``project``: the run fails, its log saying ``reported``, and
    leaves no version of it; the job run again succeeds, its unchanged upstream assets keeping
    their versions."""
    listener, tags = hold
    wait = start_run(job, instance, tags, run_config)
    first, pid = accept_pid(listener)
    with first:
        assert is_worker(pid)
        os.kill(pid, signal.SIGKILL)
    ended = wait()
    assert not ended.success
    assert instance.get_run_by_id(ended.run_id).status.value == "FAILURE"
    log = "\n".join(map(_text, instance.all_logs(ended.run_id)))
    assert all(text in log for text in reported), log[-3000:]
    api = Api(
        {"base_url": artifact_server.base_url, "entity": defs.ENTITY, "project": project},
        api_key=artifact_server.api_key,
    )
    assert not api.artifact_collection_exists("evaluation", "evaluation")

    wait = start_run(job, instance, tags, run_config)
    again, again_pid = accept_pid(listener)
    with again:
        assert again_pid != pid
        again.sendall(b"go")
    assert wait().success
    versions = list(api.artifacts("evaluation", f"{defs.ENTITY}/{project}/evaluation"))
    assert [(v.version, v.state) for v in versions] == [("v0", "COMMITTED")]
    assert versions[0].logged_by().state == "finished"
    # The upstream steps ran twice with the same values: the same versions, none added.
    assert [v.version for v in api.artifacts("model", f"{defs.ENTITY}/{project}/model")] == ["v0"]


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
    run_config = {
        "execution": {"config": {"cluster": {"existing": {"address": cluster.address}}}}
    }
    # Run again, on the worker left. (Not a re-execution from the failure: dagster-dask 0.29
    # cannot run a subset whose inputs come from steps it skips, KeyError.)
    kill_then_run_again(
        defs.dask_kill_job,
        "dask-kill",
        run_config,
        hold,
        instance,
        artifact_server,
        is_worker=lambda pid: pid in {worker.pid for worker in cluster.workers},
        reported=("KilledWorker", "job.evaluation"),
    )


def _parent(pid: int) -> int:
    """The pid of the process that started ``pid`` (the Celery worker of a pool's child)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


#: Celery settings of the workers that put a task back in the queue when the process running
#: it dies (the task is acknowledged once it has run, not when it is received).
REQUEUE = {"task_acks_late": True, "task_reject_on_worker_lost": True}


#: Redis databases of the prefork tests' brokers, one a test: the session's solo workers
#: (tests/distributed/test_engines.py) listen on database 0 and would take these tasks.
_BROKER_DATABASES = itertools.count(1)


@pytest.fixture
def prefork_broker(redis_url) -> str:
    """A broker of the test's own on the session's Redis (a database no other worker uses)."""
    return f"{redis_url}/{next(_BROKER_DATABASES)}"


@pytest.fixture
def prefork_workers(request, tmp_path, artifact_server, prefork_broker):
    """Two Celery workers of their own, each running its task in a child process it watches
    (the prefork pool): this test kills a child mid-step."""
    with services.celery_workers(
        tmp_path, artifact_server, prefork_broker, pool="prefork", settings=request.param
    ) as workers:
        yield workers


@pytest.mark.parametrize("prefork_workers", [None], indirect=True)
def test_killed_celery_task_fails_the_run_and_a_new_run_succeeds(
    prefork_workers, prefork_broker, artifact_server, instance, launcher_env, hold
):
    # The worker records the task failed (WorkerLostError); dagster-celery fails the run
    # naming the step. Its RetryPolicy is not applied: it acts on a failure the step itself
    # reports, and a killed step reports nothing.
    kill_then_run_again(
        defs.celery_kill_job,
        "celery-kill",
        {"execution": {"config": {"broker": prefork_broker, "backend": prefork_broker}}},
        hold,
        instance,
        artifact_server,
        is_worker=lambda pid: _parent(pid) in {worker.pid for worker in prefork_workers},
        reported=("WorkerLostError", "evaluation"),
    )


@pytest.mark.parametrize("prefork_workers", [REQUEUE], indirect=True)
def test_killed_celery_task_is_requeued_and_the_run_succeeds(
    prefork_workers, prefork_broker, artifact_server, instance, launcher_env, hold
):
    listener, tags = hold
    run_config = {"execution": {"config": {"broker": prefork_broker, "backend": prefork_broker}}}
    wait = start_run(defs.celery_requeue_job, instance, tags, run_config)
    first, pid = accept_pid(listener)
    with first:
        [killed] = [w for w in prefork_workers if w.pid == _parent(pid)]
        os.kill(pid, signal.SIGKILL)
    # The worker puts the task back in the queue; a new process takes it up.
    again, second_pid = accept_pid(listener)
    with again:
        assert second_pid != pid
        again.sendall(b"go")
    ended = wait()
    assert ended.success
    # Visible: the worker reports its process killed, and the run's log shows the step
    # started twice.
    assert killed.output is not None
    killed.output.wait_for(f"pid:{pid} exited with 'signal 9 (SIGKILL)'", timeout=10)
    entries = instance.all_logs(ended.run_id)
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
