"""``User``: the W&B user an API key belongs to (``Api.viewer``), as the SDK's ``User``."""

from __future__ import annotations

from .attrs import Attrs


class User(Attrs):
    """A user: ``id``, ``name``, ``username``, ``email``, ``entity``, ``admin``, ``teams`` and
    the names of its ``api_keys`` (never a key itself)."""

    @property
    def api_keys(self) -> list[str]:
        keys = self._attrs.get("apiKeys") or {}
        return [edge["node"]["name"] for edge in keys.get("edges", [])]

    @property
    def teams(self) -> list[str]:
        teams = self._attrs.get("teams") or {}
        return [edge["node"]["name"] for edge in teams.get("edges", [])]

    def __repr__(self) -> str:
        for key in ("email", "username", "id"):
            if self._attrs.get(key):
                return f"<User {self._attrs[key]}>"
        return f"<User {self._attrs.get('name')!r}>"
