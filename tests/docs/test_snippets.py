"""Every code example of the documentation runs: each ``docs/snippets/*.py`` (the pages
include them, or sections of them, with ``--8<--``) as ``python <file>`` in a folder of its
own, against an embedded server on loopback, and must exit 0 (a snippet asserts what it
shows)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagster_wandb_artifacts.server import LocalServer
from tests.support import run_process

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = sorted((ROOT / "docs" / "snippets").glob("*.py"))
ENTITY = "ent"


@pytest.fixture(scope="module")
def snippet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(tmp_path_factory.mktemp("snippet-server"), entity=ENTITY) as server:
        yield server


def _environment(server: LocalServer, home: Path, project: str) -> dict[str, str]:
    """The server's address and key, a project of the snippet's own (snippets share one
    server, and their collection names may meet), and W&B's and Dagster's folders under
    ``home`` (as ``isolate_wandb`` does), so that nothing leaks between snippets or into
    $HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "DAGSTER_"))}
    folders = {
        "WANDB_DIR": "dir",
        "WANDB_CACHE_DIR": "cache",
        "WANDB_CONFIG_DIR": "config",
        "WANDB_DATA_DIR": "data",
        "WANDB_ARTIFACT_DIR": "artifacts",
        "DAGSTER_HOME": "dagster",
        "HOME": "home",
    }
    for variable, folder in folders.items():
        (home / folder).mkdir(parents=True)
        env[variable] = str(home / folder)
    env.update(
        {
            "WANDB_BASE_URL": server.base_url,
            "WANDB_API_KEY": server.api_key,
            "WANDB_ENTITY": ENTITY,
            "WANDB_PROJECT": project,
            "WANDB_SILENT": "true",
            "WANDB_ERROR_REPORTING": "false",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        }
    )
    return env


def test_there_are_snippets():
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[path.name for path in SNIPPETS])
def test_the_snippet_runs(snippet: Path, snippet_server: LocalServer, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    project = snippet.stem.replace("_", "-")
    env = _environment(snippet_server, tmp_path / "home", project)
    done = run_process([sys.executable, str(snippet)], cwd=work, env=env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
