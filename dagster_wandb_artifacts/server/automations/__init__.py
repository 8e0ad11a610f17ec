"""W&B Automations on the embedded server: stored triggers that run on artifact events.

:class:`Automations` bundles what the server needs: the tables, the middleware that turns
events into outbox rows, the workers that deliver them, where they may connect
(:mod:`.egress`) and the key that opens team secrets (:mod:`.secrets`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..store import Store
from ..store.automations import AutomationTables, Conflict, Missing, create_tables
from .delivery import DeliveryPolicy, Dispatcher
from .egress import EgressPolicy
from .events import EventRecorder
from .secrets import SecretBox


class Automations:
    def __init__(self, store: Store, policy: DeliveryPolicy | None = None) -> None:
        create_tables(store)
        self.tables = AutomationTables(store)
        self.dispatcher = Dispatcher(self.tables, policy)
        self.recorder = EventRecorder(store, self.dispatcher.enqueue, self.dispatcher.wake)

    def configure(
        self,
        *,
        secrets_key: str,
        webhook_allow: Iterable[str] = (),
        policy: DeliveryPolicy | None = None,
    ) -> None:
        """Give the server its secrets key (encrypting secrets stored in clear by an older
        server) and the administrator's allow-list of webhook targets; resume deliveries
        left unfinished by a previous run."""
        box = SecretBox(secrets_key)
        box.seal_plaintext_rows(self.tables)
        self.dispatcher.box = box
        self.dispatcher.egress = EgressPolicy.allowing(webhook_allow)
        if policy is not None:
            self.dispatcher.policy = policy
        self.dispatcher.release_dead_leases()
        if self.tables.unfinished():
            self.dispatcher.start()

    def serving_at(self, host: str, port: int) -> None:
        """The server listens there: no webhook may target it."""
        self.dispatcher.egress.serving_at(host, port)

    def stop(self) -> None:
        self.dispatcher.stop()


__all__ = [
    "AutomationTables",
    "Automations",
    "Conflict",
    "DeliveryPolicy",
    "EgressPolicy",
    "Missing",
    "SecretBox",
]
