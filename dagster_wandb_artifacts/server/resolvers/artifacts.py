"""Artifact types, collections, memberships, versions, aliases and tags, with their mutations."""

from __future__ import annotations

import sqlite3
from functools import cached_property
from typing import Any

from ...formats.names import NAME, TAG, TYPE_NAME
from ..filters import parse_filters
from ..ids import decode_id, encode_id
from ..store import NotFound, StoreError, listings, registry
from . import files, runs
from .common import (
    TTL_DISABLED,
    Connection,
    Context,
    Node,
    check,
    check_alias,
    check_metadata,
    check_run_id,
    check_text,
    positional_page,
    searched,
    ttl_to_db,
)


class ArtifactTypeNode(Node):
    @property
    def id(self) -> str:
        return encode_id("ArtifactType", self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def description(self) -> str | None:
        return self.row["description"]

    @property
    def project(self) -> runs.ProjectNode | None:
        row = self.ctx.access.project(self.row["project_id"])
        return runs.ProjectNode(self.ctx, row) if row else None

    def artifactCollection(self, info: Any, name: str) -> CollectionNode | None:  # noqa: N802
        if self.ctx.access.artifact_type(self.row["id"]) is None:
            return None
        row = self.ctx.store.find_collection(self.row["project_id"], name)
        if row is None or row["type_id"] != self.row["id"]:
            return None
        return CollectionNode(self.ctx, row)

    def artifactSequence(self, info: Any, name: str) -> CollectionNode | None:  # noqa: N802
        found = self.artifactCollection(info, name)
        return found if found and found.typename == "ArtifactSequence" else None

    def artifactCollections(  # noqa: N802
        self,
        info: Any,
        after: str | None = None,
        first: int | None = None,
        filters: str | None = None,
        order: str | None = None,
    ) -> dict[str, Any]:
        readable = self.ctx.access.artifact_type(self.row["id"]) is not None
        rows = self.ctx.store.collections_of_type(self.row["id"]) if readable else []
        selected = searched(
            lambda: registry.select_collections(self.ctx.store, rows, filters, order)
        )
        return positional_page(
            selected, lambda row: CollectionNode(self.ctx, row), after=after, first=first
        )


def _no_edges() -> dict[str, Any]:
    return positional_page([], lambda row: row, after=None, first=None)


class CollectionNode(Node):
    """A collection; seen from a version readable only through a Registry link, its source
    sequence shows its name and nothing else (no project, versions, aliases or tags)."""

    @cached_property
    def readable(self) -> bool:
        return self.ctx.access.collection(self.row["id"]) is not None

    @property
    def typename(self) -> str:
        return "ArtifactSequence" if self.row["kind"] == "SEQUENCE" else "ArtifactPortfolio"

    @property
    def id(self) -> str:
        return encode_id(self.typename, self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def description(self) -> str | None:
        return self.row["description"] if self.readable else None

    @property
    def updatedAt(self) -> str:  # noqa: N802
        return self.row["updated_at"]

    @property
    def state(self) -> str:
        return self.row["state"]

    @property
    def project(self) -> runs.ProjectNode | None:
        row = self.ctx.access.project(self.row["project_id"])
        return runs.ProjectNode(self.ctx, row) if row else None

    @property
    def defaultArtifactType(self) -> ArtifactTypeNode:  # noqa: N802
        return ArtifactTypeNode(self.ctx, self.ctx.store.get("artifact_types", self.row["type_id"]))

    def tags(
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection | dict[str, Any]:
        if not self.readable:
            return _no_edges()
        return Connection(
            self.ctx,
            listings.COLLECTION_TAGS,
            [self.row["id"]],
            lambda row: TagNode(row),
            after=after,
            first=first,
        )

    def aliases(
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection | dict[str, Any]:
        if not self.readable:
            return _no_edges()
        return Connection(
            self.ctx,
            listings.COLLECTION_ALIASES,
            [self.row["id"]],
            lambda row: AliasNode(self.ctx, row),
            after=after,
            first=first,
        )

    def artifacts(
        self,
        info: Any,
        after: str | None = None,
        first: int | None = None,
        order: str | None = None,
        filters: str | None = None,
    ) -> Connection | dict[str, Any] | None:
        if not self.readable:
            return None

        def make_node(row: sqlite3.Row) -> ArtifactNode:
            return ArtifactNode(self.ctx, row)

        def version(row: sqlite3.Row) -> dict[str, Any]:
            return {"version": f"v{row['version_index']}"}

        if order or parse_filters(filters) not in (None, {"state": "COMMITTED"}):
            rows = searched(lambda: registry.versions(self.ctx.store, [self.row], filters, order))
            return positional_page(rows, make_node, after=after, first=first, edge_fields=version)
        # Unfiltered listings page by key, so versions logged meanwhile never shift a page.
        return Connection(
            self.ctx,
            listings.COLLECTION_VERSIONS,
            [self.row["id"]],
            make_node,
            after=after,
            first=first,
            edge_fields=version,
        )

    def artifactMembership(self, info: Any, aliasName: str) -> MembershipNode | None:  # noqa: N802,N803
        if not self.readable:
            return None
        artifact = self.ctx.store.resolve_alias(self.row["id"], aliasName)
        if artifact is None:
            return None
        membership = self.ctx.store.membership(self.row["id"], artifact["id"])
        return MembershipNode(self.ctx, membership, self.row, artifact)

    def artifactMemberships(  # noqa: N802
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection | dict[str, Any]:
        if not self.readable:
            return _no_edges()
        return Connection(
            self.ctx,
            listings.COLLECTION_MEMBERSHIPS,
            [self.row["id"]],
            lambda row: MembershipNode(self.ctx, row, self.row),
            after=after,
            first=first,
        )

    @property
    def latestArtifact(self) -> ArtifactNode | None:  # noqa: N802
        row = self.ctx.store.latest_of(self.row["id"]) if self.readable else None
        return ArtifactNode(self.ctx, row) if row else None


class MembershipNode(Node):
    def __init__(
        self,
        ctx: Context,
        row: sqlite3.Row,
        collection: sqlite3.Row,
        artifact: sqlite3.Row | None = None,
    ) -> None:
        super().__init__(ctx, row)
        self._collection = collection
        self._artifact = artifact or ctx.store.get("artifacts", row["artifact_id"])

    @property
    def id(self) -> str:
        return encode_id("ArtifactCollectionMembership", self.row["id"])

    @property
    def versionIndex(self) -> int:  # noqa: N802
        return self.row["version_index"]

    @property
    def aliases(self) -> list[AliasNode]:
        rows = self.ctx.store.aliases_of(self._artifact["id"], self._collection["id"])
        return [AliasNode(self.ctx, row) for row in rows]

    @property
    def artifactCollection(self) -> CollectionNode:  # noqa: N802
        return CollectionNode(self.ctx, self._collection)

    @property
    def artifact(self) -> ArtifactNode:
        return ArtifactNode(self.ctx, self._artifact)

    def files(self, info: Any, **page: Any) -> Connection:
        return self.artifact.files(info, **page)


class ArtifactNode(Node):
    @property
    def id(self) -> str:
        return encode_id("Artifact", self.row["id"])

    @cached_property
    def _sequence(self) -> sqlite3.Row:
        return self.ctx.store.get("collections", self.row["sequence_id"])

    @property
    def artifactSequence(self) -> CollectionNode:  # noqa: N802
        return CollectionNode(self.ctx, self._sequence)

    @property
    def versionIndex(self) -> int | None:  # noqa: N802
        membership = self.ctx.store.membership(self.row["sequence_id"], self.row["id"])
        return membership["version_index"] if membership else None

    @property
    def artifactType(self) -> ArtifactTypeNode:  # noqa: N802
        return ArtifactTypeNode(self.ctx, self.ctx.store.get("artifact_types", self.row["type_id"]))

    @property
    def description(self) -> str | None:
        return self.row["description"]

    @property
    def metadata(self) -> str:
        return self.row["metadata"] or "{}"

    @property
    def ttlDurationSeconds(self) -> int:  # noqa: N802
        ttl = self.row["ttl_seconds"]
        return TTL_DISABLED if ttl is None else ttl

    @property
    def ttlIsInherited(self) -> bool:  # noqa: N802
        return self.row["ttl_seconds"] is None

    @property
    def tags(self) -> list[TagNode]:
        return [TagNode(row) for row in self.ctx.store.artifact_tags(self.row["id"])]

    @property
    def historyStep(self) -> int | None:  # noqa: N802
        return self.row["history_step"]

    @property
    def state(self) -> str:
        return self.row["state"]

    @property
    def size(self) -> int:
        return self.row["size"]

    @property
    def digest(self) -> str:
        return self.row["digest"]

    @property
    def digestAlgorithm(self) -> str:  # noqa: N802
        return self.row["digest_algorithm"]

    @property
    def commitHash(self) -> str:  # noqa: N802
        return self.row["digest"][:12]

    @property
    def fileCount(self) -> int:  # noqa: N802
        return self.row["file_count"]

    @property
    def updatedAt(self) -> str:  # noqa: N802
        return self.row["updated_at"]

    @property
    def aliases(self) -> list[AliasNode]:
        """Its aliases in the collections the caller may read."""
        rows = self.ctx.store.aliases_of(self.row["id"])
        return [
            AliasNode(self.ctx, row)
            for row in rows
            if self.ctx.access.collection(row["collection_id"]) is not None
        ]

    @property
    def currentManifest(self) -> files.ManifestNode | None:  # noqa: N802
        row = self.ctx.store.manifest_of(self.row["id"])
        return files.ManifestNode(self.ctx, row, with_upload=False) if row else None

    def files(
        self,
        info: Any,
        names: list[str] | None = None,
        after: str | None = None,
        first: int | None = None,
    ) -> Connection:
        # Every manifest entry, references too: the SDK downloads the entries listed here.
        listing = listings.VERSION_FILES if names is None else listings.named_files(len(names))
        return Connection(
            self.ctx,
            listing,
            [self.row["id"], *(names or ())],
            lambda row: files.FileNode(self.ctx, row),
            after=after,
            first=first,
        )

    @property
    def createdBy(self) -> runs.RunNode | None:  # noqa: N802
        row = self.ctx.access.run(self.row["created_by_run_id"])
        return runs.RunNode(self.ctx, row) if row else None

    def usedBy(self, info: Any, after: str | None = None, first: int | None = None) -> Connection:  # noqa: N802
        return Connection(
            self.ctx,
            listings.VERSION_USERS,
            [self.row["id"]],
            lambda row: runs.RunNode(self.ctx, row),
            after=after,
            first=first,
            visible=lambda row: self.ctx.access.run(row["id"]) is not None,
        )

    def artifactMemberships(  # noqa: N802
        self, info: Any, after: str | None = None, first: int | None = None
    ) -> Connection:
        return Connection(
            self.ctx,
            listings.VERSION_MEMBERSHIPS,
            [self.row["id"]],
            lambda row: MembershipNode(
                self.ctx, row, self.ctx.store.get("collections", row["collection_id"]), self.row
            ),
            after=after,
            first=first,
            visible=lambda row: self.ctx.access.collection(row["collection_id"]) is not None,
        )


class AliasNode(Node):
    @property
    def id(self) -> str:
        return encode_id("ArtifactAlias", self.row["id"])

    @property
    def alias(self) -> str:
        return self.row["alias"]

    @property
    def artifactCollection(self) -> CollectionNode:  # noqa: N802
        return CollectionNode(
            self.ctx, self.ctx.store.get("collections", self.row["collection_id"])
        )

    @property
    def artifact(self) -> ArtifactNode:
        return ArtifactNode(self.ctx, self.ctx.store.get("artifacts", self.row["artifact_id"]))


class TagNode:
    def __init__(self, row: sqlite3.Row) -> None:
        self.id = encode_id("Tag", row["id"])
        self.name = row["name"]
        self.tagCategoryName = None  # noqa: N815
        self.attributes = None


class ArtifactMutations:
    """Mutation fields that create and edit artifact versions and their collections."""

    ctx: Context

    def createArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        names = input.get("artifactCollectionNames") or []
        collection = input.get("artifactCollectionName") or (names[0] if names else None)
        if not collection:
            raise StoreError("createArtifact needs artifactCollectionName")
        check(NAME, collection, "artifact name")
        check(TYPE_NAME, input["artifactTypeName"], "artifact type")
        check(NAME, input["projectName"], "project name")
        aliases = [
            check_alias(alias["alias"])
            for alias in input.get("aliases") or []
            if alias["artifactCollectionName"] == collection
        ]
        self.ctx.access.write_named(input["entityName"], input["projectName"])
        row = self.ctx.store.create_artifact(
            entity=input["entityName"],
            project=input["projectName"],
            type_name=input["artifactTypeName"],
            collection_name=collection,
            digest=input["digest"],
            digest_algorithm=input["digestAlgorithm"],
            run_name=input.get("runName"),
            description=check_text(input.get("description"), "description"),
            metadata=check_metadata(input.get("metadata"), self.ctx.metadata_bytes),
            ttl_seconds=ttl_to_db(input.get("ttlDurationSeconds")),
            history_step=input.get("historyStep"),
            aliases=aliases,
            tags=[check(TAG, tag["tagName"], "tag") for tag in input.get("tags") or []],
            client_id=input.get("clientID"),
            dedup=bool(input.get("enableDigestDeduplication")),
            distributed_id=input.get("distributedID") or None,
        )
        return {"artifact": ArtifactNode(self.ctx, row)}

    def useArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        artifact = self.ctx.access.require_artifact(decode_id(input["artifactID"], "Artifact"))
        self.ctx.access.write_named(input["entityName"], input["projectName"])
        run, _ = store.upsert_run(
            input["entityName"],
            check(NAME, input["projectName"], "project name"),
            check_run_id(input["runName"]),
            {},
        )
        store.use_artifact(run["id"], artifact["id"], input.get("usedAs"))
        return {"artifact": ArtifactNode(self.ctx, artifact)}

    def updateArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        artifact_id = self.ctx.access.writable_artifact(decode_id(input["artifactID"], "Artifact"))[
            "id"
        ]
        with store.write():
            columns: dict[str, Any] = {}
            if input.get("description") is not None:
                columns["description"] = check_text(input["description"], "description")
            if input.get("metadata") is not None:
                columns["metadata"] = check_metadata(input["metadata"], self.ctx.metadata_bytes)
            if input.get("ttlDurationSeconds") is not None:
                columns["ttl_seconds"] = ttl_to_db(input["ttlDurationSeconds"])
            store.update_artifact(artifact_id, **columns)
            if input.get("aliases") is not None:
                store.replace_custom_aliases(
                    artifact_id, [check_alias(a["alias"]) for a in input["aliases"]]
                )
            store.add_artifact_tags(
                artifact_id,
                [check(TAG, t["tagName"], "tag") for t in input.get("tagsToAdd") or []],
            )
            store.delete_artifact_tags(
                artifact_id, [t["tagName"] for t in input.get("tagsToDelete") or []]
            )
        return {"artifact": ArtifactNode(self.ctx, store.get("artifacts", artifact_id))}

    def _alias_targets(self, input: dict[str, Any]) -> tuple[int, dict[int, list[str]]]:
        """The artifact and, per collection, the aliases an Add/DeleteAliases input names."""
        store = self.ctx.store
        artifact_id = self.ctx.access.writable_artifact(decode_id(input["artifactID"], "Artifact"))[
            "id"
        ]
        by_collection: dict[int, list[str]] = {}
        for alias in input["aliases"]:
            project = store.find_project(alias["entityName"], alias["projectName"])
            collection = project and store.find_collection(
                project["id"], alias["artifactCollectionName"]
            )
            if (
                not collection
                or not self.ctx.access.may_write_project(project)
                or not store.membership(collection["id"], artifact_id)
            ):
                raise NotFound(
                    f"the artifact is not in collection {alias['entityName']}/"
                    f"{alias['projectName']}/{alias['artifactCollectionName']}"
                )
            by_collection.setdefault(collection["id"], []).append(check_alias(alias["alias"]))
        return artifact_id, by_collection

    def addAliases(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        with self.ctx.store.write():
            artifact_id, by_collection = self._alias_targets(input)
            for collection_id, aliases in by_collection.items():
                self.ctx.store.add_aliases(artifact_id, collection_id, aliases)
        return {"success": True}

    def deleteAliases(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        with self.ctx.store.write():
            artifact_id, by_collection = self._alias_targets(input)
            for collection_id, aliases in by_collection.items():
                self.ctx.store.delete_aliases(artifact_id, collection_id, aliases)
        return {"success": True}

    def deleteArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        artifact = self.ctx.access.writable_artifact(decode_id(input["artifactID"], "Artifact"))
        row = self.ctx.store.delete_artifact(artifact["id"], bool(input.get("deleteAliases")))
        return {"artifact": ArtifactNode(self.ctx, row)}

    def _collection(self, global_id: str, kind: str = "ArtifactSequence") -> sqlite3.Row:
        return self.ctx.access.writable_collection(decode_id(global_id, kind))

    def _update_collection(self, collection: sqlite3.Row, input: dict[str, Any]) -> dict[str, Any]:
        columns = {}
        if input.get("name"):
            columns["name"] = check(NAME, input["name"], "collection name")
        if input.get("description") is not None:
            columns["description"] = check_text(input["description"], "description")
        row = self.ctx.store.update_collection(collection["id"], **columns)
        return {"artifactCollection": CollectionNode(self.ctx, row)}

    def updateArtifactSequence(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        return self._update_collection(self._collection(input["artifactSequenceID"]), input)

    def updateArtifactPortfolio(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        portfolio = self._collection(input["artifactPortfolioID"], "ArtifactPortfolio")
        return self._update_collection(portfolio, input)

    def moveArtifactSequence(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        collection = self._collection(input["artifactSequenceID"])
        type_name = check(TYPE_NAME, input["destinationArtifactTypeName"], "artifact type")
        row = self.ctx.store.move_collection(collection["id"], type_name)
        return {"artifactCollection": CollectionNode(self.ctx, row)}

    def deleteArtifactSequence(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        collection = self._collection(input["artifactSequenceID"])
        row = self.ctx.store.delete_collection(collection["id"])
        return {"artifactCollection": CollectionNode(self.ctx, row)}

    def deleteArtifactPortfolio(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        portfolio = self._collection(input["artifactPortfolioID"], "ArtifactPortfolio")
        row = self.ctx.store.delete_collection(portfolio["id"])
        return {"artifactCollection": CollectionNode(self.ctx, row)}

    def _named_collection(self, input: dict[str, Any]) -> sqlite3.Row:
        project = self.ctx.store.find_project(input["entityName"], input["projectName"])
        collection = project and self.ctx.store.find_collection(
            project["id"], input["artifactCollectionName"]
        )
        if not collection or not self.ctx.access.may_write_project(project):
            raise NotFound(f"collection {input['artifactCollectionName']} not found")
        return collection

    def createArtifactCollectionTagAssignments(  # noqa: N802
        self,
        info: Any,
        input: dict[str, Any],  # noqa: A002
    ) -> dict[str, Any]:
        collection = self._named_collection(input)
        tags = [check(TAG, tag["tagName"], "tag") for tag in input["tags"]]
        self.ctx.store.add_collection_tags(collection["id"], tags)
        rows = self.ctx.store.collection_tags(collection["id"])
        return {"tags": [TagNode(row) for row in rows if row["name"] in tags]}

    def deleteArtifactCollectionTagAssignments(  # noqa: N802
        self,
        info: Any,
        input: dict[str, Any],  # noqa: A002
    ) -> dict[str, Any]:
        collection = self._named_collection(input)
        self.ctx.store.delete_collection_tags(
            collection["id"], [tag["tagName"] for tag in input["tags"]]
        )
        return {"success": True}
