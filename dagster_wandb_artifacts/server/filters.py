"""MongoDB-style filters and ``+field`` / ``-field`` orders, as the SDK sends them.

Runs (``Api.runs(filters=..., order=...)``), registries, collections and versions (the
Registry search, ``Api.artifact_collections(order=...)``) are each described by a
:class:`Search`: the fields of their documents and the other names W&B accepts for them.
Dotted keys go deeper (``config.lr``, ``metadata.accuracy``). Operators: ``$and $or $nor $eq
$ne $gt $gte $lt $lte $in $nin $exists $regex``; a list field (tags, aliases) equals any of its
elements.

Every filter is bounded: its size and nesting, the length of a ``$regex`` (matched by RE2, in
time linear in the text, so no pattern can backtrack for minutes), and the time one search may
take (:data:`FILTER_SECONDS`).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import re2

T = TypeVar("T")

_MISSING = object()


class FilterError(ValueError):
    """A filter or order this server cannot evaluate."""


#: The longest ``$regex`` pattern accepted, in characters.
MAX_PATTERN = 1000
#: The most operators and values one filter may hold, and how deep it may nest.
MAX_FILTER_NODES = 1000
MAX_FILTER_DEPTH = 16
#: Seconds one search (its filter over every document, and the ordering) may take.
FILTER_SECONDS = 5.0
# Documents matched between two looks at the clock.
_CLOCK_EVERY = 64

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # an invalid pattern is the client's error, told to the client
_RE2_OPTIONS.max_mem = 8 << 20  # bounds the memory of one compiled pattern


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise FilterError(
            f"invalid $regex {pattern[:80]!r}: {reason} (RE2 syntax: no backreferences or "
            "lookaround)"
        ) from None


def _regex(value: Any, pattern: Any) -> bool:
    return isinstance(value, str) and _compiled(pattern).search(value) is not None


def _contains(value: Any, part: str) -> bool:
    """W&B's ``$contains``: a substring of a text field (or of one item of a list, as tags)."""
    if isinstance(value, list):
        return any(isinstance(item, str) and part in item for item in value)
    return isinstance(value, str) and part in value


def _compare(value: Any, other: Any, compare: Callable[[Any, Any], bool]) -> bool:
    try:
        return value is not _MISSING and value is not None and compare(value, other)
    except TypeError:
        return False


def _equals(value: Any, other: Any) -> bool:
    if isinstance(value, list) and not isinstance(other, list):
        return other in value
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
    # A null field (an unset description) does not exist, as a NULL column is absent.
    "$exists": lambda v, o: (v is not _MISSING and v is not None) == bool(o),
    "$regex": _regex,
    "$contains": _contains,
}

#: What each operator's operand must be (checked once per search, before any document).
_OPERANDS: dict[str, tuple[type, ...]] = {
    "$in": (list,),
    "$nin": (list,),
    "$regex": (str,),
    "$contains": (str,),
}


