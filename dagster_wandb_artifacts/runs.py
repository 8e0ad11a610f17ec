"""One W&B run per Dagster step: created on first use, finished when the process tears down.

The run's id is derived from the Dagster run id and step key, so a retried or resumed step
process finds the same W&B run, and its group is the Dagster run id so the UI groups a
whole Dagster run's steps together.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from dagster import DagsterEventType, InitResourceContext

from .client import Api, Artifact, Run, WandbError
from .client.progress import reporting_to, warn
from .client.transfer import DEFAULT_WORKERS, parallel_map
from .client.transport import time_limited

#: Seconds teardown may spend finishing the step's W&B runs (per request, and retrying).
TEARDOWN_SECONDS = 5.0

T = TypeVar("T")
#: (Dagster run id, step key)
Step = tuple[str, str]


def wandb_run_id(dagster_run_id: str, step_key: str) -> str:
    return hashlib.sha1(f"{dagster_run_id}/{step_key}".encode()).hexdigest()[:16]


class StepRuns:
    """The W&B runs this process opened, by (Dagster run id, step key), and the requests of
    each step sent in the background (its run, the records of its inputs)."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], Run] = {}
        self._api: Api | None = None
        self._lock = threading.Lock()
        # Apart from _lock, which is held while a run is created (a round trip).
        self._background_lock = threading.Lock()
        self._background: ThreadPoolExecutor | None = None
        self._uses: dict[Step, list[Future[None]]] = {}
        # Paths of the runs handed to asset bodies (``run_for``): only those can hold metrics.
        self._in_bodies: set[tuple[str, ...]] = set()

    def hand_to_body(self, run: Run) -> Run:
        """Note that the asset body has ``run`` (it may log into it, or attach the SDK)."""
        with self._lock:
            self._in_bodies.add(tuple(run.path))
        return run

    def in_body(self, run: Run) -> bool:
        with self._lock:
            return tuple(run.path) in self._in_bodies

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        """``work(*args)`` in the background: a round trip the step need not wait for yet."""
        with self._background_lock:
            if self._background is None:
                self._background = ThreadPoolExecutor(4, thread_name_prefix="wandb-step")
            # In a copy of the caller's context, so retry notices reach the step's log.
            return self._background.submit(contextvars.copy_context().run, work, *args)

    def record_use(self, step: Step, run: Future[Run], artifact: Artifact) -> None:
        """Record on the step's run, in the background, that it used ``artifact``."""
        used = self.submit(lambda: run.result().use_artifact(artifact))
        with self._background_lock:
            self._uses.setdefault(step, []).append(used)

    def wait_for_uses(self, step: Step) -> None:
        """Wait until W&B has the step's input records; raises the first that failed."""
        with self._background_lock:
            pending = self._uses.pop(step, [])
        for used in pending:
            used.result()

    def get(
        self,
        api: Api,
        *,
        dagster_run_id: str,
        step_key: str,
        job_type: str,
        project: str,
        entity: str | None,
        config: dict[str, Any],
    ) -> Run:
        with self._lock:
            key = (dagster_run_id, step_key)
            self._api = api
            if key not in self._runs:
                self._runs[key] = api.create_run(
                    run_id=wandb_run_id(dagster_run_id, step_key),
                    project=project,
                    entity=entity,
                    group=dagster_run_id,
                    job_type=job_type,
                    config=config,
                    display_name=f"{job_type}-{dagster_run_id[:8]}",
                )
            return self._runs[key]

    def finish_all(self, failed_step_keys: set[str], dagster_run_id: str | None = None) -> None:
        """Finish every run (of one Dagster run, when given), once the records of the inputs
        still in flight are sent; a record that failed is raised after the runs are finished."""
        with self._background_lock:
            steps = [step for step in self._uses if dagster_run_id in (None, step[0])]
        failure: BaseException | None = None
        for step in steps:
            try:
                self.wait_for_uses(step)
            except Exception as exc:  # noqa: BLE001 - raised once the runs are finished
                failure = failure or exc
        with self._lock:
            runs = {
                key: self._runs.pop(key)
                for key in list(self._runs)
                if dagster_run_id in (None, key[0])
            }
            self._in_bodies -= {tuple(run.path) for run in runs.values()}
            api = self._api

        def finish(item: tuple[tuple[str, str], Run]) -> None:
            (_, step_key), run = item
            exit_code = 1 if step_key in failed_step_keys else 0
            try:
                run.finish(exit_code=exit_code)
            except WandbError as exc:
                assert api is not None  # every run was made with it
                _remember_unfinished(api, run, exit_code)
                state = "crashed" if exit_code else "finished"
                warn(
                    f"W&B run {run.path} could not be marked {state} ({exc}); it will be at "
                    f"the next contact with {api.base_url}"
                )

        # One request each, all independent: sent together, and never retried for long.
        with time_limited(TEARDOWN_SECONDS):
            parallel_map(finish, runs.items(), DEFAULT_WORKERS)
        with self._background_lock:
            idle = not self._uses
            background, self._background = (self._background, None) if idle else (None, None)
        if background is not None:
            background.shutdown()
        if failure is not None:
            raise failure


