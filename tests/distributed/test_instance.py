"""Dagster's instance on PostgreSQL: the W&B sensor ticks on it and records the data version
of a new version, and a partitioned asset backfilled through the backfill daemon's own
iteration records one version per partition, each loadable by its key."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest
from dagster import AssetKey

from bench.backfill import load_partition, run_backfill, workspace
from dagster_wandb_artifacts.client import Api, Artifact
from tests.distributed import defs

pytestmark = pytest.mark.slow

SENSOR_DEFS = Path(__file__).with_name("sensor_defs.py")
#: Seconds a sensor may take to report a new version.
SENSOR_SECONDS = 60


def log_calibration(api: Api, offset: float) -> Artifact:
    """A version of ``calibration`` logged outside Dagster, as another team would."""
    run = api.create_run(project="sensor", entity=defs.ENTITY, job_type="calibrate")
    artifact = Artifact("calibration", "dataset")
    with artifact.new_file("offset.json", "w") as file:
        file.write(f'{{"offset": {offset}}}')
    logged = run.log_artifact(artifact)
    run.finish()
    return logged


def sensor_ticks(instance) -> list:
    states = instance.all_instigator_state()
    assert [state.name for state in states] == ["wandb_artifact_sensor"]
    return instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id)


def latest_data_version(instance, key: AssetKey) -> str | None:
    event = instance.get_latest_materialization_event(key)
    if event is None:
        return None
    return event.asset_materialization.tags.get("dagster/data_version")


def test_sensor_ticks_on_postgres(artifact_server, instance, launcher_env):
    from dagster._daemon.sensor import execute_sensor_iteration

    api = Api(
        {"base_url": artifact_server.base_url, "entity": defs.ENTITY, "project": "sensor"},
        api_key=artifact_server.api_key,
    )
    log_calibration(api, 0.5)
    logger = logging.getLogger("sensor-test")
    key = AssetKey("calibration")
    with workspace(instance, SENSOR_DEFS) as context:
        list(execute_sensor_iteration(context, logger, None, None))
        # The first tick takes the versions there are as its baseline: nothing reported.
        assert len(sensor_ticks(instance)) == 1
        assert latest_data_version(instance, key) is None
        new = log_calibration(api, 1.5)
        deadline = time.monotonic() + SENSOR_SECONDS
        # Each iteration is a tick once the sensor's interval (1 s) has passed.
        while latest_data_version(instance, key) != new.digest:
            assert time.monotonic() < deadline, "the sensor did not report the new version"
            list(execute_sensor_iteration(context, logger, None, None))
    assert len(sensor_ticks(instance)) >= 2
    assert new.version == "v1"


def test_backfill_on_postgres(artifact_server, instance, launcher_env, monkeypatch, tmp_path):
    monkeypatch.setenv("BACKFILL_DAYS", "5")
    monkeypatch.setenv("BACKFILL_FS_DIR", str(tmp_path / "fs"))
    from bench import backfill_defs

    keys = [f"2025-01-0{day}" for day in range(1, 6)]
    with workspace(instance) as context:
        done = run_backfill(context, AssetKey("daily_wandb"), keys)
    assert len(done.run_seconds) == len(keys)
    api = Api(
        {"base_url": artifact_server.base_url, "entity": "bench", "project": "backfill"},
        api_key=artifact_server.api_key,
    )
    versions = list(api.artifacts("dataset", f"bench/backfill/{backfill_defs.COLLECTION}"))
    assert sorted(int(v.version[1:]) for v in versions) == list(range(len(keys)))
    for key in keys:
        value = load_partition(artifact_server.base_url, artifact_server.api_key, key)
        assert np.array_equal(value, backfill_defs.readings(key))
        # Dagster's data version of the partition (in PostgreSQL) is its version's digest.
        logged = api.artifact(f"{backfill_defs.COLLECTION}:p-{key}")
        by_partition = instance.get_latest_data_version_record(
            AssetKey("daily_wandb"), partition_key=key
        )
        assert by_partition.asset_materialization.tags["dagster/data_version"] == logged.digest
