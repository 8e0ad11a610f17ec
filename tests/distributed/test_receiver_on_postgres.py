"""The automations receiver on a Dagster instance kept in PostgreSQL: an alias moved on the
artifact server POSTs a webhook to ``WandbWebhookReceiver``, which launches a job and reports
the collection's asset materialized through a dagster-webserver on that instance; both land in
PostgreSQL, and the delivery replayed to a restarted receiver is not acted on again."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from dagster import AssetKey
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bench.harness import stop_process
from dagster_wandb_artifacts.formats.webhook_signature import signature
from dagster_wandb_artifacts.server import LocalServer
from dagster_wandb_artifacts.webhooks import WandbWebhookReceiver
from tests.distributed import services
from tests.support import ENTITY, PROJECT, free_port, tool
from tests.webhooks import deploy_on_production, deploy_route

pytestmark = pytest.mark.slow

#: The receiver's test deployment: the ``deploy_model`` job and the ``classifier`` asset.
DEFS = Path(__file__).parents[1] / "dagster" / "webhook_defs.py"
SECRET = "hook-signing"


@pytest.fixture
def server(tmp_path) -> Iterator[LocalServer]:
    """The embedded server, allowed to send webhooks to this test's receiver on loopback."""
    with LocalServer(tmp_path / "server", webhook_allow=["127.0.0.1"]) as running:
        yield running


@pytest.fixture
def webserver(dagster_home: Path, tmp_path) -> Iterator[str]:
    """A dagster-webserver on the PostgreSQL instance; its URL. The instance's run launcher
    runs a launched run inside the webserver before the launch returns."""
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    process, output = services.launch(
        [tool("dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-f", str(DEFS)], env
    )
    try:
        output.wait_for("Serving dagster-webserver")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _signed_again(body: bytes, delivery: str) -> dict[str, str]:
    """Fresh, validly signed headers for a delivery: what a replaying sender would send."""
    stamp = str(int(time.time()))
    return {
        "X-Wandb-Timestamp": stamp,
        "X-Wandb-Delivery": delivery,
        "X-Wandb-Signature": signature(SECRET, stamp, delivery, body),
    }


def _materializations(instance) -> list:
    return instance.fetch_materializations(AssetKey("classifier"), limit=10).records


def test_receiver_acts_on_the_postgres_instance(api, server, webserver, instance, dagster_home):
    # The webserver says it serves just before it binds: retry refused connections, bounded.
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=Retry(connect=60, backoff_factor=0.05)))
    session.post(f"{webserver}/graphql", json={"query": "{ version }"}, timeout=30)
    route = deploy_route()
    deliveries = dagster_home / "wandb-webhook-deliveries.jsonl"
    port = free_port()

    def receiver() -> WandbWebhookReceiver:
        return WandbWebhookReceiver(
            webserver, [route], signing_secret=SECRET, deliveries_path=deliveries, port=port
        )

    with receiver() as first:
        logged = deploy_on_production(api, first.url, SECRET)
        logged.aliases.append("production")
        logged.save()
        assert server.automations.dispatcher.wait_idle(60)
        [(event, done)] = first.handled
    [entry] = server.automations.tables.deliveries()
    assert entry["status"] == "delivered", dict(entry)
    materialized, launched = done
    assert materialized == "materialized:classifier"

    # Both are in the PostgreSQL instance, read by a process other than the webserver.
    record = instance.get_latest_materialization_event(AssetKey("classifier"))
    assert record is not None
    assert record.asset_materialization.tags["dagster/data_version"] == logged.digest
    assert record.asset_materialization.metadata["wandb/artifact"].value == event.version_string
    dagster_run = instance.get_run_by_id(launched.removeprefix("run:"))
    assert dagster_run is not None and dagster_run.job_name == "deploy_model"
    assert dagster_run.tags["wandb/artifact"] == f"{ENTITY}/{PROJECT}/classifier:v0"
    assert dagster_run.status.value == "SUCCESS"
    assert len(_materializations(instance)) == 1
    assert deliveries.read_text().count(entry["delivery_key"]) == 1

    # A restarted receiver, with its memory beside the instance, refuses to act again.
    body = entry["payload"].encode()
    runs_before = len(instance.get_run_records())
    with receiver() as second:
        headers = _signed_again(body, entry["delivery_key"])
        replay = requests.post(second.url, data=body, headers=headers, timeout=30)
        assert replay.status_code == 200 and replay.json() == {"done": done}
        assert second.handled == []
    assert len(instance.get_run_records()) == runs_before
    assert len(_materializations(instance)) == 1
