"""The Dagster receiver refuses before it acts: a malformed or negative Content-Length (400,
without reading on), a body over the bound (413), a wrong signature, a stale timestamp
(401), as an unauthenticated client on loopback would send them. These requests never reach
Dagster, so the receiver points at a port where nothing listens."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from dagster_wandb_artifacts.formats.webhook_signature import signature
from dagster_wandb_artifacts.webhooks import MAX_BODY, PAYLOAD, WandbWebhookReceiver, WebhookRoute
from tests.support import free_port


@pytest.fixture
def receiver(tmp_path):
    route = WebhookRoute("ent/proj/model", job="deploy_model")
    nowhere = f"http://127.0.0.1:{free_port()}"
    receiver = WandbWebhookReceiver(
        nowhere, [route], signing_secret="s3cret", deliveries_path=tmp_path / "deliveries.jsonl"
    )
    with receiver:
        yield receiver


def _raw(url: str, head: str, body: bytes = b"") -> tuple[int, float]:
    """Send a raw request; the status of the answer and how long it took."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        answer = sock.recv(4096)
    return int(answer.split(b" ")[1]), time.monotonic() - started


@pytest.mark.parametrize(
    ("length", "status"), [("-1", 400), ("abc", 400), ("1e3", 400), (str(MAX_BODY + 1), 413)]
)
def test_a_bad_content_length_is_answered_at_once(receiver, length, status):
    head = f"POST /wandb HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
    answered, took = _raw(receiver.url, head)
    assert answered == status
    # Nothing was read or waited for: the answer comes before any body is sent.
    assert took < 5
    assert receiver.handled == []


def _delivery(stamp: int, delivery: str = "d1", secret: str = "s3cret") -> tuple[bytes, dict]:
    event = {**PAYLOAD, "event_type": "ADD_ARTIFACT_ALIAS"}
    event["artifact_version_string"] = "ent/proj/other:v0"  # routed nowhere: nothing to launch
    body = json.dumps(event).encode()
    headers = {
        "X-Wandb-Timestamp": str(stamp),
        "X-Wandb-Delivery": delivery,
        "X-Wandb-Signature": signature(secret, str(stamp), delivery, body),
    }
    return body, headers


def test_signature_timestamp_and_delivery_are_checked(receiver):
    now = int(time.time())
    body, headers = _delivery(now)
    wrong_key = _delivery(now, secret="guess")[1]
    assert requests.post(receiver.url, data=body, headers=wrong_key, timeout=10).status_code == 401
    # The signature covers the timestamp and the delivery ID: changing either breaks it.
    moved = {**headers, "X-Wandb-Delivery": "d2"}
    assert requests.post(receiver.url, data=body, headers=moved, timeout=10).status_code == 401
    body_old, stale = _delivery(now - 3600)
    assert requests.post(receiver.url, data=body_old, headers=stale, timeout=10).status_code == 401
    first = requests.post(receiver.url, data=body, headers=headers, timeout=10)
    assert first.status_code == 200 and first.json() == {"done": []}
    assert len(receiver.handled) == 1
    again = requests.post(receiver.url, data=body, headers=headers, timeout=10)
    assert again.status_code == 200 and len(receiver.handled) == 1
    assert receiver.deliveries.path.read_text().count('"d1"') == 1
