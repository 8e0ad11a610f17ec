"""md5 of large streams, hashed in a helper thread while they are received or written."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor

#: Streams at least this large are hashed in a helper thread while they are written.
THREADED_MD5_SIZE = 8 << 20


class ThreadedMD5:
    """md5 of a stream, updated in a helper thread: hashlib releases the GIL on large buffers,
    so hashing one batch overlaps receiving and writing the next. Small chunks are gathered
    into batches of ``batch`` bytes first (a hand-off costs more than hashing 64 KiB); at most
    one batch waits."""

    def __init__(self, batch: int = 1 << 20) -> None:
        self._md5 = hashlib.md5()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="md5")
        self._pending: Future[None] | None = None
        self._batch = batch
        self._gathered: list[bytes] = []
        self._gathered_size = 0

    def update(self, data: bytes) -> None:
        self._gathered.append(data)
        self._gathered_size += len(data)
        if self._gathered_size >= self._batch:
            self._submit()

    def _submit(self) -> None:
        if self._pending is not None:
            self._pending.result()
        batch = self._gathered[0] if len(self._gathered) == 1 else b"".join(self._gathered)
        self._gathered, self._gathered_size = [], 0
        self._pending = self._pool.submit(self._md5.update, batch)

    def _finish(self) -> hashlib._Hash:
        if self._gathered:
            self._submit()
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        self._pool.shutdown()
        return self._md5

    def digest(self) -> bytes:
        return self._finish().digest()

    def hexdigest(self) -> str:
        return self._finish().hexdigest()
