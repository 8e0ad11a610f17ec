"""One W&B run per Dagster step: created on first use, finished when the process tears down.

The run's id is derived from the Dagster run id and step key, so a retried or resumed step
process finds the same W&B run, and its group is the Dagster run id so the UI groups a
whole Dagster run's steps together.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from .client import Api, Run
from .client.transfer import DEFAULT_WORKERS, parallel_map


def wandb_run_id(dagster_run_id: str, step_key: str) -> str:
    return hashlib.sha1(f"{dagster_run_id}/{step_key}".encode()).hexdigest()[:16]


class StepRuns:
    """The W&B runs this process opened, by (Dagster run id, step key)."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], Run] = {}
        self._lock = threading.Lock()

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

    def finish_all(self, failed_step_keys: set[str]) -> None:
        with self._lock:
            runs, self._runs = self._runs, {}

        def finish(item: tuple[tuple[str, str], Run]) -> None:
            (_, step_key), run = item
            run.finish(exit_code=1 if step_key in failed_step_keys else 0)

        # One request each, all independent: sent together.
        parallel_map(finish, runs.items(), DEFAULT_WORKERS)
