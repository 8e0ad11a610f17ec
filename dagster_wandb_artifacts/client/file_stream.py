"""A run's file stream: history lines and the summary, sent in batches as the SDK sends them.

W&B takes a run's ``wandb-history.jsonl`` and ``wandb-summary.json`` through
``POST /files/<entity>/<project>/<run>/file_stream`` as ``{"files": {name: {"offset": n,
"content": [lines]}}}``: ``offset`` is the line number of the chunk's first line, so a chunk
sent again after a lost reply replaces itself instead of adding rows; the summary is sent
whole, its last line wins. Lines are sent from a background thread every ``interval`` seconds
or as soon as a batch is full; each request is retried by the transport's retry policy.
"""

from __future__ import annotations

import contextvars
import threading
from typing import TYPE_CHECKING, Any

from .errors import WandbError
from .progress import warn

if TYPE_CHECKING:
    from .api import Api

HISTORY_FILE = "wandb-history.jsonl"
SUMMARY_FILE = "wandb-summary.json"
#: Bytes of history lines one request carries at most (the server takes 16 MiB a body).
BATCH_BYTES = 4 << 20


class FileStream:
    """Lines of one run's history and its summary, on their way to the server."""

    def __init__(
        self,
        api: Api,
        entity: str,
        project: str,
        run_id: str,
        *,
        first_line: int,
        interval: float = 2.0,
    ) -> None:
        self._api = api
        self.url = f"{api.base_url}/files/{entity}/{project}/{run_id}/file_stream"
        self._interval = interval
        self._pending: list[str] = []
        self._pending_bytes = 0
        # Line number of the first pending line.
        self._offset = first_line
        self._summary: str | None = None
        self._changed = threading.Condition()
        # Held while a request is on its way, so batches leave in order.
        self._sending = threading.Lock()
        self._failure: WandbError | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def push(self, line: str) -> None:
        """Queue one history line (JSON of one row)."""
        with self._changed:
            self._pending.append(line)
            self._pending_bytes += len(line)
            if self._pending_bytes >= BATCH_BYTES:
                self._changed.notify()
        self._start()

    def set_summary(self, summary_json: str) -> None:
        """Queue the whole summary (sent with the next batch)."""
        with self._changed:
            self._summary = summary_json
        self._start()

    def flush(self) -> None:
        """Send everything queued now; raises the last failure to send, if any."""
        self._send_all()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def finish(self, exit_code: int) -> None:
        """Send what is queued, then mark the run finished (``crashed`` for a non-zero code)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        self._post({"complete": True, "exitcode": exit_code})

    def _start(self) -> None:
        with self._changed:
            if self._thread is not None or self._closed:
                return
            context = contextvars.copy_context()  # retry notices go to the step's log
            self._thread = threading.Thread(
                target=context.run, args=(self._run,), name="wandb-file-stream", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._closed and self._pending_bytes < BATCH_BYTES:
                    self._changed.wait(self._interval)
                closed = self._closed
            self._send_all()
            if closed:
                return

    def _take(self) -> tuple[dict[str, Any], int, int] | None:
        """The next request's files, and the number and bytes of the lines they hold (taken
        off the queue once sent)."""
        with self._changed:
            lines, size = [], 0
            for line in self._pending:
                if lines and size + len(line) > BATCH_BYTES:
                    break
                lines.append(line)
                size += len(line)
            files: dict[str, Any] = {}
            if lines:
                files[HISTORY_FILE] = {"offset": self._offset, "content": lines}
            if self._summary is not None:
                files[SUMMARY_FILE] = {"offset": 0, "content": [self._summary]}
            return (files, len(lines), size) if files else None

    def _send_all(self) -> None:
        with self._sending:
            while (taken := self._take()) is not None:
                files, count, size = taken
                try:
                    self._post({"files": files})
                except WandbError as exc:
                    # Kept queued: the next batch sends these lines again, at the same offset.
                    warn(f"W&B run history not sent yet ({exc}); retrying with the next batch")
                    self._failure = exc
                    return
                with self._changed:
                    del self._pending[:count]
                    self._pending_bytes -= size
                    self._offset += count
                    summary = files.get(SUMMARY_FILE, {}).get("content", [None])[0]
                    if self._summary == summary:
                        self._summary = None
                self._failure = None

    def _post(self, body: dict[str, Any]) -> None:
        self._api.client.request("POST", self.url, authenticated=True, json=body)
