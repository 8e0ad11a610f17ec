"""W&B Automations on the embedded server: stored triggers that run on artifact events.

:class:`Automations` bundles what the server needs: the tables, the middleware that notices
events, and the worker that delivers webhooks.
"""

from __future__ import annotations

from ..store import Store
from ..store.automations import AutomationTables, Conflict, Missing, create_tables
from .delivery import DeliveryPolicy, Dispatcher
from .events import EventRecorder


class Automations:
    def __init__(self, store: Store, policy: DeliveryPolicy | None = None) -> None:
        create_tables(store)
        self.tables = AutomationTables(store)
        self.dispatcher = Dispatcher(self.tables, policy)
        self.recorder = EventRecorder(store, self.dispatcher.submit)

    def stop(self) -> None:
        self.dispatcher.stop()


__all__ = ["AutomationTables", "Automations", "Conflict", "DeliveryPolicy", "Missing"]
