"""Running automations: a background worker turns artifact events into webhook POSTs.

The request that caused an event only queues it; matching, rendering and delivery happen on
the worker thread, with bounded retries, and every attempt ends in the delivery log
(``trigger_deliveries``). Delivery is at most once per (automation, event) and is lost if
the server stops with events still queued.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

import requests

from ..filters import FilterError, Search
from ..store.automations import AutomationTables
from . import payload
from .events import ArtifactEvent
from .variables import event_variables, filter_document

log = logging.getLogger("dagster_wandb_artifacts.server.automations")

_EVENT_FILTER = Search({}, "alias")
_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the worker tries: ``attempts`` POSTs at most, ``backoff`` seconds before the
    second, doubling; ``timeout`` seconds per POST; ``queue_size`` events waiting at most."""

    attempts: int = 3
    backoff: float = 0.5
    timeout: float = 10.0
    queue_size: int = 10_000


@dataclass(frozen=True)
class _Request:
    url: str
    body: str
    headers: dict[str, str]


class Dispatcher:
    """One worker thread, started on the first event and stopped with the server."""

    def __init__(self, tables: AutomationTables, policy: DeliveryPolicy | None = None) -> None:
        self._tables = tables
        self._policy = policy or DeliveryPolicy()
        self._queue: queue.Queue[ArtifactEvent | None] = queue.Queue(self._policy.queue_size)
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._unfinished = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._session = requests.Session()

    def submit(self, events: list[ArtifactEvent]) -> None:
        self._ensure_started()
        for event in events:
            with self._idle:
                self._unfinished += 1
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                log.warning("automation queue full: %s dropped", event.event_type)
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._unfinished -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Whether every event submitted so far has run its automations within ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(
                    target=self._work, name="wandb-automations", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
        with self._lock:
            # A server that starts again gets a new worker.
            self._thread = None
            self._stopping.clear()

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            try:
                self._run_automations(event)
            except (sqlite3.Error, requests.RequestException, ValueError, KeyError):
                log.exception("automations for %s failed", event.event_type)
            finally:
                self._done()

    def _run_automations(self, event: ArtifactEvent) -> None:
        store = self._tables.store
        collection = store.get("collections", event.collection_id)
        if collection is None:
            return
        triggers = self._tables.enabled_triggers(
            event.event_type, collection["project_id"], event.collection_id
        )
        if not triggers:
            return
        variables = event_variables(store, event)
        document = filter_document(variables, event)
        for trigger in triggers:
            if self._matches(trigger, document):
                self._act(trigger, event, variables)

    @staticmethod
    def _matches(trigger: sqlite3.Row, document: dict[str, Any]) -> bool:
        try:
            return _EVENT_FILTER.matches(document, json.loads(trigger["event_filter"] or "{}"))
        except (FilterError, ValueError, TypeError):
            log.warning("automation %r has a filter this server cannot read", trigger["name"])
            return False

    def _act(self, trigger: sqlite3.Row, event: ArtifactEvent, variables: dict[str, Any]) -> None:
        action = json.loads(trigger["action"])
        if trigger["action_type"] == "NO_OP":
            delivery = self._tables.log_delivery(trigger["id"], event.event_type, "", "{}")
            self._tables.finish_delivery(
                delivery, status="no-op", attempts=0, response_status=None, error=None
            )
            return
        integration = self._tables.integration(action["integration_id"])
        if trigger["action_type"] == "GENERIC_WEBHOOK":
            request, logged = self._webhook(integration, action, variables)
        else:
            request, logged = self._notification(integration, action, variables)
        delivery = self._tables.log_delivery(trigger["id"], event.event_type, request.url, logged)
        self._deliver(delivery, request)

    def _webhook(
        self, integration: sqlite3.Row, action: dict[str, Any], variables: dict[str, Any]
    ) -> tuple[_Request, str]:
        refs = {"secret": integration["secret_ref"], "token": integration["access_token_ref"]}
        names = [name for name in refs.values() if name]
        found = self._tables.secrets(integration["entity_id"], names) if names else {}
        secrets = {name: found.get(name, "") for name in names}
        token = secrets.get(refs["token"] or "")
        if token is not None:
            secrets["ACCESS_TOKEN"] = token
        body, logged = payload.render_both(action.get("request_payload"), variables, secrets)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if refs["secret"] and secrets.get(refs["secret"]):
            key = secrets[refs["secret"]].encode()
            digest = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
            headers["X-Wandb-Signature"] = digest
        return _Request(integration["url"], body, headers), logged

    @staticmethod
    def _notification(
        integration: sqlite3.Row, action: dict[str, Any], variables: dict[str, Any]
    ) -> tuple[_Request, str]:
        title = payload.render(json.dumps(action.get("title") or ""), variables)
        message = payload.render(json.dumps(action.get("message") or ""), variables)
        text = "\n".join(part for part in (json.loads(title), json.loads(message)) if part)
        body = json.dumps({"text": text or variables["artifact_version_string"]})
        return _Request(integration["url"], body, {"Content-Type": "application/json"}), body

    def _deliver(self, delivery: int, request: _Request) -> None:
        policy = self._policy
        status: int | None = None
        error: str | None = None
        attempt = 0
        for attempt in range(1, policy.attempts + 1):
            try:
                reply = self._session.post(
                    request.url,
                    data=request.body.encode(),
                    headers=request.headers,
                    timeout=policy.timeout,
                )
                status, error = reply.status_code, None
                if reply.ok:
                    break
                error = f"HTTP {status}"
                if status not in _RETRYABLE:
                    break
            except requests.RequestException as exc:
                status, error = None, type(exc).__name__
            if attempt < policy.attempts and self._stopping.wait(
                policy.backoff * 2 ** (attempt - 1)
            ):
                break
        self._tables.finish_delivery(
            delivery,
            status="delivered" if error is None else "failed",
            attempts=attempt,
            response_status=status,
            error=error,
        )
