"""The multiprocess executor: each step in its own process, one shared embedded server root."""

from __future__ import annotations

from dagster import DagsterInstance, execute_job, reconstructable

from dagster_wandb_artifacts.client import Api
from dagster_wandb_artifacts.server import LocalServer
from tests.dagster import multiprocess_defs


def test_many_assets_in_parallel_processes(tmp_path, monkeypatch, wandb_home):
    root = tmp_path / "shared-root"
    monkeypatch.setenv("WANDB_ARTIFACTS_TEST_ROOT", str(root))
    (tmp_path / "dagster-home").mkdir()
    instance = DagsterInstance.local_temp(str(tmp_path / "dagster-home"))
    with execute_job(
        reconstructable(multiprocess_defs.everything), instance=instance, raise_on_error=False
    ) as result:
        assert not result.success  # `broken` fails on purpose; everything else must not
        failed = {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
        assert failed == {"broken"}
        assert result.output_for_node("combined") == 300
        run_id = result.run_id

    with LocalServer(root) as server:
        api = Api({"base_url": server.base_url, "project": "multi"}, api_key=server.api_key)
        for index in range(multiprocess_defs.WIDTH):
            leaf = api.artifact(f"leaf_{index}:latest")
            assert leaf.version == "v0"
            assert leaf.logged_by().state == "finished"
        consumer_runs = api.artifact("leaf_3:latest").used_by()
        assert [run.state for run in consumer_runs] == ["crashed"]
        assert [run.group for run in consumer_runs] == [run_id]
