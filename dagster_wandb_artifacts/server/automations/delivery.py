"""Running automations: events become outbox rows, and a small pool of workers delivers them.

The request that caused an event writes its deliveries in its own transaction
(:meth:`Dispatcher.enqueue`); nothing is held in memory, so a crash or restart loses nothing
and each delivery is made at least once (a worker that dies mid-attempt leaves a lease that
lapses, and the delivery is made again). Workers take targets (``host:port``) in turn, one
delivery of a target at a time, so a target that hangs holds one worker for one bounded
attempt while the others serve everyone else. Back pressure: an entity may have at most
``DeliveryPolicy.max_unfinished_per_entity`` deliveries waiting; a mutation that would queue
more is refused whole (HTTP 429, nothing written), so a flood costs its author, never
another entity's deliveries.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ...formats.webhook_signature import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)
from ..blobs import _alive
from ..filters import FilterError, Search
from ..store import NotFound, Store, StoreError
from ..store.automations import AutomationTables
from . import egress, payload
from .events import ArtifactEvent
from .secrets import SecretBox
from .variables import event_variables, filter_document

log = logging.getLogger("dagster_wandb_artifacts.server.automations")

_EVENT_FILTER = Search({}, "alias")
_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
#: How long an idle worker sleeps before looking for deliveries another process queued.
_IDLE_POLL_SECONDS = 1.0

class DeliveryBacklog(StoreError):
    """Too many deliveries are waiting for this entity: the mutation is refused whole."""

    http_status = 429


@dataclass(frozen=True)
class DeliveryPolicy:
    """``attempts`` POSTs at most per delivery, ``backoff`` seconds before the second
    (doubling); ``workers`` delivering at once; ``limits`` bound each attempt."""

    attempts: int = 3
    backoff: float = 0.5
    workers: int = 4
    max_unfinished_per_entity: int = 10_000
    limits: egress.Limits = field(default_factory=egress.Limits)

    @property
    def lease_seconds(self) -> float:
        """A claimed delivery's lease: longer than any attempt can take."""
        return self.limits.total_seconds + self.limits.connect_seconds + 30


@dataclass(frozen=True)
class _Request:
    url: str
    body: bytes
    headers: dict[str, str]


