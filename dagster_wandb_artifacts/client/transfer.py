"""Moving bytes: hashing, uploads and downloads in parallel, streamed, through the cache."""

from __future__ import annotations

import contextvars
import hashlib
import math
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, TypeVar

import requests
import urllib3

from ..formats.manifest import ManifestEntry, b64_to_hex, md5_b64_file
from .cache import ArtifactCache
from .errors import (
    CommError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    found_corrupt,
)
from .progress import DEFAULT_EVERY, Meter, Progress
from .transport import MAX_REQUESTS_IN_FLIGHT, GraphQLClient

T = TypeVar("T")
R = TypeVar("R")

#: Files at least this large are uploaded in parts (W&B: 2 GiB and more, 100 MiB parts).
MULTIPART_THRESHOLD = 2 * 1024**3
PART_SIZE = 100 * 1024**2
_CHUNK = 1 << 20
#: Bodies up to this size are read whole before they are sent, and received whole.
_WHOLE_BODY_SIZE = 1 << 20
DEFAULT_WORKERS = min(32, (os.cpu_count() or 1) * 4 + 4)
#: The CPU a small transfer costs, client and server together: while one waits a round trip
#: for its reply, about round trip / this many others can use the CPU. More requests in
#: flight than that only queue; fewer leave the CPU idle waiting on the network.
_REQUEST_CPU_SECONDS = 0.0005
_BROKEN_BODY = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.ContentDecodingError,
)


def parallel_map(function: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """``map`` on a thread pool, results in the items' order; the first failure is raised once
    every task has stopped, and no new item is started once a failure is seen.

    Each worker takes the next item when it is free, so items are drawn lazily (a generator
    may fetch more as it is consumed) and the first starts as soon as it is there; nothing is
    held per item but its result. The workers start together, before any work competes with
    them for the GIL (a thread started later waits for it, several milliseconds each).
    """
    iterator = iter(items)
    first = list(islice(iterator, 2))
    if len(first) <= 1 or workers <= 1:
        return [function(item) for item in chain(first, iterator)]
    threads = min(workers, len(items)) if isinstance(items, Sized) else workers
    numbered = enumerate(chain(first, iterator))
    lock = threading.Lock()
    results: list[Any] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            while not failures:
                with lock:  # a generator must not be resumed by two threads at once
                    taken = next(numbered, None)
                    if taken is None:
                        return
                    results.append(None)
                index, item = taken
                results[index] = function(item)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failures.append(exc)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        # Each worker runs in a copy of the caller's context: retry notices reach its sink.
        tasks = [pool.submit(contextvars.copy_context().run, work) for _ in range(threads)]
        try:
            for task in tasks:
                task.result()
        except BaseException as exc:  # interrupted while waiting: the workers stop too
            failures.append(exc)
            raise
    if failures:
        raise failures[0]
    return results


class _Failed:
    """What a prefetching thread hands over instead of an item when its source failed."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


class _Prefetched(Iterator[T]):
    """The consumer's side of :func:`prefetched`."""

    def __init__(self, handed: queue.Queue[Any], stopped: threading.Event) -> None:
        self._handed = handed
        self._stopped = stopped

    def __next__(self) -> T:
        if self._stopped.is_set():
            raise StopIteration
        item = self._handed.get()
        if item is _END or isinstance(item, _Failed):
            self.close()
        if item is _END:
            raise StopIteration
        if isinstance(item, _Failed):
            raise item.error
        return item

    def close(self) -> None:
        """Stop drawing: the thread stops at its next item."""
        self._stopped.set()

    # Dropped without being closed (a consumer that failed half-way), it stops the thread too.
    __del__ = close


def prefetched(items: Iterable[T], ahead: int) -> _Prefetched[T]:
    """``items``, drawn by a thread of their own from now on, up to ``ahead`` items before
    they are asked for: a source that fetches (a batch of upload URLs, a page of a listing)
    does its round trips while the caller does other work or works on what came before. A
    failure of the source is raised where the item it would have given is asked for; once
    the consumer stops asking (calls ``close()``, or drops it), the thread stops at its next
    item."""
    handed: queue.Queue[Any] = queue.Queue(maxsize=ahead)
    stopped = threading.Event()

    # The thread holds the queue and the event, not the consumer: dropping it stops them.
    def hand(item: Any) -> bool:
        while not stopped.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - raised again in the consumer
            hand(_Failed(exc))
        else:
            hand(_END)

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(produce,), daemon=True).start()
    return _Prefetched(handed, stopped)


def requests_in_flight(settings: TransferSettings, client: GraphQLClient) -> int:
    """How many transfers to keep in flight: enough to cover the server's round trip (sized by
    latency, not cores), never fewer than ``settings.workers``."""
    if settings.requests_in_flight is not None:
        return settings.requests_in_flight
    covering = math.ceil((client.round_trip or 0.0) / _REQUEST_CPU_SECONDS)
    return max(settings.workers, min(MAX_REQUESTS_IN_FLIGHT, covering))


