"""Fixtures shared by every test: an embedded server on loopback and a private W&B home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dagster_wandb_artifacts.server import LocalServer


@pytest.fixture
def wandb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """W&B's folders under the test's tmp dir, so nothing leaks between tests or into $HOME."""
    home = tmp_path / "wandb-home"
    for variable, folder in {
        "WANDB_DIR": "dir",
        "WANDB_CACHE_DIR": "cache",
        "WANDB_CONFIG_DIR": "config",
        "WANDB_DATA_DIR": "data",
        "WANDB_ARTIFACT_DIR": "artifacts",
    }.items():
        (home / folder).mkdir(parents=True)
        monkeypatch.setenv(variable, str(home / folder))
    for variable in ("WANDB_API_KEY", "WANDB_BASE_URL", "WANDB_ENTITY", "WANDB_PROJECT", "WANDB_MODE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_ERROR_REPORTING", "false")
    return home


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "server") as running:
        yield running



@pytest.fixture
def api(server: LocalServer, tmp_path: Path, wandb_home: Path):
    """Our client pointed at the embedded server, with fast retries and a private cache."""
    from dagster_wandb_artifacts.client import Api, ArtifactCache, RetryPolicy, TransferSettings

    return Api(
        api_key=server.api_key,
        overrides={"base_url": server.base_url, "entity": "ent", "project": "proj"},
        retry=RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05),
        cache=ArtifactCache(tmp_path / "cache"),
        transfer=TransferSettings(multipart_threshold=256 * 1024, part_size=100 * 1024),
    )
