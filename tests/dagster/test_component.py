"""The Component in a ``dg`` project: discoverable, valid, and listing what the YAML declares."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import run_process, run_tool, tool

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
  sensor:
    name: detector_changed
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
        # The project first; then the caller's path (a worktree's package over the install).
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(tmp_path / "src"), os.environ.get("PYTHONPATH")])
        ),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(Path(sys.executable).parents[1]),
    }
    return tmp_path, env


def dg(project: tuple[Path, dict[str, str]], *args: str) -> str:
    root, env = project
    return run_tool("dg", *args, cwd=root, env=env)


def test_dg_discovers_checks_and_lists_the_component(dg_project):
    components = dg(dg_project, "list", "components", "--json")
    assert "dagster_wandb_artifacts.WandbArtifactsComponent" in components
    dg(dg_project, "check", "defs")  # fails the test unless it exits 0
    defs = json.loads(dg(dg_project, "list", "defs", "--json"))
    assets = {a["asset_key"]: a for a in defs["assets"]}
    assert set(assets) == {"labels", "models/detector"}
    assert all(a["kinds"] == ["wandb"] for a in assets.values())
    assert {r["name"] for r in defs["resources"]} >= {"io_manager", "wandb"}
    assert [s["name"] for s in defs["sensors"]] == ["detector_changed"]


def test_dg_scaffold_writes_a_commented_defs_yaml_that_checks(dg_project):
    root, _ = dg_project
    shutil.rmtree(root / "src" / "wandbdemo" / "defs" / "wandb")
    dg(dg_project, "scaffold", "defs", "dagster_wandb_artifacts.WandbArtifactsComponent", "w")
    written = (root / "src" / "wandbdemo" / "defs" / "w" / "defs.yaml").read_text()
    assert "attributes: {}" not in written
    assert "  host: https://api.wandb.ai\n" in written
    assert "  # retry_timeout: 30" in written and "  # sensor:" in written
    dg(dg_project, "check", "defs")


def test_the_component_has_every_resource_option_and_the_resource_defaults():
    from dagster_wandb_artifacts import WandbArtifactsComponent, WandbArtifactsResource

    options = set(WandbArtifactsResource.model_fields) - {"api_key"}
    assert options <= set(WandbArtifactsComponent.model_fields)
    assert {"dagster_url", "download_dir", "artifact_type", "sensor"} <= set(
        WandbArtifactsComponent.model_fields
    )
    # Left out, host is the resource's (W&B's cloud), never a silent local folder.
    assert WandbArtifactsComponent().resource().host == WandbArtifactsResource().host
    configured = WandbArtifactsComponent(host="local", retry_timeout=5, timeout=7).resource()
    assert (configured.retry_timeout, configured.timeout, configured.api_key) == (5, 7, None)


def test_the_component_passes_every_io_manager_option_on(tmp_path):
    import dagster as dg

    from dagster_wandb_artifacts import WandbArtifactsComponent, WandbArtifactsIOManager

    io_options = set(WandbArtifactsIOManager.model_fields) - {"wandb"}
    assert io_options <= set(WandbArtifactsComponent.model_fields)
    component = WandbArtifactsComponent(
        host="local",
        local_root=str(tmp_path),
        artifact_type="model",
        serialization_module="dill",
        serialization_parameters={"protocol": 4},
    )
    defs = component.build_defs(dg.ComponentTree.for_test().load_context)
    io_manager = defs.resources["io_manager"]
    assert (io_manager.artifact_type, io_manager.serialization_module) == ("model", "dill")
    assert io_manager.serialization_parameters == {"protocol": 4}


TYPO_ASSET = """
import dagster as dg


@dg.asset(metadata={"wandb_artifact": {"type": "model", "aliase": ["best"]}})
def detector_eval() -> dict:
    return {}
"""

LEGACY_ASSET = """
import dagster as dg


@dg.asset(metadata={"wandb_artifact_configuration": {"type": "model"}})
def old_model() -> dict:
    return {}
"""

CHECKED_DEFINITIONS = """
from pathlib import Path

import dagster as dg

from dagster_wandb_artifacts import check_definitions


@dg.definitions
def defs():
    return check_definitions(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parents[2])
    )
"""


def _check_defs(root: Path, env: dict[str, str]) -> tuple[int, str]:
    done = run_process([tool("dg"), "check", "defs"], cwd=root, env=env)
    return done.returncode, " ".join((done.stdout + done.stderr).split())


def test_dg_check_defs_names_an_asset_with_a_metadata_typo(dg_project):
    root, env = dg_project
    package = root / "src" / "wandbdemo"
    (package / "definitions.py").write_text(CHECKED_DEFINITIONS)
    (package / "defs" / "evaluation.py").write_text(TYPO_ASSET)
    code, output = _check_defs(root, env)
    assert code != 0
    assert "asset detector_eval: bad metadata['wandb_artifact']: aliase" in output


def test_the_component_checks_every_asset_of_the_defs_folder_by_default(dg_project):
    """The project's definitions.py is dg's own (no wrapper): the Component checks the other
    modules and folders of the defs folder when it loads, nested ones included."""
    root, env = dg_project
    nested = root / "src" / "wandbdemo" / "defs" / "models" / "eval"
    nested.mkdir(parents=True)
    (nested / "evaluation.py").write_text(TYPO_ASSET)
    (nested.parent / "legacy.py").write_text(LEGACY_ASSET)
    code, output = _check_defs(root, env)
    assert code != 0
    assert "asset detector_eval: bad metadata['wandb_artifact']: aliase" in output
    assert "did you mean 'aliases'" in output
    # A failed load shows no warning: the legacy key is named in the error beside the typo.
    assert "asset old_model: metadata['wandb_artifact_configuration'] is dagster-wandb" in output

    # A second W&B component: each builds the other while it checks, and neither loops
    # (Dagster refuses the pair afterwards: both define the resource "wandb").
    second = root / "src" / "wandbdemo" / "defs" / "archive"
    second.mkdir()
    (second / "defs.yaml").write_text(
        "type: dagster_wandb_artifacts.WandbArtifactsComponent\n"
        "attributes: {host: local, project: pipelines, io_manager_key: archive_io}\n"
    )
    code, output = _check_defs(root, env)
    assert code != 0 and "Recursion" not in output
    assert output.count("asset detector_eval: bad metadata") == 1
    shutil.rmtree(second)

    component = root / "src" / "wandbdemo" / "defs" / "wandb" / "defs.yaml"
    component.write_text(COMPONENT_YAML + "  check_metadata: false\n")
    code, output = _check_defs(root, env)
    assert code == 0, output
