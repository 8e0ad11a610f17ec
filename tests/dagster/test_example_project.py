"""The example project, run as the README runs it, on the embedded server."""

from __future__ import annotations

from dagster_wandb_artifacts.client import Api
from dagster_wandb_artifacts.server import LocalServer
from tests.support import run_example


def test_the_example_materializes_every_asset_on_the_embedded_server(tmp_path, wandb_home):
    output = run_example(tmp_path)
    assert "Using the embedded W&B-compatible server" in output
    assert "Browse them: dagster-wandb-artifacts server --root" in output
    with LocalServer(tmp_path / ".wandb-artifacts") as server:
        api = Api(
            {"base_url": server.base_url, "project": "dagster-example"}, api_key=server.api_key
        )
        raw = api.artifacts("dataset", "sensors.raw_measurements")
        assert len(raw) == 3  # one version per day
        assert all(a.metadata["dagster/serializer"] == "numpy" for a in raw)
        assert {a.metadata["dagster/partition_key"] for a in raw} == {
            alias.removeprefix("p-") for a in raw for alias in a.aliases if alias.startswith("p-")
        }
        assert "clean" in api.artifact("sensors.cleaned_measurements:latest").aliases
        model = api.artifact("power_model:candidate", type="model")
        assert [run.job_type for run in model.used_by()] == ["evaluation"]
        archive = api.artifact("sensor_archive:latest", type="archive")
        assert all(e.ref.startswith("file://") for e in archive.manifest.entries.values())
        calibration = api.artifact("calibration:latest")
        assert calibration.logged_by().job_type == "calibrate"  # made outside Dagster
        assert [run.job_type for run in calibration.used_by()] == ["evaluation"]
        assert api.artifact("evaluation:latest").logged_by().state == "finished"
        assert server.api_key not in output
