"""Linking versions into portfolios and Registry collections."""

from __future__ import annotations

from typing import Any

from ...formats.names import NAME
from ..ids import decode_id
from ..store import StoreError
from . import artifacts
from .common import Context, check, check_alias


class RegistryMutations:
    """Mutation fields that link and unlink versions."""

    ctx: Context

    def linkArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        store, access = self.ctx.store, self.ctx.access
        if not input.get("artifactID"):
            raise StoreError("linkArtifact needs artifactID")
        artifact_id = access.require_artifact(decode_id(input["artifactID"], "Artifact"))["id"]
        if input.get("artifactPortfolioID"):
            portfolio = access.writable_collection(
                decode_id(input["artifactPortfolioID"], "ArtifactPortfolio"), "portfolio"
            )
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
        access.write_named(target[0], target[1])
        membership = store.link_artifact(
            artifact_id, *target, aliases, linker_id=access.viewer.id, org_entity=access.org_entity
        )
        collection = store.get("collections", membership["collection_id"])
        return {
            "versionIndex": membership["version_index"],
            "artifactMembership": artifacts.MembershipNode(self.ctx, membership, collection),
        }

    def unlinkArtifact(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        portfolio = self.ctx.access.writable_collection(
            decode_id(input["artifactPortfolioID"], "ArtifactPortfolio", "ArtifactCollection"),
            "portfolio",
        )
        self.ctx.store.unlink_artifact(decode_id(input["artifactID"], "Artifact"), portfolio["id"])
        return {"success": True, "artifactID": input["artifactID"]}
