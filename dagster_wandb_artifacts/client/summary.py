"""A run's summary and config as the SDK has them: dict-like, and saved on ``update``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any


def to_json(value: Any, where: str) -> str:
    """JSON of logged values; numpy scalars and arrays become numbers and lists (``NaN`` and
    ``Infinity`` are kept, as W&B keeps them)."""

    def plain(found: Any) -> Any:
        for method in ("item", "tolist"):
            converter = getattr(found, method, None)
            if callable(converter):
                return converter()
        raise TypeError(f"{where}: {type(found).__name__} values cannot be logged (not JSON)")

    return json.dumps(value, default=plain)


class RunSummary(MutableMapping[str, Any]):
    """The summary of a run, as the SDK's ``HTTPSummary``: read by key or attribute
    (``summary["loss"]``, ``summary.loss``); ``summary["k"] = v`` changes this object only
    and ``update({...})`` saves the whole summary, as in the SDK.

    ``save`` receives the summary's JSON (``upsertBucket``'s ``summaryMetrics``, or the run's
    file stream for a run that is logging).
    """

    def __init__(self, values: Mapping[str, Any], save: Callable[[str], None]) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_save", save)
        # What ``save`` passes the JSON of: this summary (a nested view saves its root).
        object.__setattr__(self, "_saved", self._values)

    def __getitem__(self, key: str) -> Any:
        value = self._values[key.strip() if isinstance(key, str) else key]
        if isinstance(value, dict):
            # A view that changes this summary's nested dict, saved as a whole, as the SDK's.
            return SummarySubDict(value, self.save)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[key.strip()] = value

    def __delitem__(self, key: str) -> None:
        del self._values[key.strip()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __repr__(self) -> str:
        return repr(self._values)

    def __eq__(self, other: object) -> bool:
        return dict(self._values) == other if isinstance(other, Mapping) else NotImplemented

    def update(self, key_vals: Mapping[str, Any] | None = None, **more: Any) -> None:  # type: ignore[override]
        """Set the keys given and save the summary."""
        for key, value in {**(key_vals or {}), **more}.items():
            self[key] = value
        self.save()

    def save(self) -> None:
        self._save(to_json(self._saved, "summary"))

    def set_quietly(self, values: Mapping[str, Any]) -> None:
        """Take values without saving them (a logged row's last values)."""
        self._values.update(values)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


class SummarySubDict(RunSummary):
    """A nested dict of a summary (the SDK's name): changes go into the summary's own dict,
    and ``update`` saves the whole summary."""

    def __init__(self, values: dict[str, Any], save_root: Callable[[], None]) -> None:
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_save", lambda _json: save_root())
        object.__setattr__(self, "_saved", values)


class RunConfig(dict[str, Any]):
    """A run's config: a dict (as the SDK's public ``Run.config``) whose ``update`` and item
    assignment save it, as the SDK's ``wandb.Run.config`` does."""

    def __init__(self, values: Mapping[str, Any], save: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(values)
        self._save = save

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._save(dict(self))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().update(*args, **kwargs)
        self._save(dict(self))
