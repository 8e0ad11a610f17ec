"""Delivery that survives: a hanging target holds back no one else, every attempt is bounded
(time, bytes of answer), a flood is refused whole without costing another entity its
deliveries, and deliveries queued when the server is killed are made after its restart."""

from __future__ import annotations

import os
import secrets
import statistics
import time
from types import SimpleNamespace

import pytest
import requests

from dagster_wandb_artifacts.server import LocalServer
from dagster_wandb_artifacts.server.automations import DeliveryPolicy
from dagster_wandb_artifacts.server.automations.egress import Limits
from tests.server.test_automation_roles import (
    ADD_ALIASES,
    CREATE_TRIGGER,
    DELIVERIES,
    PROJECT_ID,
    _hook,
    _trigger_input,
)
from tests.server.test_users import add_user, client, log, post
from tests.support import free_port, start_process, tool, wait_for_line
from tests.webhooks import WebhookReceiver

pytestmark = pytest.mark.usefixtures("wandb_home")

ALLOW_LOOPBACK = ["127.0.0.1"]


def _automate(server, key: str, entity: str, hook_name: str, url: str, count: int = 1) -> None:
    """``count`` automations on every alias added in ``entity/proj``, to the webhook at url."""
    added = _hook(server, key, entity, url, name=hook_name)
    hook = added["data"]["createGenericWebhookIntegration"]["integration"]["id"]
    project = post(server, key, PROJECT_ID, {"e": entity, "p": "proj"})["data"]["project"]["id"]
    for index in range(count):
        fields = _trigger_input(f"{hook_name}-{index}", project, hook)
        assert "errors" not in post(server, key, CREATE_TRIGGER, {"input": fields})


def _add_aliases(server, key: str, version, entity: str, aliases: list[str]) -> dict:
    where = {"entityName": entity, "projectName": "proj", "artifactCollectionName": "ds"}
    named = [{**where, "alias": alias} for alias in aliases]
    return post(server, key, ADD_ALIASES, {"input": {"artifactID": version.id, "aliases": named}})


def test_storm_a_hanging_target_holds_back_no_one(tmp_path):
    with (
        WebhookReceiver(stall=True).running() as hanging,
        WebhookReceiver().running() as fast,
        LocalServer(tmp_path / "server", webhook_allow=ALLOW_LOOPBACK) as server,
    ):
        key = server.api_key
        version = log(client(server, key, "local/proj"), "ds")
        _automate(server, key, "local", "hanging", hanging.url, count=50)
        _automate(server, key, "local", "fast", fast.url, count=50)

        started = time.monotonic()
        assert "errors" not in _add_aliases(server, key, version, "local", ["production"])
        latencies = []
        while len(fast.received) < 50 and time.monotonic() - started < 5:
            sent = time.monotonic()
            reply = requests.post(
                f"{server.base_url}/graphql",
                json={"query": "{ viewer { username } }"},
                auth=("api", key),
                timeout=5,
            )
            assert reply.status_code == 200
            latencies.append(time.monotonic() - sent)
        fast.wait_for(50, timeout=max(0.0, 5 - (time.monotonic() - started)))
        arrived = time.monotonic() - started
        # The hanging target holds one worker: one of its deliveries is in flight.
        assert len(hanging.received) == 1
        hanging.release()
    print(
        f"storm: 50 fast deliveries in {arrived:.2f} s; GraphQL median "
        f"{statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms "
        f"over {len(latencies)} requests"
    )
    assert arrived < 5
    assert statistics.median(latencies) < 0.1, latencies


def test_each_attempt_is_bounded_in_time_and_in_bytes_read(tmp_path):
    policy = DeliveryPolicy(attempts=1, limits=Limits(connect_seconds=0.5, total_seconds=1))
    with (
        WebhookReceiver(stall=True, drip=True).running() as dripping,
        WebhookReceiver(reply_bytes=400 * 1024 * 1024).running() as flooding,
        LocalServer(
            tmp_path / "server", webhook_allow=ALLOW_LOOPBACK, delivery_policy=policy
        ) as server,
    ):
        key = server.api_key
        version = log(client(server, key, "local/proj"), "ds")
        _automate(server, key, "local", "drip", dripping.url)
        _automate(server, key, "local", "flood", flooding.url)
        _add_aliases(server, key, version, "local", ["production"])
        # A byte every 0.2 s would beat any timeout of one read: the 1 s total ends it.
        assert server.automations.dispatcher.wait_idle(10)
        dripping.release()
        by_url = {row["url"]: row for row in server.automations.tables.deliveries()}
    dripped, flooded = by_url[dripping.url], by_url[flooding.url]
    assert dripped["status"] == "failed" and "no answer within 1" in dripped["error"]
    # A 400 MB answer: its first bytes are read, then the connection is closed.
    assert (flooded["status"], flooded["response_status"]) == ("delivered", 200)
    assert flooding.bytes_sent < 32 * 1024 * 1024


