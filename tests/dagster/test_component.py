"""The Component in a ``dg`` project: discoverable, valid, and listing what the YAML declares."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PYPROJECT = """
[project]
name = "wandbdemo"
version = "0.1.0"
requires-python = ">=3.10"

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "wandbdemo"
"""

DEFINITIONS = """
from pathlib import Path

import dagster as dg


@dg.definitions
def defs():
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parents[2])
"""

COMPONENT_YAML = """
type: dagster_wandb_artifacts.WandbArtifactsComponent
attributes:
  host: local
  project: pipelines
  external_assets:
    - collection: labels
      type: dataset
    - collection: detector
      type: model
      alias: production
      key: [models, detector]
"""


@pytest.fixture
def dg_project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    package = tmp_path / "src" / "wandbdemo"
    (package / "defs" / "wandb").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "definitions.py").write_text(textwrap.dedent(DEFINITIONS))
    (package / "defs" / "wandb" / "defs.yaml").write_text(COMPONENT_YAML)
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path / "src"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(Path(sys.executable).parents[1]),
    }
    return tmp_path, env


def dg(project: tuple[Path, dict[str, str]], *args: str) -> subprocess.CompletedProcess:
    root, env = project
    return subprocess.run(
        [str(Path(sys.executable).with_name("dg")), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_dg_discovers_checks_and_lists_the_component(dg_project):
    components = dg(dg_project, "list", "components", "--json")
    assert components.returncode == 0, components.stderr[-2000:]
    assert "dagster_wandb_artifacts.WandbArtifactsComponent" in components.stdout

    checked = dg(dg_project, "check", "defs")
    assert checked.returncode == 0, (checked.stdout + checked.stderr)[-2000:]

    listed = dg(dg_project, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    defs = json.loads(listed.stdout)
    assets = {a["asset_key"]: a for a in defs["assets"]}
    assert set(assets) == {"labels", "models/detector"}
    assert all(a["kinds"] == ["wandb"] for a in assets.values())
    assert {r["name"] for r in defs["resources"]} >= {"io_manager", "wandb"}
