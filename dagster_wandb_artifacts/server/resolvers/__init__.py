"""The GraphQL API: the SDL in ``schema.graphql`` and one resolver class per object type.

graphql-core's default resolver reads an attribute of the parent value and calls it with
``(info, **arguments)`` when it is callable, so each class exposes W&B's field names. The
resolvers are split by W&B's domains: runs and projects (``runs``), artifacts and their
collections (``artifacts``), manifests and files (``files``), and Registry links (``registry``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLSchema

from ..ids import decode_id
from . import automations, common, members, users, workspace
from .artifacts import ArtifactMutations, ArtifactNode, CollectionNode
from .automations import AutomationMutations
from .common import FEATURES, Context
from .files import FileMutations
from .members import MemberMutations
from .registry import RegistryMutations
from .runs import RunQueries
from .users import UserMutations
from .workspace import WorkspaceMutations

# Root ------------------------------------------------------------------------------------------


def _node(type_name: str) -> Callable[[Root, Any, str], Any]:
    """The query field that fetches one object by its global ID."""
    tables = {"Artifact": ("artifacts", ArtifactNode), "ArtifactCollection": ("collections", None)}
    table, node_class = tables[type_name]

    def fetch(self: Root, info: Any, id: str) -> Any:  # noqa: A002
        accepted = ("ArtifactSequence", "ArtifactPortfolio", "ArtifactCollection")
        row_id = decode_id(id, *(accepted if type_name == "ArtifactCollection" else (type_name,)))
        row = self.ctx.store.get(table, row_id)
        if row is None:
            return None
        return (node_class or CollectionNode)(self.ctx, row)

    return fetch


class Root(
    RunQueries,
    ArtifactMutations,
    FileMutations,
    RegistryMutations,
    AutomationMutations,
    UserMutations,
    MemberMutations,
    WorkspaceMutations,
):
    """Query and Mutation fields (graphql-core hands both the same root value)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    artifact = _node("Artifact")
    artifactCollection = _node("ArtifactCollection")  # noqa: N815


def load_schema() -> GraphQLSchema:
    schema = common.load_schema()
    automations.bind(schema)
    users.bind(schema)
    members.bind(schema)
    workspace.bind(schema)
    return schema


__all__ = ["FEATURES", "Context", "Root", "load_schema"]
