"""The example project, run as a user runs it: the ``dagster`` CLI on the embedded server."""

from __future__ import annotations

from dagster_wandb_artifacts.client import Api
from dagster_wandb_artifacts.server import LocalServer
from tests.support import run_example_main_job


def test_main_job_materializes_every_asset_on_the_embedded_server(tmp_path, wandb_home):
    output = run_example_main_job(tmp_path)
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
