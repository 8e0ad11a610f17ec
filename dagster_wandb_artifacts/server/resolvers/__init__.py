"""The GraphQL API: the SDL in ``schema.graphql`` and one resolver class per object type.

graphql-core's default resolver reads an attribute of the parent value and calls it with
``(info, **arguments)`` when it is callable, so each class exposes W&B's field names. The
resolvers are split by W&B's domains: runs and projects (``runs``), artifacts and their
collections (``artifacts``), manifests and files (``files``), and Registry links (``registry``).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema

from .. import extras
from ..ids import decode_id
from . import automations, common, members, users
from .artifacts import ArtifactMutations, ArtifactNode, CollectionNode
from .automations import AutomationMutations
from .common import FEATURES, Context
from .files import FileMutations
from .members import MemberMutations
from .registry import RegistryMutations
from .runs import RunQueries
from .users import UserMutations

# Root ------------------------------------------------------------------------------------------


def _artifact(self: Root, info: Any, id: str) -> ArtifactNode | None:  # noqa: A002
    """A version by its global ID, when the caller may read it (else as if missing)."""
    row = self.ctx.access.artifact(decode_id(id, "Artifact"))
    return ArtifactNode(self.ctx, row) if row else None


def _collection(self: Root, info: Any, id: str) -> CollectionNode | None:  # noqa: A002
    accepted = ("ArtifactSequence", "ArtifactPortfolio", "ArtifactCollection")
    row = self.ctx.access.collection(decode_id(id, *accepted))
    return CollectionNode(self.ctx, row) if row else None


class Root(
    RunQueries,
    ArtifactMutations,
    FileMutations,
    RegistryMutations,
    AutomationMutations,
    UserMutations,
    MemberMutations,
    extras.WorkspaceMutations,
):
    """Query and Mutation fields (graphql-core hands both the same root value)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    artifact = _artifact
    artifactCollection = _collection  # noqa: N815


def load_schema() -> GraphQLSchema:
    schema = common.load_schema(extras.schema_text())
    automations.bind(schema)
    users.bind(schema)
    members.bind(schema)
    extras.bind(schema)
    return schema


__all__ = ["FEATURES", "Context", "Root", "load_schema"]
