"""A run's history: rows logged with ``run.log`` (as ``wandb.log`` logs them), and read back
with ``history`` / ``scan_history`` (as the SDK's public ``Run`` reads them)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import queries
from .errors import InvalidInputError
from .file_stream import FileStream
from .progress import warn
from .summary import to_json

if TYPE_CHECKING:
    from .run import Run


class HistoryWriter:
    """The rows of one run being logged: W&B's step rules, and the summary's last values.

    As ``wandb.log``: a row is committed (gets ``_step``, ``_runtime``, ``_timestamp``) when
    ``commit`` is true, or when a later ``step`` is given; ``commit=False`` adds to the row
    being built; a ``step`` lower than the current one is ignored with a warning. Every
    committed value becomes the summary's value for its key.
    """

    def __init__(self, run: Run, *, first_line: int, step: int) -> None:
        self._stream = FileStream(run._api, run.entity, run.project, run.id, first_line=first_line)
        self._run = run
        # Whether rows were committed since the summary was last sent.
        self.dirty = False
        self._step = step
        self._row: dict[str, Any] = {}
        self._started = time.time()

    @property
    def pending(self) -> bool:
        """Whether a row is being built (``commit=False``)."""
        return bool(self._row)

    @property
    def step(self) -> int:
        return self._step

    def log(self, data: Mapping[str, Any], step: int | None, commit: bool | None) -> None:
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"run.log takes a dict of metrics, not {type(data).__name__}")
        for key in data:
            if not isinstance(key, str):
                raise InvalidInputError(f"run.log keys must be strings, not {key!r}")
        if step is not None:
            if not isinstance(step, int) or isinstance(step, bool) or step < 0:
                raise InvalidInputError(f"step must be a non-negative integer, not {step!r}")
            if step < self._step:
                warn(
                    f"run.log: step {step} is lower than the current step {self._step}; "
                    "this data is ignored (W&B's steps only increase)"
                )
                return
            if step > self._step:
                self._commit()
                self._step = step
        self._row.update(data)
        if commit or (commit is None and step is None):
            self._commit()

    def _commit(self) -> None:
        if not self._row:
            return
        now = time.time()
        row = {**self._row, "_step": self._step, "_runtime": now - self._started, "_timestamp": now}
        self._stream.push(to_json(row, "run.log"))
        self._run.summary.set_quietly(row)
        self.dirty = True
        self._row = {}
        self._step += 1

    def save_summary(self, summary_json: str) -> None:
        self._commit()
        self._stream.set_summary(summary_json)
        self._stream.flush()
        self.dirty = False

    def _send_summary(self) -> None:
        """Queue the summary if rows changed it: a summary this writer did not change may
        have been set by another client since (the SDK attached to the run)."""
        self._commit()
        if self.dirty:
            self._stream.set_summary(to_json(self._run.summary.as_dict(), "summary"))
            self.dirty = False

    def flush(self) -> None:
        self._send_summary()
        self._stream.flush()

    def finish(self, exit_code: int) -> None:
        self._send_summary()
        self._stream.finish(exit_code)


def _variables(run: Run, **more: Any) -> dict[str, Any]:
    return {"entity": run.entity, "project": run.project, "name": run.id, **more}


def history(
    run: Run,
    samples: int = 500,
    keys: list[str] | None = None,
    x_axis: str = "_step",
    pandas: bool = True,
    stream: str = "default",
) -> Any:
    """Sampled rows of the run's history, as the SDK's ``Run.history``."""
    if keys is not None and (
        not isinstance(keys, list) or not all(isinstance(key, str) for key in keys)
    ):
        raise InvalidInputError("keys must be a list of strings")
    if stream not in ("default", "system"):
        raise InvalidInputError(f"stream must be 'default' or 'system', not {stream!r}")
    if keys:
        if stream != "default":
            raise InvalidInputError("stream must be 'default' when keys are given")
        spec = json.dumps({"keys": [x_axis, *keys], "samples": samples})
        reply = run._api.client.execute(
            queries.RUN_SAMPLED_HISTORY, _variables(run, specs=[spec])
        )
        lines = reply["project"]["run"]["sampledHistory"][0]
    elif stream == "system":
        lines = []  # system metrics are not kept by this client's runs
    else:
        reply = run._api.client.execute(queries.RUN_FULL_HISTORY, _variables(run, samples=samples))
        lines = [json.loads(line) for line in reply["project"]["run"]["history"]]
    if pandas:
        import pandas as pd

        return pd.DataFrame.from_records(lines)
    return lines


def scan_history(
    run: Run,
    keys: list[str] | None = None,
    page_size: int = 1_000,
    min_step: int = 0,
    max_step: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every row of the run's history, a page of steps at a time, as the SDK's
    ``Run.scan_history``: with ``keys``, only rows holding all of them, cut down to them."""
    if keys is not None and (
        not isinstance(keys, list) or not all(isinstance(key, str) for key in keys)
    ):
        raise ValueError("keys must be a list of strings")
    last = int((run._attrs.get("historyKeys") or {}).get("lastStep", -1))
    stop = last + 1 if max_step is None else min(max_step, last + 1)
    start = min_step
    while start < stop:
        end = min(start + page_size, stop)
        if keys:
            # The server reads maxStep of a sampled spec as the last step included.
            spec = {"keys": ["_step", *keys], "minStep": start, "maxStep": end - 1}
            spec["samples"] = end - start
            reply = run._api.client.execute(
                queries.RUN_SAMPLED_HISTORY, _variables(run, specs=[json.dumps(spec)])
            )
            yield from reply["project"]["run"]["sampledHistory"][0]
        else:
            reply = run._api.client.execute(
                queries.HISTORY_PAGE,
                {
                    "entity": run.entity,
                    "project": run.project,
                    "run": run.id,
                    "minStep": start,
                    "maxStep": end,
                    "pageSize": end - start,
                },
            )
            yield from (json.loads(line) for line in reply["project"]["run"]["history"])
        start = end
