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

