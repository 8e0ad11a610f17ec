"""Moving bytes: hashing, uploads and downloads in parallel, streamed, through the cache."""

from __future__ import annotations

import contextvars
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, TypeVar

import requests

from .cache import ArtifactCache
from .errors import CommError, IntegrityError, InvalidInputError, NotFoundError
from .manifest import ManifestEntry, b64_to_hex, md5_b64_file
from .transport import GraphQLClient

T = TypeVar("T")
R = TypeVar("R")

#: Files at least this large are uploaded in parts (W&B: 2 GiB and more, 100 MiB parts).
MULTIPART_THRESHOLD = 2 * 1024**3
PART_SIZE = 100 * 1024**2
_CHUNK = 1 << 20
DEFAULT_WORKERS = min(32, (os.cpu_count() or 1) * 4 + 4)
_BROKEN_BODY = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.ContentDecodingError,
)


def parallel_map(function: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """``map`` on a thread pool, results in the items' order; the first failure is raised once
    every task has stopped, and no new item is started once a failure is seen.

    Each worker takes the next item from ``items`` when it is free, so items are drawn lazily
    (a generator may fetch more as it is consumed) and nothing is held per item but its
    result: one future per item, as ``Executor.map`` makes, costs about 1 KiB.
    """
    iterator = iter(items)
    head = list(islice(iterator, workers))
    if len(head) <= 1 or workers <= 1:
        return [function(item) for item in chain(head, iterator)]
    numbered = enumerate(chain(head, iterator))
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

    with ThreadPoolExecutor(max_workers=len(head)) as pool:
        tasks = [pool.submit(work) for _ in head]
        try:
            for task in tasks:
                task.result()
        except BaseException as exc:  # interrupted while waiting: the workers stop too
            failures.append(exc)
            raise
    if failures:
        raise failures[0]
    return results


_reporter: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "transfer_progress_reporter", default=None
)


@contextmanager
def reporting_to(report: Callable[[str], None]) -> Iterator[None]:
    """Send progress lines of the transfers started in this block to ``report``
    (the IO manager passes Dagster's ``context.log.info``)."""
    token = _reporter.set(report)
    try:
        yield
    finally:
        _reporter.reset(token)


class Progress:
    """Counts finished files and bytes; reports at most every ``every`` seconds, and once at
    the end of a transfer that took that long."""

    def __init__(self, verb: str, total_bytes: int, total_files: int, every: float = 10.0):
        self._report = _reporter.get()
        self._verb, self._total_bytes, self._total_files = verb, total_bytes, total_files
        self._every = every
        self._bytes = self._files = 0
        self._started = self._last = time.monotonic()
        self._lock = threading.Lock()

    def _line(self) -> str:
        mib = 1 << 20
        return (
            f"{self._verb} {self._bytes / mib:.0f}/{self._total_bytes / mib:.0f} MiB "
            f"({self._files}/{self._total_files} files, "
            f"{time.monotonic() - self._started:.0f} s)"
        )

    def add(self, size: int) -> None:
        if self._report is None:
            return
        with self._lock:
            self._bytes += size
            self._files += 1
            now = time.monotonic()
            if now - self._last < self._every:
                return
            self._last = now
            line = self._line()
        self._report(line)

    def finish(self) -> None:
        if self._report is not None and time.monotonic() - self._started >= self._every:
            self._report(self._line())


def hash_files(paths: Iterable[Path], workers: int = DEFAULT_WORKERS) -> list[str]:
    """md5-base64 of each file, in parallel (hashlib releases the GIL on large buffers)."""
    return parallel_map(md5_b64_file, paths, workers)


@dataclass(frozen=True)
class TransferSettings:
    """Knobs for transfers; tests lower the multipart threshold to exercise parts."""

    workers: int = DEFAULT_WORKERS
    multipart_threshold: int = MULTIPART_THRESHOLD
    part_size: int = PART_SIZE
    #: Seconds between progress lines of a long transfer (see :func:`reporting_to`).
    progress_every: float = 10.0


class _FileSlice:
    """A read-only view of ``length`` bytes of a file from ``offset``, for one part's PUT."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by requests once sent
        self._file.seek(offset)
        self._remaining = length
        self.len = length

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        size = self._remaining if size < 0 else min(size, self._remaining)
        data = self._file.read(size)
        self._remaining -= len(data)
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

    def put(self, url: str, path: Path, headers: Iterable[str], size: int) -> None:
        header_map = dict(header.split(":", 1) for header in headers)

        def body() -> IO[bytes] | bytes:
            # requests sends an empty file object chunked, which a presigned URL refuses.
            return open(path, "rb") if size else b""  # noqa: SIM115 - closed after sending

        self._client.request("PUT", url, body_factory=body, headers=header_map)

    def put_parts(self, urls: dict[int, str], path: Path, size: int) -> None:
        def send(part: tuple[int, int, int]) -> None:
            number, offset, length = part
            self._client.request(
                "PUT",
                urls[number],
                body_factory=lambda: _FileSlice(path, offset, length),
            )

        parallel_map(send, part_ranges(size, self.settings.part_size), self.settings.workers)


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
        delays = self._client.retry.delays()
        wrong: IntegrityError | None = None
        while True:
            try:
                return attempt()
            except NotFoundError as exc:
                if wrong is None:
                    raise
                # The server found its copy corrupt on the first read and set it aside.
                raise IntegrityError(f"{what}: {exc}", received=wrong.received) from exc
            except IntegrityError as exc:
                if wrong is not None and exc.received == wrong.received:
                    raise IntegrityError(
                        f"{what}: the server sends the same wrong bytes each time (its copy is "
                        "corrupt): log a version holding this file again to repair it",
                        received=exc.received,
                    ) from exc
                wrong = exc
                if (delay := next(delays, None)) is None:
                    raise
                time.sleep(delay)
            except _BROKEN_BODY as exc:
                if (delay := next(delays, None)) is None:
                    raise CommError(f"{what}: the download kept breaking off; retry later") from exc
                time.sleep(delay)

    def fetch_to_cache(self, url: str, entry: ManifestEntry) -> None:
        """Download the entry's bytes into the cache, verified."""

        def attempt() -> None:
            with self.cache.open_writer(entry.digest, entry.size or 0) as writer:
                self._stream(url, writer)

        self._retrying(attempt, entry.path)

    def fetch_to_path(self, url: str, entry: ManifestEntry, target: Path) -> None:
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
                self._stream(url, sink)
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

    def _stream(self, url: str, sink: Any) -> None:
        response = self._client.request("GET", url, stream=True)
        try:
            for chunk in response.iter_content(_CHUNK):
                sink.write(chunk)
        finally:
            response.close()


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


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
