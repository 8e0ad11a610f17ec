"""Linking versions into portfolios and Registry collections."""

from __future__ import annotations

from typing import Any

from ...formats.names import NAME
from ..ids import decode_id
from ..store import NotFound, StoreError
from . import artifacts
from .common import Context, check, check_alias


class RegistryMutations:
    """Mutation fields that link and unlink versions."""

    ctx: Context

    def linkArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store = self.ctx.store
        if not input.get("artifactID"):
            raise StoreError("linkArtifact needs artifactID")
        artifact_id = decode_id(input["artifactID"], "Artifact")
        if input.get("artifactPortfolioID"):
            portfolio = store.get(
                "collections", decode_id(input["artifactPortfolioID"], "ArtifactPortfolio")
            )
            if portfolio is None:
                raise NotFound("no such portfolio")
            project = store.get("projects", portfolio["project_id"])
            entity = store.get("entities", project["entity_id"])["name"]
            target = (entity, project["name"], portfolio["name"])
        else:
            names = [input.get(k) for k in ("entityName", "projectName", "artifactPortfolioName")]
            if not all(names):
                raise StoreError(
                    "linkArtifact needs artifactPortfolioID, or entityName, projectName and "
                    "artifactPortfolioName"
                )
            target = (
                names[0],
                check(NAME, names[1], "project name"),
                check(NAME, names[2], "portfolio name"),
            )
        aliases = [check_alias(a["alias"]) for a in input.get("aliases") or []]
        membership = store.link_artifact(artifact_id, *target, aliases)
        collection = store.get("collections", membership["collection_id"])
        return {
            "versionIndex": membership["version_index"],
            "artifactMembership": artifacts.MembershipNode(self.ctx, membership, collection),
        }

    def unlinkArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        self.ctx.store.unlink_artifact(
            decode_id(input["artifactID"], "Artifact"),
            decode_id(input["artifactPortfolioID"], "ArtifactPortfolio", "ArtifactCollection"),
        )
        return {"success": True, "artifactID": input["artifactID"]}
