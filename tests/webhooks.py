"""Webhook receivers on loopback for the automations' tests: they record every POST, and can
answer late, redirect, drip or flood the way hostile or broken targets do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Answers each POST with the next status of ``statuses`` (then 200) and records it.

    ``location``: sent with the answer (a redirect's target). ``stall``: each request waits
    for :meth:`release` before it is answered (a target that hangs); ``drip``: meanwhile it
    sends its status line a byte at a time (a target that beats read timeouts). ``reply_bytes``: the
    answer claims that many bytes and sends them until the client hangs up (a flood).
    """

    def __init__(
        self,
        statuses: list[int] | None = None,
        *,
        location: str | None = None,
        stall: bool = False,
        drip: bool = False,
        reply_bytes: int = 0,
    ) -> None:
        self.received: list[Received] = []
        #: Bytes of answers written before the client hung up.
        self.bytes_sent = 0
        self._statuses = list(statuses or [])
        self._changed = threading.Condition()
        self._released = threading.Event()
        if not stall:
            self._released.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._changed:
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    receiver._changed.notify_all()
                try:
                    if drip:
                        receiver._drip(self.wfile)
                    # Bounded: every test releases its stalled receivers before it ends.
                    receiver._released.wait(120)
                    self.send_response(status)
                    if location:
                        self.send_header("location", location)
                    self.send_header("content-length", str(reply_bytes))
                    self.end_headers()
                    receiver._flood(self.wfile, reply_bytes)
                except OSError:
                    pass  # the client gave up on us

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def _drip(self, out: Any) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Drip: " + b"x" * 600:
            if self._released.wait(0.2):
                return
            out.write(bytes([byte]))
            out.flush()

    def _flood(self, out: Any, size: int) -> None:
        chunk = b"x" * 65536
        while size > 0:
            out.write(chunk[:size])
            out.flush()
            with self._changed:
                self.bytes_sent += min(size, len(chunk))
            size -= len(chunk)

    def release(self) -> None:
        """Answer the stalled requests, and the next ones at once."""
        self._released.set()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """The first ``count`` requests, once they have arrived (at most ``timeout`` s)."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            assert arrived, f"{len(self.received)} of {count} webhook requests arrived"
            return list(self.received[:count])

    def wait_for_deliveries(self, count: int, timeout: float, since: int = 0) -> set[str]:
        """The distinct delivery IDs received (from request ``since`` on), once there are
        ``count`` of them."""

        def distinct() -> set[str]:
            return {r.headers.get("X-Wandb-Delivery", "") for r in self.received[since:]}

        with self._changed:
            arrived = self._changed.wait_for(lambda: len(distinct()) >= count, timeout)
            assert arrived, f"{len(distinct())} of {count} deliveries arrived"
            return distinct()

    @contextmanager
    def running(self) -> Iterator[WebhookReceiver]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release()
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)


def deploy_on_production(api: Any, url: str, secret: str) -> Any:
    """The W&B side of a receiver test, with our client ``api``: a signing secret, a webhook
    integration to ``url`` signed with it, a ``classifier`` model version, and an automation
    that sends ``PAYLOAD`` when ``production`` is added to a version of it. Returns that
    version (append ``production`` to its aliases and save to fire the automation)."""
    from dagster_wandb_artifacts.client import Artifact
    from dagster_wandb_artifacts.client.automations import (
        ArtifactEvent,
        OnAddArtifactAlias,
        SendWebhook,
    )
    from dagster_wandb_artifacts.webhooks import PAYLOAD

    api.insert_secret("HOOK_SIGNING", secret)
    hook = api.create_webhook_integration("dagster", url, secret_ref="HOOK_SIGNING")
    run = api.create_run()
    artifact = Artifact("classifier", "model")
    with artifact.new_file("weights.txt") as file:
        file.write("trained")
    logged = run.log_artifact(artifact)
    run.finish()
    api.create_automation(
        OnAddArtifactAlias(
            scope=api.artifact_collection("model", "classifier"),
            filter=ArtifactEvent.alias.eq("production"),
        )
        >> SendWebhook.from_integration(hook, payload=PAYLOAD),
        name="deploy-on-production",
    )
    return logged


def deploy_route() -> Any:
    """The receiver's route for :func:`deploy_on_production`'s automation: ``production`` on
    a ``classifier`` version reports the asset and launches ``deploy_model`` with it."""
    from dagster_wandb_artifacts.webhooks import WebhookRoute
    from tests.support import ENTITY, PROJECT

    return WebhookRoute(
        f"{ENTITY}/{PROJECT}/classifier",
        job="deploy_model",
        asset_key="classifier",
        aliases=frozenset({"production"}),
        run_config=lambda e: {"ops": {"deploy": {"config": {"version": e.version_string}}}},
    )
