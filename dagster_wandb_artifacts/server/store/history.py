"""Run history: the rows a run logs through its file stream (``wandb-history.jsonl``).

Each row is kept as the JSON line the client sent, numbered by its line in the file (the
file stream's ``offset``), so a chunk sent again after a lost reply writes nothing twice.
The step is W&B's ``_step`` (the line number when a row has none); reads go by step.
Beside each row, ``kinds`` maps its keys to their JSON types: SQLite (before 3.42) cannot
read the ``NaN`` and ``Infinity`` that W&B rows may hold, so queries look at keys there.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .base import StoreError
from .versions import Store

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS run_history (
    run_id INTEGER NOT NULL REFERENCES runs(id), line INTEGER NOT NULL,
    step INTEGER NOT NULL, row TEXT NOT NULL, kinds TEXT NOT NULL,
    PRIMARY KEY (run_id, line))""",
    "CREATE INDEX IF NOT EXISTS run_history_step ON run_history (run_id, step)",
)

#: Rows one read returns at most (W&B's ``samples`` are capped the same way).
MAX_SAMPLES = 10_000
#: Lines ``historyTail`` returns (what a resuming SDK reads its next step from).
TAIL_LINES = 10
#: Above every step (SQLite's largest integer).
_LAST_STEP = 2**63 - 1
#: Keys one ``sampledHistory`` spec may name.
MAX_SPEC_KEYS = 100
#: History keys ``historyKeys`` describes at most.
MAX_KEYS = 1_000


def create_tables(store: Store) -> None:
    with store.write() as db:
        for statement in _SCHEMA:
            db.execute(statement)


#: A parsed history line: (line number, step, the line, its keys' JSON types as JSON).
Line = tuple[int, int, str, str]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def parse_lines(offset: Any, lines: list[str]) -> list[Line]:
    """The lines of a ``wandb-history.jsonl`` chunk; each must be a JSON object whose
    ``_step``, when present, is a non-negative integer."""
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise StoreError("wandb-history.jsonl: offset must be a non-negative integer")
    parsed = []
    for index, line in enumerate(lines):
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if not isinstance(row, dict):
            raise StoreError(f"wandb-history.jsonl line {offset + index} is not a JSON object")
        step = row.get("_step", offset + index)
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise StoreError(
                f"wandb-history.jsonl line {offset + index}: _step must be a non-negative integer"
            )
        kinds = json.dumps({key: _kind(value) for key, value in row.items()})
        parsed.append((offset + index, step, line, kinds))
    return parsed


def append(store: Store, run_id: int, rows: list[Line]) -> None:
    """Record parsed lines (:func:`parse_lines`); a line already recorded is kept as it is."""
    with store.write() as db:
        db.executemany(
            "INSERT INTO run_history (run_id, line, step, row, kinds) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, line) DO NOTHING",
            [(run_id, *parsed) for parsed in rows],
        )


def record(store: Store, run_id: int, offset: Any, lines: list[str]) -> None:
    """Parse and record a ``wandb-history.jsonl`` chunk (nothing when a line is bad)."""
    append(store, run_id, parse_lines(offset, lines))


def line_count(store: Store, run_id: int) -> int:
    found = store.one("SELECT max(line) + 1 FROM run_history WHERE run_id = ?", (run_id,))
    return int(found[0] or 0) if found else 0


def tail(store: Store, run_id: int, lines: int = TAIL_LINES) -> list[str]:
    rows = store.all(
        "SELECT row FROM run_history WHERE run_id = ? ORDER BY line DESC LIMIT ?", (run_id, lines)
    )
    return [row["row"] for row in reversed(rows)]


def _bounded(samples: int | None) -> int:
    if samples is None:
        return MAX_SAMPLES
    if samples < 1:
        raise StoreError("samples must be at least 1")
    return min(samples, MAX_SAMPLES)


