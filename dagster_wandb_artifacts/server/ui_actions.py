"""What a user does from the web UI: aliases, tags, descriptions, promote (link into a
registry collection), unlink and delete.

Each action is the GraphQL mutation the ``wandb`` SDK sends for it, executed in-process on
the server's schema with the session user's :class:`.Viewer` in the same :class:`.Context`
the ``/graphql`` endpoint builds, and with the same middleware (the access guard for a
user's key, the automation event recorder for mutations that cause events). So an action
from a page is authorized, validated, stored and fires automations exactly as the SDK's
call would, whatever the core does beneath the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import execute_sync
from starlette.requests import Request

from ..formats.names import REGISTRY_PREFIX
from .ids import encode_id
from .resolvers import Root
from .resolvers.common import CURRENT
from .store.accounts import PermissionDenied, Viewer

if TYPE_CHECKING:
    from .state import ServerState

#: Values of a form field at most (a list of aliases or tags).
MAX_VALUES = 32


class ActionRefused(Exception):
    """The mutation's error (``status`` 403 when the user may not, else 400)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Mutation:
    """One GraphQL mutation and its variables; ``then``: the UI path segments to show after
    it (None: the page the form was on), with ``then_query`` as its query string."""

    query: str
    variables: dict[str, Any]
    then: tuple[str, ...] | None = None
    then_query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """The version (or collection, ``artifact`` None) a form acts on, as its URL names it."""

    owner: str
    project: Any
    collection: Any
    type_name: str
    artifact: Any = None
    version_name: str = ""

    def collection_path(self) -> tuple[str, ...]:
        project, collection = self.project["name"], self.collection["name"]
        return (self.owner, project, "artifacts", self.type_name, collection)

    def version_path(self) -> tuple[str, ...]:
        return (*self.collection_path(), self.version_name)


_ALIASES = """mutation UiAliases($id: ID!, $aliases: [ArtifactCollectionAliasInput!]!) {
  %s(input: {artifactID: $id, aliases: $aliases}) { success }
}"""
_UPDATE = """mutation UiUpdateArtifact($input: UpdateArtifactInput!) {
  updateArtifact(input: $input) { artifact { id } }
}"""
_LINK = """mutation UiLink($input: LinkArtifactInput!) {
  linkArtifact(input: $input) { versionIndex }
}"""
_UNLINK = """mutation UiUnlink($id: ID!, $portfolio: ID!) {
  unlinkArtifact(input: {artifactID: $id, artifactPortfolioID: $portfolio}) { success }
}"""
_DELETE = """mutation UiDelete($id: ID!) {
  deleteArtifact(input: {artifactID: $id, deleteAliases: true}) { artifact { id } }
}"""
_SEQUENCE = """mutation UiSequence($id: ID!, $description: String) {
  updateArtifactSequence(input: {artifactSequenceID: $id, description: $description}) {
    artifactCollection { id }
  }
}"""
_PORTFOLIO = """mutation UiPortfolio($id: ID!, $description: String) {
  updateArtifactPortfolio(input: {artifactPortfolioID: $id, description: $description}) {
    artifactCollection { id }
  }
}"""


def values(fields: dict[str, list[str]], name: str) -> list[str]:
    """A field's values, each split at commas (``production, staging``), stripped, non-empty,
    at most :data:`MAX_VALUES`."""
    found = [part.strip() for value in fields.get(name, []) for part in value.split(",")]
    found = [value for value in found if value]
    if not found:
        raise ActionRefused(f"the form needs a value for {name!r}")
    if len(found) > MAX_VALUES:
        raise ActionRefused(f"at most {MAX_VALUES} values for {name!r}")
    return found