def test_a_flood_is_refused_whole_and_costs_no_one_else(tmp_path):
    policy = DeliveryPolicy(max_unfinished_per_entity=20)
    with (
        WebhookReceiver(stall=True).running() as alices_target,
        WebhookReceiver().running() as bobs_target,
        LocalServer(
            tmp_path / "server", webhook_allow=ALLOW_LOOPBACK, delivery_policy=policy
        ) as server,
    ):
        alice_key, bob_key = (
            add_user(server, "alice@example.com"),
            add_user(server, "bob@example.com"),
        )
        alices = log(client(server, alice_key, "alice/proj"), "ds")
        bobs = log(client(server, bob_key, "bob/proj"), "ds")
        _automate(server, alice_key, "alice", "hook", alices_target.url)
        _automate(server, bob_key, "bob", "hook", bobs_target.url)

        flood = [f"a{index}" for index in range(25)]
        refused = _add_aliases(server, alice_key, alices, "alice", flood)
        assert "webhook deliveries" in refused["errors"][0]["message"]
        assert _aliases(server, alice_key, alices) == {"latest", "v0"}  # nothing written
        accepted = _add_aliases(server, alice_key, alices, "alice", flood[:15])
        assert "errors" not in accepted

        assert "errors" not in _add_aliases(server, bob_key, bobs, "bob", ["production"])
        [delivered] = bobs_target.wait_for(1, timeout=5)
        assert delivered.json["alias"] == "production"
        alices_target.release()


def _aliases(server, key: str, version) -> set[str]:
    query = "query($id: ID!) { artifact(id: $id) { aliases { alias } } }"
    found = post(server, key, query, {"id": version.id})["data"]["artifact"]["aliases"]
    return {alias["alias"] for alias in found}


def _server_process(root, port: int, key: str):
    process = start_process(
        [
            tool("dagster-wandb-artifacts"),
            *("server", "--root", str(root), "--port", str(port)),
            *("--allow-webhook-target", "127.0.0.1"),
        ],
        env={**os.environ, "WANDB_API_KEY": key},
    )
    wait_for_line(process, "artifact server on", timeout=60)
    return process


def test_deliveries_queued_when_the_server_is_killed_are_made_after_restart(tmp_path):
    root, port, key = tmp_path / "server", free_port(), f"local-{secrets.token_hex(24)}"
    server = SimpleNamespace(base_url=f"http://127.0.0.1:{port}", api_key=key, root=root)
    with WebhookReceiver(stall=True).running() as receiver:
        process = _server_process(root, port, key)
        try:
            version = log(client(server, key, "local/proj"), "ds")
            _automate(server, key, "local", "hook", receiver.url)
            aliases = [f"a{index}" for index in range(50)]
            assert "errors" not in _add_aliases(server, key, version, "local", aliases)
            receiver.wait_for(1)  # one in flight (the target hangs), 49 waiting
            [edge] = post(server, key, DELIVERIES, {"e": "local"})["data"]["entity"]["triggers"][
                "edges"
            ]
            queued = edge["node"]["deliveries"]
            assert len(queued) == 50
            assert {d["status"] for d in queued} <= {"pending", "delivering"}
        finally:
            process.kill()
            process.wait(timeout=30)
        before_restart = len(receiver.received)
        receiver.release()
        process = _server_process(root, port, key)
        try:
            delivered = receiver.wait_for_deliveries(50, timeout=60, since=before_restart)
        finally:
            process.kill()
            process.wait(timeout=30)
    print(f"kill -9 with 50 queued: {len(delivered)} of 50 delivered after restart")
    assert len(delivered) == 50
