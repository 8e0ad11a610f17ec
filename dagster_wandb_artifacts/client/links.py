"""Links of a logged version: linking it into portfolios and Registry collections, listing its
links and unlinking one; ``Artifact`` mixes this in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import queries
from .errors import InvalidInputError
from .names import ArtifactPath, validate_alias, validate_name

if TYPE_CHECKING:
    from .artifact import Artifact


@dataclass(frozen=True)
class Home:
    """Where a version is seen: a collection (its source sequence, or a link) and its index."""

    entity: str
    project: str
    collection: str
    index: int | None

    @classmethod
    def of(cls, collection: dict[str, Any], index: int | None) -> Home:
        # No project: the caller reads the version through a link only, and its source project
        # is not the caller's to see (the SDK names it "" too).
        project = collection.get("project") or {"entity": {"name": ""}, "name": ""}
        return cls(project["entity"]["name"], project["name"], collection["name"], index)

    def same_collection(self, other: Home) -> bool:
        return (self.entity, self.project, self.collection) == (
            other.entity,
            other.project,
            other.collection,
        )


class VersionLinks:
    """The linking half of ``Artifact``."""

    @property
    def linked_artifacts(self) -> list[Artifact]:
        """The links of this version in portfolios and the Registry (none for a link)."""
        self._logged("linked_artifacts")
        if self.is_link:
            return []
        api = self._require_api()
        node = api.client.execute(queries.FETCH_LINKED_ARTIFACTS, {"artifactID": self.id})
        edges = ((node["artifact"] or {}).get("artifactMemberships") or {}).get("edges", [])
        links = []
        for edge in edges:
            collection = edge["node"]["artifactCollection"]
            if collection["__typename"] != "ArtifactPortfolio":
                continue
            home = Home.of(collection, edge["node"]["versionIndex"])
            links.append(
                api.artifact(f"{home.entity}/{home.project}/{home.collection}:v{home.index}")
            )
        return links

    def unlink(self) -> None:
        """Remove this link from its portfolio (the source version stays)."""
        self._logged("unlink")
        if not self.is_link:
            raise InvalidInputError(
                f"{self.qualified_name} is not a link: unlink() applies to links only; "
                "delete() deletes a version"
            )
        api = self._require_api()
        portfolio = self._fetch_collection(self._home)
        api.client.execute(
            queries.UNLINK_ARTIFACT,
            {"input": {"artifactID": self._attrs["id"], "artifactPortfolioID": portfolio.id}},
        )

    def link(self, target_path: str, aliases: list[str] | None = None) -> Artifact:
        """Link this version into a portfolio or Registry collection; returns the linked version.

        ``target_path`` is ``[[entity/]project/]portfolio``; a Registry collection is
        ``wandb-registry-{registry}/{collection}``. The link gets its own ``vN`` and ``latest``.
        A draft is saved first, as the SDK does.
        """
        from .api import DEFAULT_PROJECT

        if self.is_draft():
            # As the SDK: a draft is saved first (in a run of its own), then linked.
            self.save(api=self._api) if self._api is not None else self.save()
        self._logged("link")
        api = self._require_api()
        parts = target_path.strip("/").split("/")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise InvalidInputError(
                f"link target {target_path!r} must look like [[entity/]project/]portfolio"
            )
        portfolio = validate_name(parts[-1], "portfolio name")
        # As the SDK: a path without a project links into $WANDB_PROJECT (else
        # "uncategorized"), not this version's project; the entity is the source's.
        target = api.in_registry_entity(
            ArtifactPath(
                parts[-3] if len(parts) == 3 else self.source_entity,
                parts[-2] if len(parts) >= 2 else os.environ.get("WANDB_PROJECT", DEFAULT_PROJECT),
                portfolio,
            )
        )
        entity, project = target.entity, target.project
        reply = api.client.execute(
            queries.LINK_ARTIFACT,
            {
                "artifactPortfolioName": portfolio,
                "entityName": entity,
                "projectName": project,
                "aliases": [
                    {"artifactCollectionName": portfolio, "alias": validate_alias(alias)}
                    for alias in aliases or []
                ],
                "artifactId": self.id,
            },
        )
        index = reply["linkArtifact"]["versionIndex"]
        return api.artifact(f"{entity}/{project}/{portfolio}:v{index}")