def hash_files(
    paths: Iterable[Path],
    workers: int = DEFAULT_WORKERS,
    every: float = DEFAULT_EVERY,
    bar: bool | None = False,
) -> list[str]:
    """md5-base64 of each file, in parallel (hashlib releases the GIL on large buffers)."""
    paths = list(paths)
    # The sizes are read only when someone listens to the progress.
    total = sum(p.stat().st_size for p in paths) if Progress.listened(bar) else 0
    progress = Progress("hashed", total, len(paths), every, bar)

    def hash_one(path: Path) -> str:
        digest = md5_b64_file(path, progress.add if progress.active else None)
        progress.done()
        return digest

    with progress:
        return parallel_map(hash_one, paths, workers)


@dataclass(frozen=True)
class TransferSettings:
    """Knobs for transfers; tests lower the multipart threshold to exercise parts."""

    #: Threads for local work (hashing, the cache) and the least transfers kept in flight.
    workers: int = DEFAULT_WORKERS
    #: Transfers kept in flight; None sizes them from the server's measured round trip.
    requests_in_flight: int | None = None
    multipart_threshold: int = MULTIPART_THRESHOLD
    part_size: int = PART_SIZE
    #: Seconds between progress lines of a running transfer (see :mod:`.progress`).
    progress_every: float = DEFAULT_EVERY
    #: A progress bar on stderr: ``None`` shows one in a terminal outside a Dagster step.
    progress_bar: bool | None = None


def entries_progress(
    phase: str, entries: list[ManifestEntry], settings: TransferSettings
) -> Progress:
    """The progress of one phase of a transfer of ``entries``, as ``settings`` report it."""
    return Progress(
        phase,
        sum(e.size or 0 for e in entries),
        len(entries),
        settings.progress_every,
        settings.progress_bar,
    )


class _FileSlice:
    """A read-only view of ``length`` bytes of a file from ``offset``, for one part's PUT."""

    def __init__(self, path: Path, offset: int, length: int, meter: Meter | None = None) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by requests once sent
        self._file.seek(offset)
        self._remaining = length
        self.len = length
        self._meter = meter

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        size = self._remaining if size < 0 else min(size, self._remaining)
        data = self._file.read(size)
        self._remaining -= len(data)
        if self._meter is not None:
            self._meter.advance(len(data))
        return data

    def close(self) -> None:
        self._file.close()

    def __len__(self) -> int:
        return self.len


def part_ranges(size: int, part_size: int) -> list[tuple[int, int, int]]:
    """(part number, offset, length) for each part of a file of ``size`` bytes."""
    return [
        (number, offset, min(part_size, size - offset))
        for number, offset in enumerate(range(0, size, part_size), start=1)
    ]


def part_md5s(path: Path, size: int, part_size: int) -> list[dict[str, Any]]:
    parts = []
    with open(path, "rb") as file:
        for number, _, length in part_ranges(size, part_size):
            digest = hashlib.md5()
            remaining = length
            while remaining:
                chunk = file.read(min(_CHUNK, remaining))
                digest.update(chunk)
                remaining -= len(chunk)
            parts.append({"partNumber": number, "hexMD5": digest.hexdigest()})
    return parts


class Uploader:
    """PUTs of files to the signed URLs the server hands out."""

    def __init__(self, client: GraphQLClient, settings: TransferSettings) -> None:
        self._client = client
        self.settings = settings

    def put(
        self, url: str, path: Path, headers: Iterable[str], size: int, meter: Meter | None = None
    ) -> None:
        header_map = dict(header.split(":", 1) for header in headers)

        def body() -> IO[bytes] | _FileSlice | bytes:
            if meter is not None:
                meter.restart()
            # requests sends an empty file object chunked, which a presigned URL refuses.
            if not size:
                return b""
            if meter is not None:
                return _FileSlice(path, 0, size, meter)
            # A small file goes whole, in one read, not block by block from a file object.
            if size <= _WHOLE_BODY_SIZE:
                return path.read_bytes()
            return open(path, "rb")  # noqa: SIM115 - closed by the transport once sent

        self._client.request("PUT", url, signed=True, body_factory=body, headers=header_map)

    def put_parts(
        self, urls: dict[int, str], path: Path, size: int, progress: Progress | None = None
    ) -> None:
        def send(part: tuple[int, int, int]) -> None:
            number, offset, length = part
            meter = progress.stream() if progress is not None and progress.active else None

            def body() -> _FileSlice:
                if meter is not None:
                    meter.restart()
                return _FileSlice(path, offset, length, meter)

            self._client.request("PUT", urls[number], signed=True, body_factory=body)

        parts = part_ranges(size, self.settings.part_size)
        parallel_map(send, parts, requests_in_flight(self.settings, self._client))


