"""A GraphQL middleware that refuses a root mutation whose arguments name an entity or project
the request's user may not write (see :mod:`.store.accounts`), or an ID of an extra (a sweep,
view, run queue) or of an entity's automation that is not the user's: W&B's "permission
denied" for a write into what is not the caller's.

It is the first line only, and for mutations only: the core (:mod:`.store.access`) authorizes
every object it returns or changes, nested fields included, and answers every read (root
queries included) of an object the caller may not read as a missing one.
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

#: Root mutations whose resolver authorizes what they name (an automation's ``name`` is no
#: project: its scope is checked by ID, and its entity's admin role by the resolver).
_AUTHORIZED_BY_RESOLVER = frozenset({"createFilterTrigger", "updateFilterTrigger"})
_PROJECT_KEYS = ("projectName", "modelName", "name", "oldProjectName", "project")
_ENTITY_KEYS = ("entityName", "entity", "artifactEntityName")


class AccessGuard:
    """Refuses a root mutation whose arguments name an entity or project the user may not use."""

    def __init__(self, store: Store, org_entity: str) -> None:
        self._store = store
        self._org_entity = org_entity

    def resolve(self, next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        viewer: Viewer | None = getattr(info.context, "viewer", None)
        if viewer is not None and not viewer.admin and info.parent_type.name == "Mutation":
            self._check(viewer, info.field_name, args)
        return next_(root, info, **args)

    def _check(self, viewer: Viewer, field: str, args: dict[str, Any]) -> None:
        """Every named entity or project must be the user's; an ID must name an object that
        one of the user's projects holds (a version is also held where it is linked)."""
        for owners in [[target] for target in self._named(viewer, field, args)] + list(
            self._identified(args)
        ):
            if owners and not any(viewer.may_use(e, p, self._org_entity) for e, p in owners):
                entity, project = owners[0]
                where = f"{entity}/{project}" if project else entity
                raise PermissionDenied(f"permission denied: {viewer.username} may not use {where}")

    def _named(
        self, viewer: Viewer, field: str, args: dict[str, Any]
    ) -> Iterator[tuple[str, str | None]]:
        if field in _AUTHORIZED_BY_RESOLVER:
            return
        fields = args.get("input") if isinstance(args.get("input"), dict) else args
        entity = next((fields[k] for k in _ENTITY_KEYS if isinstance(fields.get(k), str)), None)
        project = next((fields[k] for k in _PROJECT_KEYS if isinstance(fields.get(k), str)), None)
        if entity or project:
            # A run without an entity goes to its user's default entity (upsertBucket does).
            default = viewer.default_entity if field == "upsertBucket" else self._org_entity
            yield entity or default, project

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
