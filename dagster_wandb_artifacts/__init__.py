"""Dagster assets as versioned W&B Artifacts.

The three layers import separately: :mod:`dagster_wandb_artifacts.client` (the W&B public
API for artifacts, on requests), :mod:`dagster_wandb_artifacts.server` (the embedded
W&B-compatible server) and the Dagster layer exported here. The Dagster names load on first
access, so importing the client alone never imports Dagster.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "WandbArtifactsResource": "resource",
    "WandbArtifactsIOManager": "io_manager",
    "WandbArtifactConfig": "config",
    "WandbInputConfig": "config",
    "wandb_artifact_specs": "lineage",
    "WandbArtifactsComponent": "component",
    "wandb_artifact_sensor": "lineage",
    "WandbWebhookReceiver": "webhooks",
    "WebhookRoute": "webhooks",
    "check_definitions": "checks",
    "build_wandb_artifact_checks": "asset_checks",
}

if TYPE_CHECKING:
    from .checks import check_definitions
    from .component import WandbArtifactsComponent
    from .config import WandbArtifactConfig, WandbInputConfig
    from .io_manager import WandbArtifactsIOManager
    from .lineage import wandb_artifact_sensor, wandb_artifact_specs
    from .resource import WandbArtifactsResource
    from .webhooks import WandbWebhookReceiver, WebhookRoute


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # Lists the lazy names too, so tools that scan the module (dg's component registry) see them.
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "WandbArtifactConfig",
    "WandbArtifactsComponent",
    "WandbArtifactsIOManager",
    "WandbArtifactsResource",
    "WandbInputConfig",
    "WandbWebhookReceiver",
    "WebhookRoute",
    "__version__",
    "build_wandb_artifact_checks",
    "check_definitions",
    "wandb_artifact_sensor",
    "wandb_artifact_specs",
]
