"""``WandbArtifactsComponent``: the resource, the IO manager and W&B-backed external assets,
declared in YAML for ``dg``.

Example ``defs.yaml``::

    type: dagster_wandb_artifacts.WandbArtifactsComponent
    attributes:
      host: local
      local_root: .wandb-artifacts
      project: pipelines
      external_assets:
        - collection: labels
          type: dataset
        - collection: detector
          type: model
          alias: production
          key: [models, detector]

The external assets are declared, not discovered, so loading the definitions never calls W&B
(``dg check defs`` works offline); use :func:`~.lineage.wandb_artifact_specs` in Python to
discover collections and their lineage.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
from pydantic import Field

from .config import METADATA_KEY
from .io_manager import WandbArtifactsIOManager
from .lineage import asset_key_for
from .resource import WandbArtifactsResource


class ExternalCollection(dg.Model, dg.Resolvable):
    """One W&B collection made outside Dagster, as an external asset."""

    collection: str = Field(description="The W&B collection name.")
    type: str = Field(default="dataset", description="Its artifact type.")
    alias: str = Field(default="latest", description="The version downstream assets load.")
    key: Sequence[str] | None = Field(
        default=None, description="Asset key (default: from the collection name)."
    )
    description: str | None = None
    entity: str | None = None
    project: str | None = None


class WandbArtifactsComponent(dg.Component, dg.Model, dg.Resolvable):
    """W&B Artifacts for a Dagster project: the resource (as ``wandb``), the IO manager (as
    ``io_manager_key``) and external assets for W&B collections."""

    host: str = Field(default="local", description="W&B API URL, or 'local' (embedded).")
    local_root: str = ".wandb-artifacts"
    api_key_env_var: str | None = Field(
        default="WANDB_API_KEY", description="Environment variable holding the API key."
    )
    entity: str | None = None
    project: str = "dagster"
    io_manager_key: str = "io_manager"
    artifact_type: str = "dataset"
    external_assets: list[ExternalCollection] = Field(default_factory=list)

    def resource(self) -> WandbArtifactsResource:
        api_key = dg.EnvVar(self.api_key_env_var) if self.api_key_env_var else None
        if self.host == "local" and self.api_key_env_var:
            api_key = None  # the embedded server keeps its own key
        return WandbArtifactsResource(
            host=self.host,
            api_key=api_key,
            local_root=self.local_root,
            entity=self.entity,
            project=self.project,
        )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        resource = self.resource()
        specs = [
            dg.AssetSpec(
                key=dg.AssetKey(list(external.key))
                if external.key
                else asset_key_for(external.collection),
                description=external.description,
                kinds={"wandb"},
                metadata={
                    METADATA_KEY: {
                        "name": external.collection,
                        "type": external.type,
                        "entity": external.entity or self.entity,
                        "project": external.project or self.project,
                    },
                    "wandb/alias": external.alias,
                    "wandb/type": external.type,
                },
            )
            for external in self.external_assets
        ]
        return dg.Definitions(
            assets=specs,
            resources={
                "wandb": resource,
                self.io_manager_key: WandbArtifactsIOManager(
                    wandb=resource, artifact_type=self.artifact_type
                ),
            },
        )
