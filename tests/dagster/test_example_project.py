"""The example project, run as the README runs it, on the embedded server."""

from __future__ import annotations

import os
import sys
import time

from dagster import AssetKey, DagsterInstance

from dagster_wandb_artifacts.client import Api
from dagster_wandb_artifacts.server import LocalServer
from tests.support import EXAMPLE, free_port, run_example, run_process


def test_the_example_materializes_every_asset_on_the_embedded_server(tmp_path, wandb_home):
    output = run_example(tmp_path)
    assert "Using the embedded W&B-compatible server" in output
    # Dagster says nothing is wrong with how the example uses it.
    assert "Warning" not in output, [line for line in output.splitlines() if "Warning" in line]
    # Its runs stay in the Dagster instance it made here, for `dagster dev` to show.
    instance = DagsterInstance.from_config(str(tmp_path / ".dagster"))
    for key in (["sensors", "raw_measurements"], ["power_model"], ["evaluation"]):
        assert instance.get_latest_materialization_event(AssetKey(key)) is not None
    # Its own summary is findable: Dagster's DEBUG events stay out of its console, every
    # artifact has a link of its own, and the commands name the executables that ran it.
    assert " - DEBUG - " not in output
    links = [line for line in output.splitlines() if "/local/dagster-example/artifacts/" in line]
    summary = [line.split()[0] for line in links if line.startswith("  ")]
    assert sorted(summary) == sorted(
        f"{name}:{version}"
        for name, version in [
            ("sensors.raw_measurements", "v2"),
            ("sensors.cleaned_measurements", "v2"),
            ("sensor_archive", "v0"),
            ("power_model", "v0"),
            ("evaluation", "v0"),
            ("calibration", "v0"),
        ]
    )
    bin_dir = os.path.dirname(sys.executable)
    assert f"  {bin_dir}/dagster-wandb-artifacts server --root {tmp_path / '.wandb-artifacts'}" in (
        output
    )
    assert f"source {bin_dir}/activate" in output
    # Each version's log line in Dagster names the browse command the same way.
    assert f"(embedded server; browse: {bin_dir}/dagster-wandb-artifacts server --root" in output
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


def test_the_example_fails_within_seconds_when_its_backend_cannot_be_reached(tmp_path, wandb_home):
    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(
        {
            "WANDB_API_KEY": "local-" + "k" * 48,
            "WANDB_BASE_URL": host,
            "PYTHONPATH": os.pathsep.join([str(EXAMPLE), env.get("PYTHONPATH", "")]),
        }
    )
    started = time.monotonic()
    done = run_process([sys.executable, "-m", "example_project"], cwd=tmp_path, env=env)
    assert time.monotonic() - started < 30
    assert done.returncode == 1
    assert f"Using W&B at {host}" in done.stdout
    assert f"Stopped before running anything: W&B at {host} cannot be reached" in done.stderr
    assert not (tmp_path / ".dagster").exists()  # nothing ran