def _check(filters: Any, depth: int = 0, budget: list[int] | None = None) -> None:
    """Refuse, before any document is read, a filter too large or deep or with an operand of
    the wrong type."""
    budget = budget if budget is not None else [MAX_FILTER_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise FilterError(f"the filter has more than {MAX_FILTER_NODES} parts; simplify it")
    if depth > MAX_FILTER_DEPTH:
        raise FilterError(f"the filter nests deeper than {MAX_FILTER_DEPTH} levels")
    if isinstance(filters, list):
        for item in filters:
            _check(item, depth + 1, budget)
    if not isinstance(filters, dict):
        return
    for key, condition in filters.items():
        wanted = _OPERANDS.get(key)
        if wanted and not isinstance(condition, wanted):
            names = " or ".join(t.__name__ for t in wanted)
            raise FilterError(f"{key} takes a {names}, not {condition!r:.80}")
        if key == "$regex":
            if len(condition) > MAX_PATTERN:
                raise FilterError(
                    f"the $regex has {len(condition)} characters; at most {MAX_PATTERN}"
                )
            _compiled(condition)
        _check(condition, depth + 1, budget)


class Search:
    """Filtering and ordering of one kind of document.

    ``aliases`` maps the other names of a field to the document's key; ``default_order`` is
    used when a query gives none.
    """

    def __init__(self, aliases: Mapping[str, str], default_order: str) -> None:
        self._aliases = dict(aliases)
        self._default_order = default_order

    def _lookup(self, document: dict[str, Any], key: str) -> Any:
        head, *rest = key.split(".")
        value: Any = document.get(self._aliases.get(head, head), _MISSING)
        for part in rest:
            if part == "value" and head == "config" and not isinstance(value, dict):
                continue  # "config.lr.value" addresses the unwrapped value too
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        return value

    def matches(self, document: dict[str, Any], filters: Any) -> bool:
        if not filters:
            return True
        if not isinstance(filters, dict):
            raise FilterError(f"a filter must be an object, not {filters!r}")
        return all(self._holds(document, key, condition) for key, condition in filters.items())

    def _holds(self, document: dict[str, Any], key: str, condition: Any) -> bool:
        if key in ("$and", "$or", "$nor"):
            if not isinstance(condition, list):
                raise FilterError(f"{key} takes a list of filters")
            results = [self.matches(document, part) for part in condition]
            return {"$and": all, "$or": any, "$nor": lambda r: not any(r)}[key](results)
        if key.startswith("$"):
            raise FilterError(f"unsupported operator {key}")
        value = self._lookup(document, key)
        if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
            unknown = set(condition) - set(_OPERATORS)
            if unknown:
                raise FilterError(f"unsupported operators {sorted(unknown)}")
            return all(_OPERATORS[op](value, other) for op, other in condition.items())
        return _equals(value, condition)

    def select(
        self, items: Iterable[tuple[dict[str, Any], T]], filters: str | None, order: str | None
    ) -> list[T]:
        """The items whose document matches ``filters`` (JSON), in ``order``."""
        wanted = parse_filters(filters)
        deadline = time.monotonic() + FILTER_SECONDS
        kept = []
        for seen, (document, item) in enumerate(items, 1):
            if self.matches(document, wanted):
                kept.append((document, item))
            if seen % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
                raise FilterError(
                    f"the filter ran past its {FILTER_SECONDS:g} s limit after {seen} "
                    "documents: narrow it (fewer $regex or $or terms) or search a smaller set"
                )
        order = order or self._default_order
        reverse = order.startswith("-")
        field = order.lstrip("+-")

        def key(document: dict[str, Any]) -> Any:
            value = self._lookup(document, field)
            # Missing values sort last either way; mixed types by their text.
            missing = value is _MISSING or value is None
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            return (missing != reverse, not numeric, value if numeric else str(value))

        kept.sort(key=lambda pair: key(pair[0]), reverse=reverse)
        return [item for _, item in kept]


def parse_filters(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FilterError("filters must be JSON, nested at most a few levels") from exc
    _check(parsed)
    return parsed


_DATES = {"createdAt": "created_at", "updatedAt": "updated_at"}

RUNS = Search(
    {
        **_DATES,
        "displayName": "display_name",
        "jobType": "job_type",
        "summaryMetrics": "summary_metrics",
        "id": "name",
    },
    default_order="+created_at",
)
REGISTRIES = Search({**_DATES, "project_id": "id"}, default_order="+created_at")
COLLECTIONS = Search(
    {
        **_DATES,
        "artifact_collection_id": "id",
        "collection_id": "id",
        "collection_name": "name",
        "artifact_collection_name": "name",
        "tags": "tag",
    },
    default_order="+created_at",
)
VERSIONS = Search(
    {
        **_DATES,
        "artifact_id": "id",
        "versionIndex": "version_index",
        "tags": "tag",
        "aliases": "alias",
        "artifact_metadata": "metadata",
        "artifact_created_at": "created_at",
        "acm_created_at": "linked_at",
        "size": "artifact_size",
    },
    default_order="-linked_at",
)


def run_document(row: sqlite3.Row) -> dict[str, Any]:
    """The fields run filters and orders address."""
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
