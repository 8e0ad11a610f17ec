"""W&B automation to Dagster without polling: an alias moved on the embedded server POSTs a
webhook to the receiver, which launches a job on a real dagster-webserver and reports the
collection's asset materialized."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from dagster import DagsterEventType, DagsterInstance
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from dagster_wandb_artifacts.server import LocalServer
from dagster_wandb_artifacts.webhooks import WandbWebhookReceiver
from tests.support import ENTITY, PROJECT, free_port, wait_for_line
from tests.webhooks import deploy_on_production, deploy_route


@pytest.fixture
def server(tmp_path):
    """The embedded server, allowed to send webhooks to this test's receivers on loopback."""
    with LocalServer(tmp_path / "server", webhook_allow=["127.0.0.1"]) as running:
        yield running


DEFS = Path(__file__).with_name("webhook_defs.py")

RUN = """query($id: ID!) { runOrError(runId: $id) {
  __typename ... on Run { status jobName tags { key value } } } }"""

MATERIALIZATIONS = """{ assetNodes { assetKey { path }
  assetMaterializations(limit: 1) { tags { key value }
    metadataEntries { label ... on TextMetadataEntry { text } } } } }"""


def _session() -> requests.Session:
    # The webserver says it serves just before it binds: retry refused connections, bounded.
    session = requests.Session()
    retry = Retry(connect=60, backoff_factor=0.05, backoff_max=1.0)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


@pytest.fixture
def dagster_webserver(tmp_path):
    home = tmp_path / "dagster-home"
    home.mkdir()
    # Launched runs start at once (the default queue needs a dagster-daemon to dequeue them).
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n"
        "  module: dagster._core.run_coordinator\n"
        "  class: DefaultRunCoordinator\n"
    )
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster-webserver")),
            *("-h", "127.0.0.1", "-p", str(port), "-f", str(DEFS)),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_line(process, "Serving dagster-webserver", timeout=180)
        yield f"http://127.0.0.1:{port}", home
    finally:
        process.terminate()
        process.wait(timeout=60)


def _graphql(url: str, query: str, variables: dict | None = None) -> dict:
    reply = _session().post(f"{url}/graphql", json={"query": query, "variables": variables or {}})
    return reply.json()["data"]


#: The events that end a run, and the status each gives it.
_RUN_ENDS = {
    DagsterEventType.RUN_SUCCESS: "SUCCESS",
    DagsterEventType.RUN_FAILURE: "FAILURE",
    DagsterEventType.RUN_CANCELED: "CANCELED",
}


def _finished_run(url: str, home: Path, run_id: str, timeout: float = 120) -> dict:
    """The run once it has finished: Dagster's own watch on the run's event log (what its
    webserver's subscriptions use) reports the run's end, waited for with a bound. The run's
    status is the one its end event gives: the run storage records it just after the event,
    so a read right then may still say STARTED."""
    ended = threading.Event()
    statuses: list[str] = []

    def on_event(entry, cursor: str) -> None:
        if entry.dagster_event_type in _RUN_ENDS:
            statuses.append(_RUN_ENDS[entry.dagster_event_type])
            ended.set()

    with DagsterInstance.from_config(str(home)) as instance:
        # Watching from the log's start, so an end written before the status is read below
        # still sets ``ended``.
        instance.event_log_storage.watch(run_id, None, on_event)
        run = _graphql(url, RUN, {"id": run_id})["runOrError"]
        if run["status"] not in ("SUCCESS", "FAILURE", "CANCELED"):
            assert ended.wait(timeout), f"run {run_id} did not finish in {timeout}s: {run}"
            run = {**_graphql(url, RUN, {"id": run_id})["runOrError"], "status": statuses[0]}
    return run


def _runs_of(url: str, job: str) -> int:
    query = "query($job: String!) { runsOrError(filter: {pipelineName: $job}) { __typename " \
        "... on Runs { results { runId } } } }"
    return len(_graphql(url, query, {"job": job})["runsOrError"]["results"])


def test_alias_move_starts_the_job_and_reports_the_asset(api, server, dagster_webserver, tmp_path):
    route = deploy_route()
    url, home = dagster_webserver
    deliveries = tmp_path / "receiver" / "deliveries.jsonl"

    def receiver() -> WandbWebhookReceiver:
        return WandbWebhookReceiver(
            url, [route], signing_secret="hook-signing", deliveries_path=deliveries, port=port
        )

    port = free_port()
    signed: list[tuple[bytes, dict]] = []
    with receiver() as first:
        logged = deploy_on_production(api, first.url, "hook-signing")

        started = time.monotonic()
        logged.aliases.append("production")
        logged.save()
        assert server.automations.dispatcher.wait_idle(60)
        latency = time.monotonic() - started
        [(event, done)] = first.handled
        [entry] = server.automations.tables.deliveries()
        # What the server sent, to replay it as an attacker who saw it would.
        body = entry["payload"].encode()
        from dagster_wandb_artifacts.formats.webhook_signature import signature

        stamp = str(int(time.time()))
        headers = {
            "X-Wandb-Timestamp": stamp,
            "X-Wandb-Delivery": entry["delivery_key"],
            "X-Wandb-Signature": signature("hook-signing", stamp, entry["delivery_key"], body),
        }
        signed.append((body, headers))
        forged = requests.post(first.url, data=body, timeout=30)
        assert forged.status_code == 401
        stale_stamp = str(int(time.time()) - 3600)
        stale = {
            **headers,
            "X-Wandb-Timestamp": stale_stamp,
            "X-Wandb-Signature": signature(
                "hook-signing", stale_stamp, entry["delivery_key"], body
            ),
        }
        assert requests.post(first.url, data=body, headers=stale, timeout=30).status_code == 401
    assert entry["status"] == "delivered", dict(entry)
    assert latency < 30, latency
    assert event.version_string == f"{ENTITY}/{PROJECT}/classifier:v0"
    assert event.digest == logged.digest
    materialized, launched = done
    assert materialized == "materialized:classifier"

    run = _finished_run(url, home, launched.removeprefix("run:"))
    assert (run["jobName"], run["status"]) == ("deploy_model", "SUCCESS")
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["wandb/artifact"] == event.version_string
    assert tags["wandb/alias"] == "production"
    assert tags["wandb/author"] == server.entity

    # The receiver restarts; the delivery replayed (validly signed, fresh) is not acted on.
    with receiver() as second:
        [(body, headers)] = signed
        replay = requests.post(second.url, data=body, headers=headers, timeout=30)
        assert replay.status_code == 200 and replay.json() == {"done": done}
        assert second.handled == []
    assert _runs_of(url, "deploy_model") == 1

    nodes = _graphql(url, MATERIALIZATIONS)["assetNodes"]
    [node] = [n for n in nodes if n["assetKey"]["path"] == ["classifier"]]
    [materialization] = node["assetMaterializations"]
    assert {"key": "dagster/data_version", "value": logged.digest} in materialization["tags"]
