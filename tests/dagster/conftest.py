"""Fixtures for the Dagster layer: the resource and IO manager on the test's server."""

from __future__ import annotations

import pytest

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource


@pytest.fixture
def resource(server, wandb_home) -> WandbArtifactsResource:
    return WandbArtifactsResource(
        host=server.base_url, api_key=server.api_key, entity="ent", project="proj"
    )


@pytest.fixture
def resources(resource) -> dict:
    return {"io_manager": WandbArtifactsIOManager(wandb=resource), "wandb": resource}
