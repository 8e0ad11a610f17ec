"""``Attrs``: the SDK's way of showing a GraphQL object's fields as snake_case attributes
(``run.created_at`` reads ``createdAt``), shared by ``User``, ``Project`` and ``Run``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def camel(name: str) -> str:
    """``created_at`` -> ``createdAt``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Attrs:
    """Fields of the server's answer, read as attributes by their snake_case or own name."""

    def __init__(self, attrs: Mapping[str, Any]) -> None:
        self._attrs: dict[str, Any] = dict(attrs)

    def _fields(self) -> dict[str, Any]:
        """The fields to read attributes from (a subclass may load them first)."""
        return self._attrs

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        fields = self._fields()
        for key in (camel(name), name):
            if key in fields:
                return fields[key]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
