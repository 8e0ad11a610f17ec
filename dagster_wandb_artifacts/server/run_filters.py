"""MongoDB-style run filters and orders, as ``Api.runs(filters=..., order=...)`` sends them.

Keys are run fields (``state``, ``name``, ``display_name``, ``group``, ``job_type``, ``tags``,
``created_at``), ``config.<key>`` and ``summary_metrics.<key>`` (dotted paths go deeper).
Operators: ``$and $or $nor $eq $ne $gt $gte $lt $lte $in $nin $exists $regex``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from typing import Any

_MISSING = object()
_ALIASES = {
    "displayName": "display_name",
    "jobType": "job_type",
    "createdAt": "created_at",
    "summaryMetrics": "summary_metrics",
    "id": "name",
}


class FilterError(ValueError):
    """A filter or order this server cannot evaluate."""


def run_document(row: sqlite3.Row) -> dict[str, Any]:
    """The fields filters and orders address, for one run."""
    config = json.loads(row["config"] or "{}")
    return {
        "name": row["name"],
        "display_name": row["display_name"] or row["name"],
        "state": row["state"],
        "group": row["group_name"],
        "job_type": row["job_type"],
        "tags": json.loads(row["tags"]),
        "created_at": row["created_at"],
        "config": {
            key: value["value"] if isinstance(value, dict) and "value" in value else value
            for key, value in config.items()
        },
        "summary_metrics": json.loads(row["summary"] or "{}"),
    }


def _lookup(document: dict[str, Any], key: str) -> Any:
    head, *rest = key.split(".")
    value: Any = document.get(_ALIASES.get(head, head), _MISSING)
    for part in rest:
        if part == "value" and head == "config" and not isinstance(value, dict):
            continue  # "config.lr.value" addresses the unwrapped value too
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _compare(value: Any, other: Any, compare: Callable[[Any, Any], bool]) -> bool:
    try:
        return value is not _MISSING and value is not None and compare(value, other)
    except TypeError:
        return False


def _equals(value: Any, other: Any) -> bool:
    if isinstance(value, list) and not isinstance(other, list):
        return other in value  # tags: a list field matches any of its elements
    return value == other


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": _equals,
    "$ne": lambda v, o: not _equals(v, o),
    "$gt": lambda v, o: _compare(v, o, lambda a, b: a > b),
    "$gte": lambda v, o: _compare(v, o, lambda a, b: a >= b),
    "$lt": lambda v, o: _compare(v, o, lambda a, b: a < b),
    "$lte": lambda v, o: _compare(v, o, lambda a, b: a <= b),
    "$in": lambda v, o: any(_equals(v, item) for item in o),
    "$nin": lambda v, o: not any(_equals(v, item) for item in o),
    "$exists": lambda v, o: (v is not _MISSING) == bool(o),
    "$regex": lambda v, o: isinstance(v, str) and re.search(o, v) is not None,
}


def matches(document: dict[str, Any], filters: Any) -> bool:
    if not filters:
        return True
    if not isinstance(filters, dict):
        raise FilterError(f"a filter must be an object, not {filters!r}")
    for key, condition in filters.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(condition, list):
                raise FilterError(f"{key} takes a list of filters")
            results = [matches(document, part) for part in condition]
            ok = {"$and": all, "$or": any, "$nor": lambda r: not any(r)}[key](results)
        elif key.startswith("$"):
            raise FilterError(f"unsupported operator {key}")
        else:
            value = _lookup(document, key)
            if (
                isinstance(condition, dict)
                and condition
                and all(k.startswith("$") for k in condition)
            ):
                unknown = set(condition) - set(_OPERATORS)
                if unknown:
                    raise FilterError(f"unsupported operators {sorted(unknown)}")
                ok = all(_OPERATORS[op](value, other) for op, other in condition.items())
            else:
                ok = _equals(value, condition)
        if not ok:
            return False
    return True


def parse_filters(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise FilterError("filters must be JSON") from exc


def sort_key(order: str | None) -> tuple[Callable[[dict[str, Any]], Any], bool]:
    """A key function and ``reverse`` flag for ``+field`` / ``-field`` orders."""
    order = order or "+created_at"
    reverse = order.startswith("-")
    field = order.lstrip("+-")

    def key(document: dict[str, Any]) -> Any:
        value = _lookup(document, field)
        # Missing values sort last either way; mixed types by their text.
        missing = value is _MISSING or value is None
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        return (missing != reverse, not numeric, value if numeric else str(value))

    return key, reverse
