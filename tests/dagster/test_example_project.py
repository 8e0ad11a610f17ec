"""The example project, run as a user runs it: the ``dagster`` CLI on the embedded server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_wandb_artifacts.client import Api
from dagster_wandb_artifacts.server import LocalServer

EXAMPLE = Path(__file__).parents[2] / "example_project"


def test_main_job_materializes_every_asset_on_the_embedded_server(tmp_path, wandb_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_API_KEY")}
    env["PYTHONPATH"] = os.pathsep.join([str(EXAMPLE), env.get("PYTHONPATH", "")])
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "job", "execute", "-m", "example_project.definitions", "-j", "main"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "embedded server; browse: dagster-wandb-artifacts server --root" in output
    with LocalServer(tmp_path / ".wandb-artifacts") as server:
        api = Api(server.api_key, {"base_url": server.base_url, "project": "dagster-example"})
        assert api.artifact("sensors.raw_measurements:latest").metadata["dagster/serializer"] == (
            "numpy"
        )
        assert "clean" in api.artifact("sensors.cleaned_measurements:latest").aliases
        model = api.artifact("power_model:candidate", type="model")
        evaluation = api.artifact("evaluation:latest", type="evaluation")
        assert [run.job_type for run in model.used_by()] == ["evaluation"]
        assert evaluation.logged_by().state == "finished"
        assert server.api_key not in output
