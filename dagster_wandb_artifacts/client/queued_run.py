"""``QueuedRun``: an item of a Launch queue, as ``wandb.Api.queued_run`` gives it.

Made for any item id without asking the server (the SDK's is lazy too); ``state``, ``delete``
and the waits look the item up. The embedded server never holds an item (it launches
nothing), so there they report the item missing instead of waiting for ever as the SDK does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .errors import NotFoundError
from .queries import workspace as queries

if TYPE_CHECKING:
    from .api import Api
    from .run import Run

#: Seconds between two looks at an item or run being waited for.
POLL_SECONDS = 5.0

#: Run states after which a run changes no more.
FINISHED_STATES = {"finished", "crashed", "failed", "killed"}


class QueuedRun:
    """The item ``id`` of the Launch queue ``queue_name``, whose run logs to
    ``entity/project``."""

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        queue_name: str,
        run_queue_item_id: str,
        project_queue: str | None = None,
        priority: str | int | None = None,
    ) -> None:
        self._api = api
        self._entity, self._project = entity, project
        self._queue_name, self._id = queue_name, run_queue_item_id
        self.project_queue = project_queue
        self.priority = priority
        self.sweep = None
        self._run: Run | None = None

    @property
    def id(self) -> str:
        return self._id

    @property
    def queue_name(self) -> str:
        return self._queue_name

    @property
    def entity(self) -> str:
        return self._entity

    @property
    def project(self) -> str:
        return self._project

    def _queue(self) -> Any:
        try:
            return self._api.run_queue(self._entity, self._queue_name)
        except NotFoundError:
            return None

    def _item(self) -> dict[str, Any]:
        queue = self._queue()
        for item in queue.items if queue else []:
            if str(item["id"]) == str(self._id):
                return item
        raise ValueError(
            f"Could not find QueuedRunItem associated with id: {self._id} on queue "
            f"{self._queue_name}"
        )

    @property
    def state(self) -> str:
        """The item's state, lower case (``pending``, ``leased``, ``claimed``...)."""
        return self._item()["state"].lower()

    def wait_until_running(self) -> Run:
        """The run the item started, once there is one (``ValueError`` for a missing item)."""
        while self._run is None:
            run_id = self._item().get("associatedRunId")
            if run_id is None:
                time.sleep(POLL_SECONDS)
                continue
            self._run = self._api.run(f"{self._entity}/{self._project}/{run_id}")
        return self._run

    def wait_until_finished(self) -> Run:
        """The item's run once it has finished, crashed, failed or been killed."""
        run = self.wait_until_running()
        while run.state not in FINISHED_STATES:
            time.sleep(POLL_SECONDS)
            run = self._api.run("/".join(run.path))
        self._run = run
        return run

    def delete(self, delete_artifacts: bool = False) -> None:
        """Take the item out of its queue (``NotFoundError`` when the queue does not hold it)."""
        queue = self._queue()
        if queue is None or not any(str(item["id"]) == str(self._id) for item in queue.items):
            raise NotFoundError(f"no item {self._id} in run queue {self._queue_name!r}")
        self._api.client.execute(
            queries.DELETE_FROM_RUN_QUEUE, {"queueID": queue.id, "runQueueItemId": self._id}
        )

    def __repr__(self) -> str:
        return f"<QueuedRun {self._queue_name} ({self._id})>"