def rows(
    store: Store,
    run_id: int,
    *,
    samples: int | None = None,
    min_step: int | None = None,
    max_step: int | None = None,
) -> list[str]:
    """The rows with ``min_step <= _step < max_step`` by step; more than ``samples`` rows are
    thinned to ``samples`` evenly spread ones, the first and last kept."""
    wanted = _bounded(samples)
    where = "run_id = ? AND step >= ? AND step < ?"
    last = _LAST_STEP if max_step is None else max_step
    span = (run_id, -1 if min_step is None else min_step, last)
    count = store.one(f"SELECT count(*) FROM run_history WHERE {where}", span)[0]
    if count <= wanted:
        found = store.all(f"SELECT row FROM run_history WHERE {where} ORDER BY step, line", span)
        return [row["row"] for row in found]
    picked = sorted({round(i * (count - 1) / max(wanted - 1, 1)) for i in range(wanted)})
    found = store.all(
        f"SELECT row FROM (SELECT row, ROW_NUMBER() OVER (ORDER BY step, line) - 1 AS i "
        f"FROM run_history WHERE {where}) WHERE i IN ({','.join('?' * len(picked))}) ORDER BY i",
        (*span, *picked),
    )
    return [row["row"] for row in found]


def sampled(store: Store, run_id: int, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """W&B's ``sampledHistory`` for one spec ``{keys, samples, minStep, maxStep}``: the rows
    holding every key of ``keys``, each cut down to those keys. Here ``maxStep`` is the last
    step included: the SDK's scan (wandb-core's ``SampledHistoryPage``) asks for a page of
    steps ``[minStep, maxStep]`` with ``samples`` the page's width."""
    keys = spec.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise StoreError("a sampledHistory spec needs keys: a non-empty list of strings")
    if len(keys) > MAX_SPEC_KEYS:
        raise StoreError(f"a sampledHistory spec names at most {MAX_SPEC_KEYS} keys")
    bounds = {name: spec.get(name) for name in ("samples", "minStep", "maxStep")}
    for name, value in bounds.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise StoreError(f"a sampledHistory spec's {name} must be an integer")
    wanted_keys = sorted(set(keys))
    # Matched as json_each's keys: a JSON path cannot name every key (quotes, dots).
    present = (
        f"(SELECT count(*) FROM json_each(kinds) WHERE key IN "
        f"({','.join('?' * len(wanted_keys))})) = ?"
    )
    where = " AND ".join(["run_id = ?", "step >= ?", "step <= ?", present])
    params = (
        run_id,
        -1 if bounds["minStep"] is None else bounds["minStep"],
        _LAST_STEP if bounds["maxStep"] is None else bounds["maxStep"],
        *wanted_keys,
        len(wanted_keys),
    )
    wanted = _bounded(bounds["samples"])
    count = store.one(f"SELECT count(*) FROM run_history WHERE {where}", params)[0]
    stride = max(1, math.ceil(count / wanted))
    found = store.all(
        f"SELECT row FROM (SELECT row, ROW_NUMBER() OVER (ORDER BY step, line) - 1 AS i "
        f"FROM run_history WHERE {where}) WHERE i % ? = 0 ORDER BY i LIMIT ?",
        (*params, stride, wanted),
    )
    return [{key: json.loads(row["row"])[key] for key in keys} for row in found]


def keys(store: Store, run_id: int) -> dict[str, Any]:
    """W&B's ``historyKeys``: ``{"lastStep", "keys": {key: {"typeCounts": [...]}}}``."""
    last = store.one("SELECT max(step) FROM run_history WHERE run_id = ?", (run_id,))
    counts: dict[str, dict[str, int]] = {}
    for found in store.all(
        "SELECT j.key AS key, j.value AS kind, count(*) AS n FROM run_history h, "
        "json_each(h.kinds) j WHERE h.run_id = ? GROUP BY j.key, j.value ORDER BY j.key LIMIT ?",
        (run_id, MAX_KEYS),
    ):
        counts.setdefault(found["key"], {})[found["kind"]] = found["n"]
    described = {
        key: {"typeCounts": [{"type": kind, "count": n} for kind, n in by_type.items()]}
        for key, by_type in counts.items()
    }
    last_step = last[0] if last and last[0] is not None else -1
    return {"lastStep": last_step, "keys": described}