class Downloader:
    """GETs of files into the cache (verified), then links into a download root."""

    def __init__(
        self, client: GraphQLClient, cache: ArtifactCache, settings: TransferSettings
    ) -> None:
        self._client = client
        self.cache = cache
        self.settings = settings

    def _retrying(self, attempt: Callable[[], T], what: str) -> T:
        """``attempt()``, again when the body broke off mid-way or arrived wrong: a reply cut
        short is not an HTTP error, so the transport's own retries never see it. The same
        wrong bytes twice are what the server holds, not a glitch: that fails at once."""
        retries = self._client.retry.start(f"download of {what}")
        wrong: IntegrityError | None = None
        while True:
            try:
                return attempt()
            except NotFoundError as exc:
                if wrong is None and not found_corrupt(exc):
                    raise
                # The server found its copy corrupt (on this read or an earlier) and set it
                # aside.
                received = wrong.received if wrong is not None else None
                raise IntegrityError(f"{what}: {exc}", received=received) from exc
            except IntegrityError as exc:
                if wrong is not None and exc.received == wrong.received:
                    raise IntegrityError(
                        f"{what}: the server sends the same wrong bytes each time (its copy is "
                        "corrupt): log a version holding this file again to repair it",
                        received=exc.received,
                    ) from exc
                wrong = exc
                if (delay := retries.next_delay(type(exc).__name__)) is None:
                    raise
                time.sleep(delay)
            except _BROKEN_BODY as exc:
                if (delay := retries.next_delay(type(exc).__name__)) is None:
                    raise CommError(f"{what}: the download kept breaking off; retry later") from exc
                time.sleep(delay)

    def fetch_to_cache(self, url: str, entry: ManifestEntry, meter: Meter | None = None) -> None:
        """Download the entry's bytes into the cache, verified."""

        def attempt() -> None:
            with self.cache.open_writer(entry.digest, entry.size or 0) as writer:
                self._stream(url, writer, meter, entry.size or 0)

        self._retrying(attempt, entry.path)

    def fetch_to_path(
        self, url: str, entry: ManifestEntry, target: Path, meter: Meter | None = None
    ) -> None:
        """The entry's bytes straight into ``target`` (no cache), verified, replaced atomically."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        digest = hashlib.md5()

        class _Hashing:
            file: IO[bytes]

            def write(self, chunk: bytes) -> None:
                digest.update(chunk)
                self.file.write(chunk)

        def attempt() -> None:
            nonlocal digest
            digest = hashlib.md5()
            with open(temporary, "wb") as file:
                sink.file = file
                self._stream(url, sink, meter, entry.size or 0)
            if b64_to_hex(entry.digest) != digest.hexdigest():
                raise IntegrityError(
                    f"{entry.path}: downloaded bytes do not match the manifest's md5; try again",
                    received=digest.hexdigest(),
                )

        sink = _Hashing()
        try:
            self._retrying(attempt, entry.path)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    def _stream(self, url: str, sink: Any, meter: Meter | None, size: int) -> None:
        if meter is not None:
            meter.restart()
        response = self._client.request("GET", url, signed=True, stream=True)
        try:
            if meter is None and size <= _WHOLE_BODY_SIZE:
                sink.write(_read_whole(response))
                return
            for chunk in response.iter_content(_CHUNK):
                sink.write(chunk)
                if meter is not None:
                    meter.advance(len(chunk))
        finally:
            response.close()


def _read_whole(response: requests.Response) -> bytes:
    """The body in one read (requests reads 10 KiB at a time), failing as requests would."""
    try:
        return response.raw.read(decode_content=True)
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc


def safe_target(root: Path, relative: str) -> Path:
    """``root/relative``, refusing any path that would land outside ``root``."""
    return SafeTargets(root, [relative])[relative]


class SafeTargets:
    """``root/relative`` for artifact paths, every one checked when this is made: any path
    that would land outside ``root`` is refused before anything is downloaded.

    Each folder is resolved once, not each file: thousands of files share a few folders. A
    target is made again when asked for rather than kept: 100,000 Paths hold some 30 MB.
    """

    def __init__(self, root: Path, relatives: Iterable[str]) -> None:
        self.root = root.resolve()
        self._folders: dict[str, Path] = {}
        #: The folders the targets are in, to create before downloading.
        self.folders = {self[relative].parent for relative in relatives}

    def __getitem__(self, relative: str) -> Path:
        folder, _, name = relative.rpartition("/")
        if folder not in self._folders:
            self._folders[folder] = (self.root / folder).resolve()
        target = self._folders[folder] / name
        if name in ("", ".", "..") or target.is_symlink():
            target = target.resolve()
        if self.root not in target.parents:
            raise InvalidInputError(f"manifest path {relative!r} points outside the download root")
        return target


def chunks(items: list[T], size: int, first: int | None = None) -> Iterator[list[T]]:
    """``items`` in lists of ``size``, the first of ``first`` when given."""
    start = 0
    if first is not None and items:
        yield items[:first]
        start = first
    for offset in range(start, len(items), size):
        yield items[offset : offset + size]
