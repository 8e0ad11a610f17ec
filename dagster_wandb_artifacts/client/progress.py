"""What the client tells its user while it works: bytes moved per phase, and retries.

Lines go to the sink set with :func:`reporting_to` (Dagster's ``context.log`` in a step),
else to the ``dagster_wandb_artifacts.client`` logger (progress at INFO, retries at
WARNING), and, when asked for, to a one-line bar on stderr the way the ``wandb`` SDK shows
its file counts. A phase (hashing, upload, download) reports its bytes every ``every``
seconds while it runs, and once when it ends.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

log = logging.getLogger("dagster_wandb_artifacts.client")

#: Seconds between two progress lines of a running phase.
DEFAULT_EVERY = 5.0
_BAR_REFRESH = 0.5
_QUIET_BELOW = 1.0
_TICKER_MIN_BYTES = 1 << 20
_BAR_WIDTH = 24


class Sink(Protocol):
    """Where progress and retry notices go (Dagster's ``context.log`` is one)."""

    def info(self, msg: str) -> object: ...

    def warning(self, msg: str) -> object: ...


_sink: contextvars.ContextVar[Sink | None] = contextvars.ContextVar(
    "dagster_wandb_artifacts_sink", default=None
)


@contextmanager
def reporting_to(sink: Sink) -> Iterator[None]:
    """Send the progress lines and retry notices of the work in this block to ``sink``.

    The IO manager passes Dagster's ``context.log``, so they appear in the step's log.
    """
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def warn(message: str) -> None:
    """A notice the user must see (a retry): a Dagster warning in a step, else a logging
    warning (which Python prints to stderr even when logging is not configured)."""
    sink = _sink.get()
    if sink is not None:
        sink.warning(message)
    else:
        log.warning(message)


def size_text(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _info_sink() -> Callable[[str], object] | None:
    sink = _sink.get()
    if sink is not None:
        return sink.info
    return log.info if log.isEnabledFor(logging.INFO) else None


def _bar_wanted(bar: bool | None) -> bool:
    if bar is None:  # automatic: in a terminal, when no Dagster step listens
        return _sink.get() is None and sys.stderr.isatty()
    return bar


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


class Meter:
    """The bytes of one stream (one file, or one part of one), counted into its phase; a
    retried stream starts again from zero."""

    __slots__ = ("_count", "_progress")

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._count = 0

    def advance(self, size: int) -> None:
        self._count += size
        self._progress.add(size)

    def restart(self) -> None:
        self._progress.add(-self._count)
        self._count = 0

    def settle(self, size: int) -> None:
        """The stream is complete: count whatever of its ``size`` bytes was not seen (a cache
        hit, bytes the server already had)."""
        self._progress.add(size - self._count)
        self._count = size


class Progress:
    """One phase of a transfer (``"hashed"``, ``"uploaded"``, ``"downloaded"``): bytes and
    files done out of their totals, reported while it runs and once at its end.

    Inactive (every call a no-op, no thread) when nobody listens: no sink, the logger off
    for INFO, and no bar.
    """

    def __init__(
        self,
        phase: str,
        total_bytes: int,
        total_files: int,
        every: float = DEFAULT_EVERY,
        bar: bool | None = False,
    ) -> None:
        self._info = _info_sink()
        self._bar = _bar_wanted(bar)
        self.active = self._info is not None or self._bar
        self._phase, self._total_bytes, self._total_files = phase, total_bytes, total_files
        self._every = every
        self._bytes = self._files = 0
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        # A phase of less than a MiB ends before its first line would be due: no thread.
        if self.active and total_files and (total_bytes >= _TICKER_MIN_BYTES or every < 1):
            self._ticker = threading.Thread(
                target=self._tick, name=f"wandb-progress-{phase}", daemon=True
            )
            self._ticker.start()

    @staticmethod
    def listened(bar: bool | None) -> bool:
        """Whether a phase started now would report to anyone."""
        return _info_sink() is not None or _bar_wanted(bar)

    def stream(self) -> Meter:
        return Meter(self)

    def add(self, size: int) -> None:
        if self.active:
            with self._lock:
                self._bytes += size

    def done(self, size: int = 0) -> None:
        """One file finished; ``size`` bytes of it not counted yet."""
        if self.active:
            with self._lock:
                self._bytes += size
                self._files += 1

    def _tick(self) -> None:
        interval = min(self._every, _BAR_REFRESH) if self._bar else self._every
        interval = max(interval, 0.005)  # never a busy loop
        last_line = time.monotonic()
        while not self._stop.wait(interval):
            if self._bar:
                self._draw()
            if self._info is not None and time.monotonic() - last_line >= self._every:
                last_line = time.monotonic()
                self._info(self._running_line())

    def _running_line(self) -> str:
        with self._lock:
            done, files = self._bytes, self._files
        elapsed = time.monotonic() - self._started
        share = f" ({100 * done / self._total_bytes:.0f}%)" if self._total_bytes else ""
        return (
            f"{self._phase} {size_text(done)} of {size_text(self._total_bytes)}{share}, "
            f"{files} of {_files(self._total_files)}, {size_text(done / max(elapsed, 1e-9))}/s, "
            f"{elapsed:.0f} s so far"
        )

    def _draw(self, end: str = "") -> None:
        with self._lock:
            done = self._bytes
        share = done / self._total_bytes if self._total_bytes else 1.0
        filled = int(_BAR_WIDTH * min(1.0, share))
        sys.stderr.write(
            f"\r{self._phase:<10} [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] "
            f"{100 * share:3.0f}% {size_text(done)}/{size_text(self._total_bytes)}{end}"
        )
        sys.stderr.flush()

    def finish(self, failed: bool = False) -> None:
        """End the phase: one last line (stops the ticker; safe to call twice)."""
        if not self.active or not self._total_files or self._stop.is_set():
            return
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._bar:
            self._draw(end="\n")
        elapsed = time.monotonic() - self._started
        # A phase shorter than a second (or than the interval) is not worth a line of its own.
        if self._info is not None and (failed or elapsed >= min(self._every, _QUIET_BELOW)):
            if failed:
                self._info(f"{self._running_line()}: stopped by an error")
            else:
                self._info(
                    f"{self._phase} {_files(self._files)}, {size_text(self._bytes)} in "
                    f"{elapsed:.1f} s ({size_text(self._bytes / max(elapsed, 1e-9))}/s)"
                )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.finish(failed=exc_type is not None)
