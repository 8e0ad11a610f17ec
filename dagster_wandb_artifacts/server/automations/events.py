"""Artifact and collection events, seen as the changes a mutation made.

W&B fires automations on mutations: a version committed into its collection
(``CREATE_ARTIFACT``), linked into or unlinked from a portfolio (``LINK_MODEL``,
``UNLINK_ARTIFACT``), an alias pointed at it (``ADD_ARTIFACT_ALIAS``), a tag added to or
removed from a version or a collection (``ADD_ARTIFACT_TAG``, ``REMOVE_COLLECTION_TAG``...).
Rather than threading a hook through every resolver, :class:`EventRecorder` (a GraphQL
middleware) notes the version's (or collection's) state before and after each mutation that
can change it, and turns the difference into outbox rows **in the mutation's own
transaction**: the mutation and its deliveries are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, FieldNode, OperationDefinitionNode, OperationType

from ..ids import BadIdError, decode_id
from ..store import Store, is_version_alias
from ..store.automations import AutomationTables

CREATE_ARTIFACT = "CREATE_ARTIFACT"
ADD_ARTIFACT_ALIAS = "ADD_ARTIFACT_ALIAS"
LINK_MODEL = "LINK_MODEL"
UNLINK_ARTIFACT = "UNLINK_ARTIFACT"
ADD_ARTIFACT_TAG = "ADD_ARTIFACT_TAG"
REMOVE_ARTIFACT_TAG = "REMOVE_ARTIFACT_TAG"
ADD_COLLECTION_TAG = "ADD_COLLECTION_TAG"
REMOVE_COLLECTION_TAG = "REMOVE_COLLECTION_TAG"

#: Mutations that can commit a version, move its aliases or tags, link or unlink it, by
#: their input's ``artifactID``.
_ON_VERSION = frozenset(
    {"commitArtifact", "addAliases", "updateArtifact", "linkArtifact", "unlinkArtifact"}
)
#: Mutations that tag a collection, by its entity, project and name.
_ON_COLLECTION = frozenset(
    {"createArtifactCollectionTagAssignments", "deleteArtifactCollectionTagAssignments"}
)
_WATCHED = _ON_VERSION | _ON_COLLECTION


@dataclass(frozen=True)
class ArtifactEvent:
    event_type: str
    collection_id: int
    #: The version (None for a collection's tag events) and its index in the collection.
    artifact_id: int | None
    version_index: int | None
    #: The alias or tag added or removed, if the event is about one.
    alias: str | None
    tag: str | None
    #: The user whose request caused the event.
    author: str


@dataclass(frozen=True)
class _Version:
    collections: dict[int, int]
    aliases: frozenset[tuple[int, str]]
    tags: frozenset[str]
    sequence_id: int | None


def _version(store: Store, tables: AutomationTables, artifact_id: int) -> _Version:
    collections, aliases = tables.version_places(artifact_id)
    artifact = store.get("artifacts", artifact_id)
    if not collections or artifact is None:
        return _Version({}, frozenset(), frozenset(), None)
    return _Version(
        collections,
        frozenset(pair for pair in aliases if not is_version_alias(pair[1])),
        frozenset(row["name"] for row in store.artifact_tags(artifact_id)),
        artifact["sequence_id"],
    )


def _version_changes(
    store: Store, artifact_id: int, before: _Version, after: _Version, author: str
) -> Iterator[ArtifactEvent]:
    for collection_id in sorted(after.collections.keys() - before.collections.keys()):
        kind = store.get("collections", collection_id)["kind"]
        yield ArtifactEvent(
            CREATE_ARTIFACT if kind == "SEQUENCE" else LINK_MODEL,
            collection_id,
            artifact_id,
            after.collections[collection_id],
            None,
            None,
            author,
        )
    for collection_id in sorted(before.collections.keys() - after.collections.keys()):
        index = before.collections[collection_id]
        yield ArtifactEvent(
            UNLINK_ARTIFACT, collection_id, artifact_id, index, None, None, author
        )
    for collection_id, alias in sorted(after.aliases - before.aliases):
        index = after.collections.get(collection_id)
        yield ArtifactEvent(
            ADD_ARTIFACT_ALIAS, collection_id, artifact_id, index, alias, None, author
        )
    # A version's tags are its own, wherever it is linked: the event is its collection's.
    sequence = after.sequence_id or before.sequence_id
    if sequence is None or not before.collections:
        return
    index = after.collections.get(sequence)
    for kind, tags in (
        (ADD_ARTIFACT_TAG, after.tags - before.tags),
        (REMOVE_ARTIFACT_TAG, before.tags - after.tags),
    ):
        for tag in sorted(tags):
            yield ArtifactEvent(kind, sequence, artifact_id, index, None, tag, author)


def _collection_tags(store: Store, collection_id: int) -> frozenset[str]:
    return frozenset(row["name"] for row in store.collection_tags(collection_id))


class EventRecorder:
    """A graphql-core middleware that writes the deliveries each mutation's events cause.

    ``enqueue(events)`` writes them (in the open transaction); ``committed()`` is told once
    they are committed, to wake the delivery workers.
    """

    def __init__(
        self,
        store: Store,
        enqueue: Callable[[list[ArtifactEvent]], None],
        committed: Callable[[], None],
    ) -> None:
        self._store = store
        self._tables = AutomationTables(store)
        self._enqueue = enqueue
        self._committed = committed

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
        fields = args.get("input") or {}
        # No automation that the mutation could fire: nothing to record, and no reason to
        # hold the write lock over the whole mutation (a commit reads its manifest).
        if not self._tables.any_enabled(self._committed_version(info.field_name, fields)):
            return next_(root, info, **args)
        viewer = getattr(info.context, "viewer", None)
        author = viewer.username if viewer is not None else info.context.entity
        with self._store.write():
            if info.field_name in _ON_COLLECTION:
                result, events = self._on_collection(next_, root, info, args, fields, author)
            else:
                result, events = self._on_version(next_, root, info, args, fields, author)
            if events:
                self._enqueue(events)
        if events:
            self._committed()
        return result

    @staticmethod
    def _committed_version(field: str, fields: dict[str, Any]) -> int | None:
        """The version a commit commits: its events are all in its own entity."""
        if field != "commitArtifact":
            return None
        try:
            return decode_id(fields.get("artifactID") or "", "Artifact")
        except BadIdError:
            return None

    def _on_version(
        self, next_: Callable[..., Any], root: Any, info: Any, args: dict, fields: dict, author: str
    ) -> tuple[Any, list[ArtifactEvent]]:
        try:
            artifact_id = decode_id(fields.get("artifactID") or "", "Artifact")
        except BadIdError:
            return next_(root, info, **args), []
        before = _version(self._store, self._tables, artifact_id)
        result = next_(root, info, **args)
        after = _version(self._store, self._tables, artifact_id)
        return result, list(_version_changes(self._store, artifact_id, before, after, author))

    def _on_collection(
        self, next_: Callable[..., Any], root: Any, info: Any, args: dict, fields: dict, author: str
    ) -> tuple[Any, list[ArtifactEvent]]:
        names = [fields.get(k) for k in ("entityName", "projectName", "artifactCollectionName")]
        named = all(isinstance(name, str) for name in names)
        collection = self._tables.collection_named(*names) if named else None
        if collection is None:
            return next_(root, info, **args), []
        before = _collection_tags(self._store, collection["id"])
        result = next_(root, info, **args)
        after = _collection_tags(self._store, collection["id"])
        events = [
            ArtifactEvent(kind, collection["id"], None, None, None, tag, author)
            for kind, tags in (
                (ADD_COLLECTION_TAG, after - before),
                (REMOVE_COLLECTION_TAG, before - after),
            )
            for tag in sorted(tags)
        ]
        return result, events