class Dispatcher:
    """The outbox's writers (:meth:`enqueue`) and its pool of delivery workers."""

    def __init__(self, tables: AutomationTables, policy: DeliveryPolicy | None = None) -> None:
        self._tables = tables
        self.policy = policy or DeliveryPolicy()
        self.egress = egress.EgressPolicy()
        self.box: SecretBox | None = None
        self._wake = threading.Condition()
        self._claiming = threading.Lock()
        # Apart from ``_claiming``, which a worker holds while it waits for the database: a
        # request that wakes the workers never waits behind one.
        self._starting = threading.Lock()
        self._busy_targets: set[str] = set()
        self._served: Counter[str] = Counter()
        self._turn = 0
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def _store(self) -> Store:
        return self._tables.store

    # Writing the outbox (in the caller's transaction) --------------------------------------

    def enqueue(self, events: list[ArtifactEvent]) -> None:
        rows: list[dict[str, Any]] = []
        for event in events:
            triggers = self._tables.enabled_triggers(event.event_type, event.collection_id)
            if not triggers:
                continue
            variables = event_variables(self._store, event)
            document = filter_document(variables, event)
            for trigger in triggers:
                if self._matches(trigger, document):
                    row = self._row(trigger, event, variables)
                    if row is not None:
                        rows.append(row)
        waiting = Counter(row["entity_id"] for row in rows if row["status"] == "pending")
        limit = self.policy.max_unfinished_per_entity
        for entity_id, count in waiting.items():
            if self._tables.unfinished_of_entity(entity_id) + count > limit:
                raise DeliveryBacklog(
                    f"this change would queue {count} webhook deliveries and its entity already "
                    f"waits for {self._tables.unfinished_of_entity(entity_id)} (at most {limit}): "
                    "nothing was changed; retry once they are delivered"
                )
        if rows:
            self._tables.enqueue(rows)

    @staticmethod
    def _matches(trigger: sqlite3.Row, document: dict[str, Any]) -> bool:
        try:
            return _EVENT_FILTER.matches(document, json.loads(trigger["event_filter"] or "{}"))
        except (FilterError, ValueError, TypeError):
            log.warning("automation %r has a filter this server cannot read", trigger["name"])
            return False

    def _row(
        self, trigger: sqlite3.Row, event: ArtifactEvent, variables: dict[str, Any]
    ) -> dict[str, Any] | None:
        action = json.loads(trigger["action"])
        row = {
            "trigger_id": trigger["id"],
            "entity_id": trigger["entity_id"],
            "event_type": event.event_type,
            "delivery_key": uuid.uuid4().hex,
            "status": "pending",
        }
        if trigger["action_type"] == "NO_OP":
            request = {"action_type": "NO_OP"}
            return {**row, "url": "", "target": "", "payload": "{}", "request": request,
                    "status": "no-op"}  # fmt: skip
        try:
            integration = self._tables.integration(action["integration_id"])
        except NotFound:
            return None
        request = {**action, "action_type": trigger["action_type"], "variables": variables}
        masked = {name: payload.MASK for name in _secret_names(integration)}
        logged = self._render(request, masked).body.decode()
        return {
            **row,
            "url": integration["url"],
            "target": egress.target_key(integration["url"]),
            "payload": logged,
            "request": request,
        }

    # Rendering at delivery time ------------------------------------------------------------

    def _render(self, request: dict[str, Any], secrets: dict[str, str]) -> _Request:
        variables = request["variables"]
        if request["action_type"] == "GENERIC_WEBHOOK":
            template = request.get("request_payload")
            body = payload.render(template, {**variables, **secrets})
            headers = {"Content-Type": payload.content_type(template)}
            return _Request("", body.encode(), headers)
        title = payload.render(json.dumps(request.get("title") or ""), variables)
        message = payload.render(json.dumps(request.get("message") or ""), variables)
        text = "\n".join(part for part in (json.loads(title), json.loads(message)) if part)
        body = json.dumps({"text": text or variables["artifact_version_string"]})
        return _Request("", body.encode(), {"Content-Type": payload.JSON})

    def _prepare(self, row: sqlite3.Row) -> _Request:
        request = json.loads(row["request"])
        integration = self._tables.integration(request["integration_id"])
        secrets = self._secrets(integration)
        prepared = self._render(request, secrets)
        headers = dict(prepared.headers)
        token = secrets.get("ACCESS_TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # Every delivery says which it is and when it was sent (a retry keeps its ID); with
        # a signing secret the signature covers both and the body.
        stamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = stamp
        headers[DELIVERY_HEADER] = row["delivery_key"]
        signing = secrets.get(integration["secret_ref"] or "")
        if signing:
            headers[SIGNATURE_HEADER] = signature(
                signing, stamp, row["delivery_key"], prepared.body
            )
        return _Request(integration["url"], prepared.body, headers)

    def _secrets(self, integration: sqlite3.Row) -> dict[str, str]:
        names = _secret_names(integration)
        if not names:
            return {}
        if self.box is None:
            raise StoreError("this server has no secrets key: its secrets cannot be read")
        sealed = self._tables.sealed_secrets(integration["entity_id"], names)
        secrets = {name: self.box.open(value) for name, value in sealed.items()}
        secrets = {name: secrets.get(name, "") for name in names if name != "ACCESS_TOKEN"}
        if integration["access_token_ref"]:
            secrets["ACCESS_TOKEN"] = secrets[integration["access_token_ref"]]
        return secrets

    # The workers ---------------------------------------------------------------------------

    def release_dead_leases(self) -> None:
        """Deliveries leased by server processes that died (``kill -9`` mid-attempt) are due
        again now rather than when their lease lapses (they are made again: at least once)."""
        for owner in self._tables.lease_owners():
            if owner != os.getpid() and not _alive(owner):
                self._tables.release_leases(owner)

    def start(self) -> None:
        with self._starting:
            if self._threads:
                return
            # Each generation of workers has its own stop signal: a worker still finishing
            # an attempt when the server stops never joins the next generation.
            self._stopping = threading.Event()
            self._threads = [
                threading.Thread(
                    target=self._work,
                    args=(self._stopping,),
                    name=f"wandb-automations-{n}",
                    daemon=True,
                )
                for n in range(self.policy.workers)
            ]
            for thread in self._threads:
                thread.start()

    def wake(self) -> None:
        """Deliveries were committed: start the workers if need be, and wake them."""
        self.start()
        self._notify()

    def _notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        with self._starting:
            threads, self._threads = self._threads, []
            self._stopping.set()
        self._notify()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def wait_idle(self, timeout: float) -> bool:
        """Whether every delivery queued so far has finished within ``timeout`` seconds."""
        with self._wake:
            return self._wake.wait_for(lambda: self._tables.unfinished() == 0, timeout)

    def _work(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                row = self._claim_next()
            except sqlite3.Error:
                log.exception("the automations' outbox cannot be read")
                row = None
            if row is None:
                with self._wake:
                    if not stopping.is_set():
                        self._wake.wait(self._idle_seconds())
                continue
            try:
                self._deliver(row)
            except sqlite3.Error:
                # Its lease lapses and another attempt is made.
                log.exception("delivery %s could not be recorded", row["id"])
            finally:
                with self._claiming:
                    self._busy_targets.discard(row["target"])
                self._notify()

    def _idle_seconds(self) -> float:
        due = self._tables.next_due_at()
        if due is None:
            return _IDLE_POLL_SECONDS
        return min(_IDLE_POLL_SECONDS, max(0.01, due - time.time()))

    def _claim_next(self) -> sqlite3.Row | None:
        """The next delivery to make: of the target served least recently among those with
        one due and none in flight here."""
        with self._claiming:
            at = time.time()
            heads = [
                head
                for head in self._tables.due_heads(at)
                if head["target"] not in self._busy_targets
            ]
            heads.sort(key=lambda head: (self._served[head["target"]], head["id"]))
            for head in heads:
                lease = at + self.policy.lease_seconds
                row = self._tables.claim(head["id"], at, lease, os.getpid())
                if row is not None:
                    self._busy_targets.add(row["target"])
                    self._turn += 1
                    self._served[row["target"]] = self._turn
                    return row
            return None

    def _deliver(self, row: sqlite3.Row) -> None:
        attempt = row["attempts"] + 1
        try:
            request = self._prepare(row)
            target = self.egress.check(request.url)
            answer = egress.post(target, request.body, request.headers, self.policy.limits)
        except (egress.TargetRefused, NotFound) as exc:
            self._finish(row, "refused", attempt, None, str(exc))
            return
        except (StoreError, ValueError, KeyError) as exc:
            # A secret that cannot be opened, a request this server cannot render: no
            # attempt would do better.
            log.warning("delivery %s cannot be made: %s", row["id"], exc)
            self._finish(row, "failed", attempt, None, f"{type(exc).__name__}: {exc}")
            return
        except (OSError, http.client.HTTPException) as exc:
            self._retry_or_fail(row, attempt, None, f"{type(exc).__name__}: {exc}")
            return
        if 200 <= answer.status < 300:
            self._finish(row, "delivered", attempt, answer.status, None)
        elif 300 <= answer.status < 400:
            self._finish(row, "failed", attempt, answer.status, "redirects are not followed")
        elif answer.status in _RETRYABLE:
            self._retry_or_fail(row, attempt, answer.status, f"HTTP {answer.status}")
        else:
            self._finish(row, "failed", attempt, answer.status, f"HTTP {answer.status}")

    def _retry_or_fail(
        self, row: sqlite3.Row, attempt: int, status: int | None, error: str
    ) -> None:
        if attempt >= self.policy.attempts:
            self._finish(row, "failed", attempt, status, error)
            return
        later = time.time() + self.policy.backoff * 2 ** (attempt - 1)
        self._tables.retry_later(row["id"], attempt, later, status, error)

    def _finish(
        self, row: sqlite3.Row, status: str, attempts: int, answer: int | None, error: str | None
    ) -> None:
        self._tables.finish_delivery(
            row["id"], status=status, attempts=attempts, response_status=answer, error=error
        )


def _secret_names(integration: sqlite3.Row) -> list[str]:
    names = [integration["secret_ref"], integration["access_token_ref"]]
    named = [name for name in names if name]
    return [*named, "ACCESS_TOKEN"] if integration["access_token_ref"] else named
