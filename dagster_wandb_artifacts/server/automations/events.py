"""Artifact events, seen as the changes a mutation made to one version.

W&B fires automations on mutations: a version committed into its collection
(``CREATE_ARTIFACT``), an alias pointed at a version (``ADD_ARTIFACT_ALIAS``), a version
linked into a portfolio or Registry collection (``LINK_MODEL``). Rather than threading a hook
through every resolver, :class:`EventRecorder` (a GraphQL middleware) notes the version's
collections and aliases before and after each mutation that can change them, and reports
the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, FieldNode, OperationDefinitionNode, OperationType

from ..ids import BadIdError, decode_id
from ..store import Store, is_version_alias

CREATE_ARTIFACT = "CREATE_ARTIFACT"
ADD_ARTIFACT_ALIAS = "ADD_ARTIFACT_ALIAS"
LINK_MODEL = "LINK_MODEL"

#: Mutations that can commit a version, move its aliases or link it, by their input's ID.
_WATCHED = frozenset({"commitArtifact", "addAliases", "updateArtifact", "linkArtifact"})


@dataclass(frozen=True)
class ArtifactEvent:
    event_type: str
    artifact_id: int
    collection_id: int
    #: The alias added (``ADD_ARTIFACT_ALIAS``); None for the other events.
    alias: str | None
    #: The user whose request caused the event.
    author: str


@dataclass(frozen=True)
class _Snapshot:
    collections: frozenset[int]
    aliases: frozenset[tuple[int, str]]


def _snapshot(store: Store, artifact_id: int) -> _Snapshot:
    """Where a committed version is, and its aliases there (a pending one is nowhere yet)."""
    artifact = store.get("artifacts", artifact_id)
    if artifact is None or artifact["state"] != "COMMITTED":
        return _Snapshot(frozenset(), frozenset())
    collections = store.all(
        "SELECT collection_id FROM memberships WHERE artifact_id = ?", (artifact_id,)
    )
    aliases = store.all(
        "SELECT collection_id, alias FROM aliases WHERE artifact_id = ?", (artifact_id,)
    )
    return _Snapshot(
        frozenset(row[0] for row in collections),
        frozenset((row[0], row[1]) for row in aliases if not is_version_alias(row[1])),
    )


def _changes(
    store: Store, artifact_id: int, before: _Snapshot, after: _Snapshot, author: str
) -> list[ArtifactEvent]:
    events = []
    for collection_id in sorted(after.collections - before.collections):
        collection = store.get("collections", collection_id)
        kind = CREATE_ARTIFACT if collection["kind"] == "SEQUENCE" else LINK_MODEL
        events.append(ArtifactEvent(kind, artifact_id, collection_id, None, author))
    for collection_id, alias in sorted(after.aliases - before.aliases):
        events.append(ArtifactEvent(ADD_ARTIFACT_ALIAS, artifact_id, collection_id, alias, author))
    return events


class EventRecorder:
    """A graphql-core middleware that reports the artifact events each mutation causes."""

    def __init__(self, store: Store, report: Callable[[list[ArtifactEvent]], None]) -> None:
        self._store = store
        self._report = report

    @staticmethod
    def watches(document: DocumentNode) -> bool:
        """Whether the document runs a mutation that can cause an event."""
        return any(
            isinstance(definition, OperationDefinitionNode)
            and definition.operation == OperationType.MUTATION
            and any(
                isinstance(field, FieldNode) and field.name.value in _WATCHED
                for field in definition.selection_set.selections
            )
            for definition in document.definitions
        )

    def resolve(self, next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        if info.parent_type.name != "Mutation" or info.field_name not in _WATCHED:
            return next_(root, info, **args)
        try:
            artifact_id = decode_id((args.get("input") or {}).get("artifactID") or "", "Artifact")
        except BadIdError:
            return next_(root, info, **args)
        before = _snapshot(self._store, artifact_id)
        result = next_(root, info, **args)
        after = _snapshot(self._store, artifact_id)
        author = getattr(info.context, "user", None) or info.context.entity
        events = _changes(self._store, artifact_id, before, after, author)
        if events:
            self._report(events)
        return result
