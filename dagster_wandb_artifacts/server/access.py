"""A GraphQL middleware that refuses a root mutation naming, by ID, an automation (a trigger
or an integration) of an entity that is not the user's: W&B's "permission denied".

It is all that is left of an edge filter: the core (:mod:`.store.access`) authorizes every
other object a request reads or changes, nested fields and names included, and answers a read
of an object the caller may not read as a missing one. The automations' resolvers, which
check an entity's admin role themselves, still lean on it for their IDs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from typing import Any

from .ids import BadIdError, decode_id
from .store import Store
from .store.access import owners_of_id
from .store.accounts import PermissionDenied, Viewer


class AccessGuard:
    """Refuses a root mutation whose arguments name another entity's automation by ID."""

    def __init__(self, store: Store, org_entity: str) -> None:
        self._store = store
        self._org_entity = org_entity

    def resolve(self, next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        viewer: Viewer | None = getattr(info.context, "viewer", None)
        if viewer is not None and not viewer.admin and info.parent_type.name == "Mutation":
            self._check(viewer, args)
        return next_(root, info, **args)

    def _check(self, viewer: Viewer, args: dict[str, Any]) -> None:
        for owners in self._identified(args):
            if owners and not any(viewer.may_use(e, p, self._org_entity) for e, p in owners):
                raise PermissionDenied(
                    f"permission denied: {viewer.username} may not use {owners[0][0]}"
                )

    def _identified(self, value: Any, key: str = "") -> Iterator[list[tuple[str, str | None]]]:
        """The owners of each global ID in the arguments."""
        if isinstance(value, dict):
            for inner_key, inner in value.items():
                yield from self._identified(inner, inner_key)
        elif isinstance(value, list):
            for inner in value:
                yield from self._identified(inner, key)
        elif isinstance(value, str) and (key == "id" or key.endswith("ID")):
            try:
                type_name, row_id = _decode(value)
            except BadIdError:
                return
            yield owners_of_id(self._store, type_name, row_id)


def _decode(global_id: str) -> tuple[str, int]:
    try:
        type_name = base64.b64decode(global_id, validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise BadIdError(global_id) from exc
    return type_name, decode_id(global_id, type_name)