def text(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


def _aliases(target: Target, names: list[str], operation: str) -> Mutation:
    place = {
        "artifactCollectionName": target.collection["name"],
        "entityName": target.owner,
        "projectName": target.project["name"],
    }
    return Mutation(
        _ALIASES % operation,
        {"id": _artifact_id(target), "aliases": [{**place, "alias": a} for a in names]},
    )


def _artifact_id(target: Target) -> str:
    return encode_id("Artifact", target.artifact["id"])


def _update(target: Target, **changes: Any) -> Mutation:
    return Mutation(_UPDATE, {"input": {"artifactID": _artifact_id(target), **changes}})


def _link(target: Target, fields: dict[str, list[str]], org: str) -> Mutation:
    registry = text(fields, "registry").strip().removeprefix(REGISTRY_PREFIX)
    collection = text(fields, "collection").strip() or target.collection["name"]
    if not registry:
        raise ActionRefused("choose a registry to link the version into")
    aliases = values(fields, "aliases") if any(v.strip() for v in fields.get("aliases", [])) else []
    project = REGISTRY_PREFIX + registry
    link = {
        "artifactID": _artifact_id(target),
        "entityName": org,
        "projectName": project,
        "artifactPortfolioName": collection,
        "aliases": [{"artifactCollectionName": collection, "alias": a} for a in aliases],
    }
    return Mutation(
        _LINK,
        {"input": link},
        then=("orgs", org, "registry", registry),
        then_query={"selectionPath": f"{org}/{project}/{collection}"},
    )


def _unlink(target: Target) -> Mutation:
    if target.collection["kind"] != "PORTFOLIO":
        raise ActionRefused("only a linked version (in a registry or portfolio) can be unlinked")
    portfolio = encode_id("ArtifactPortfolio", target.collection["id"])
    return Mutation(
        _UNLINK, {"id": _artifact_id(target), "portfolio": portfolio}, then=target.collection_path()
    )


def _delete(target: Target) -> Mutation:
    if target.collection["kind"] == "PORTFOLIO":
        raise ActionRefused(
            "a linked version is unlinked, not deleted: delete it where it was logged"
        )
    return Mutation(_DELETE, {"id": _artifact_id(target)}, then=target.collection_path())


#: The version page's actions: their names in the form's URL, and the mutation each sends.
VERSION_ACTIONS: dict[str, Callable[[Target, dict[str, list[str]], str], Mutation]] = {
    "add-aliases": lambda t, f, _: _aliases(t, values(f, "alias"), "addAliases"),
    "remove-aliases": lambda t, f, _: _aliases(t, values(f, "alias"), "deleteAliases"),
    "add-tags": lambda t, f, _: _update(t, tagsToAdd=[{"tagName": n} for n in values(f, "tag")]),
    "remove-tags": lambda t, f, _: _update(
        t, tagsToDelete=[{"tagName": n} for n in values(f, "tag")]
    ),
    "description": lambda t, f, _: _update(t, description=text(f, "description")),
    "link": lambda t, f, org: _link(t, f, org),
    "unlink": lambda t, f, _: _unlink(t),
    "delete": lambda t, f, _: _delete(t),
}


_COLLECTION_TAGS = """mutation UiCollectionTags(
  $entity: String!, $project: String!, $collection: String!, $tags: [TagInput!]!
) {
  %s(input: {entityName: $entity, projectName: $project, artifactCollectionName: $collection,
    tags: $tags}) { __typename }
}"""


def _collection_tags(target: Target, fields: dict[str, list[str]], operation: str) -> Mutation:
    return Mutation(
        _COLLECTION_TAGS % operation,
        {
            "entity": target.owner,
            "project": target.project["name"],
            "collection": target.collection["name"],
            "tags": [{"tagName": name} for name in values(fields, "tag")],
        },
    )


def _collection_description(target: Target, fields: dict[str, list[str]]) -> Mutation:
    portfolio = target.collection["kind"] == "PORTFOLIO"
    kind = "ArtifactPortfolio" if portfolio else "ArtifactSequence"
    return Mutation(
        _PORTFOLIO if portfolio else _SEQUENCE,
        {
            "id": encode_id(kind, target.collection["id"]),
            "description": text(fields, "description"),
        },
    )


def execute(
    state: ServerState, request: Request, viewer: Viewer, mutation: Mutation
) -> dict[str, Any]:
    """Run the mutation as ``/graphql`` runs a request of ``viewer``'s key: its data, or
    :class:`ActionRefused` with the error the SDK would have been given."""
    loaded = state.documents.get(mutation.query)
    if isinstance(loaded, list):  # a mistake of ours, not of the form
        raise RuntimeError(f"the UI's mutation does not validate: {loaded}")
    document, _ = loaded
    ctx = state.context(request, viewer)
    token = CURRENT.set(ctx)
    try:
        result = execute_sync(
            state.schema,
            document,
            root_value=Root(ctx),
            context_value=ctx,
            variable_values=mutation.variables,
            middleware=state.middleware(document, viewer),
        )
    finally:
        CURRENT.reset(token)
    if result.errors:
        error = result.errors[0]
        denied = isinstance(error.original_error, PermissionDenied)
        raise ActionRefused(error.message, 403 if denied else 400)
    return result.data or {}


#: The collection page's actions, as :data:`VERSION_ACTIONS`.
COLLECTION_ACTIONS: dict[str, Callable[[Target, dict[str, list[str]]], Mutation]] = {
    "description": _collection_description,
    "add-tags": lambda t, f: _collection_tags(t, f, "createArtifactCollectionTagAssignments"),
    "remove-tags": lambda t, f: _collection_tags(t, f, "deleteArtifactCollectionTagAssignments"),
}
