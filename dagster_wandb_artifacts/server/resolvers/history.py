"""The fields of ``Run`` that read its history (see :mod:`..store.history`)."""

from __future__ import annotations

import json
import math
from typing import Any

from ..store import StoreError, history
from .common import Context, InvalidRequest

#: Specs one ``sampledHistory`` request may carry.
MAX_SPECS = 20
#: JSON has no NaN or infinities: values of JSON fields carry W&B's names for them instead
#: (the ``history`` lines keep them as logged).
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _as_json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE[repr(value)]
    if isinstance(value, dict):
        return {key: _as_json(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_as_json(inner) for inner in value]
    return value


class RunHistoryFields:
    """Mixed into ``RunNode``: ``row`` is the run's row."""

    ctx: Context
    row: Any

    @property
    def historyLineCount(self) -> int:  # noqa: N802
        return history.line_count(self.ctx.store, self.row["id"])

    @property
    def historyTail(self) -> str:  # noqa: N802
        # A JSON list of the last lines: a resuming SDK continues from the last ``_step``.
        return json.dumps(history.tail(self.ctx.store, self.row["id"]))

    @property
    def historyKeys(self) -> dict[str, Any]:  # noqa: N802
        return history.keys(self.ctx.store, self.row["id"])

    def history(
        self,
        info: Any,
        samples: int | None = None,
        minStep: int | None = None,  # noqa: N803
        maxStep: int | None = None,  # noqa: N803
    ) -> list[str]:
        return history.rows(
            self.ctx.store, self.row["id"], samples=samples, min_step=minStep, max_step=maxStep
        )

    def events(self, info: Any, samples: int | None = None) -> list[str]:
        # System metrics (wandb-events.jsonl) are not kept.
        return []

    def sampledHistory(self, info: Any, specs: list[str]) -> list[list[dict[str, Any]]]:  # noqa: N802
        if len(specs) > MAX_SPECS:
            raise InvalidRequest(f"at most {MAX_SPECS} sampledHistory specs a request")
        answers = []
        for text in specs:
            spec = json.loads(text)
            if not isinstance(spec, dict):
                raise InvalidRequest("a sampledHistory spec is a JSON object")
            try:
                answers.append(_as_json(history.sampled(self.ctx.store, self.row["id"], spec)))
            except StoreError as exc:
                raise InvalidRequest(str(exc)) from None
        return answers

    def parquetHistory(self, info: Any, liveKeys: list[str]) -> dict[str, Any]:  # noqa: N802,N803
        # No parquet exports here: every row is live data.
        return {
            "parquetUrls": [],
            "liveData": [
                _as_json(json.loads(line)) for line in history.rows(self.ctx.store, self.row["id"])
            ],
        }