#: The step runs of this process, shared by every IO manager and resource in it: the run an
#: asset body logs metrics into (``WandbArtifactsResource.run_for``) is the run that uses the
#: step's inputs and logs its outputs.
STEP_RUNS = StepRuns()


def open_step_run(
    api: Api,
    *,
    dagster_run_id: str,
    step_key: str,
    job_name: str,
    op_name: str,
    project: str,
    entity: str | None,
    dagster_url: str,
) -> Run:
    """The step's W&B run (created on first use), with the Dagster run in its config."""
    return STEP_RUNS.get(
        api,
        dagster_run_id=dagster_run_id,
        step_key=step_key,
        job_type=op_name,
        project=project,
        entity=entity,
        config={
            "dagster_run_id": dagster_run_id,
            "dagster_run_url": f"{dagster_url.rstrip('/')}/runs/{dagster_run_id}",
            "dagster_job": job_name,
            "dagster_step": step_key,
            # W&B's mark of a started run (the SDK's telemetry entry): with it, the SDK's
            # ``wandb.init(id=run.id, resume="must")`` attaches to the run and continues its
            # history after the rows already logged.
            "_wandb": {"t": {}},
        },
    )


def finish_step_runs(context: InitResourceContext) -> None:
    """Finish the W&B runs of the Dagster run whose resources are torn down (``crashed`` for
    a failed step: step failures are in the event log before the resources are torn down)."""
    failed: set[str] = set()
    run_id = context.run.run_id if context.run is not None else None
    if context.instance is not None and run_id is not None:
        failed = {
            entry.step_key
            for entry in context.instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
            if entry.step_key
        }
    if context.log is not None:
        with reporting_to(context.log):
            STEP_RUNS.finish_all(failed, run_id)
    else:
        STEP_RUNS.finish_all(failed, run_id)


def _unfinished_folder(api: Api) -> Path:
    return api.cache.root / "dagster-wandb-artifacts" / "unfinished-runs"


def _remember_unfinished(api: Api, run: Run, exit_code: int) -> None:
    record = {
        "base_url": api.base_url,
        "entity": run.entity,
        "project": run.project,
        "id": run.id,
        "exit_code": exit_code,
    }
    folder = _unfinished_folder(api)
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(f"{api.base_url}/{run.path}".encode()).hexdigest()
    (folder / f"{name}.json").write_text(json.dumps(record))


def finish_unfinished(api: Api) -> list[str]:
    """Finish the runs an earlier teardown could not reach this server for (a failed step's run
    ends ``crashed``); returns their paths."""
    folder = _unfinished_folder(api)
    finished = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # another process finished it (and removed the file) meanwhile
        if record.get("base_url") != api.base_url:
            continue
        run = Run(api, record["entity"], record["project"], record["id"], {})
        run.finish(exit_code=int(record["exit_code"]))
        path.unlink(missing_ok=True)
        finished.append(run.path)
    return finished
