"""File bytes of the embedded server, in any fsspec filesystem (a local folder by default).

Bytes are received into memory or a local staging file, checked, and only then written,
moved or copied to their final key, so a key that exists always holds complete, verified
bytes.
"""

from __future__ import annotations

import itertools
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem


def object_key(md5_hex: str) -> str:
    return f"objects/{md5_hex[:2]}/{md5_hex[2:]}"


def manifest_key(artifact_id: int) -> str:
    return f"manifests/{artifact_id}.json"


def patches_key(artifact_id: int) -> str:
    """The ``PATCH`` manifests a pending distributed version received before its latest."""
    return f"manifests/{artifact_id}.patches.json"


def run_file_key(run_id: int, name: str) -> str:
    return f"runs/{run_id}/{name}"


def part_key(upload_id: str, part_number: int) -> str:
    return f"multipart/{upload_id}/{part_number:05d}"


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
# Temporary names: unique in this process by the number, across processes by the prefix (and
# O_EXCL refuses a clash), without a call for randomness per file.
_TEMPORARY_PREFIX = secrets.token_hex(4)
_temporary_numbers = itertools.count()


def _write_all(descriptor: int, data: bytes) -> None:
    """os.write, repeated until all is written (a file object would cost three more calls)."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


class BlobStore:
    """Keys under ``url`` in its fsspec filesystem; ``staging`` is a local scratch folder."""

    def __init__(self, url: str, staging: str | Path, **storage_options: object) -> None:
        self.fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self.root = root.rstrip("/")
        self.staging = Path(staging)
        self.staging.mkdir(parents=True, exist_ok=True)
        self._local = isinstance(self.fs, LocalFileSystem)
        if self._local:
            Path(self.root).mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    @property
    def local(self) -> bool:
        """Whether keys are local files (reads then cost microseconds, not a round trip)."""
        return self._local

    # On a local folder, os calls: fsspec's wrappers cost more than the small reads they serve.

    def exists(self, key: str) -> bool:
        if self._local:
            return os.path.exists(self._path(key))
        return self.fs.exists(self._path(key))

    def size(self, key: str) -> int:
        if self._local:
            return os.stat(self._path(key)).st_size
        return int(self.fs.size(self._path(key)))

    def open(self, key: str) -> IO[bytes]:
        if self._local:
            return open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it
        return self.fs.open(self._path(key), "rb")

    def remove(self, key: str) -> None:
        self.fs.rm(self._path(key), recursive=True)

    @contextmanager
    def staging_file(self) -> Iterator[tuple[IO[bytes], Path]]:
        """A temporary local file, removed on exit unless ``commit`` moved it away."""
        handle, name = tempfile.mkstemp(dir=self.staging, prefix="upload-")
        path = Path(name)
        try:
            with os.fdopen(handle, "wb") as file:
                yield file, path
        finally:
            path.unlink(missing_ok=True)

    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key``; on a local folder through a temporary file beside it and a
        rename, so no reader ever sees part of it."""
        target = self._path(key)
        if not self._local:
            self.fs.pipe_file(target, data)
            return
        temporary = f"{target}.{_TEMPORARY_PREFIX}{next(_temporary_numbers)}.part"
        try:
            descriptor = os.open(temporary, _NEW_FILE, 0o600)
        except FileNotFoundError:  # the key's folder is new (a failed mkdir costs more)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(temporary, _NEW_FILE, 0o600)
        try:
            try:
                _write_all(descriptor, data)
            finally:
                os.close(descriptor)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise

    def commit(self, staged: Path, key: str) -> None:
        """Move a complete staged file to ``key`` (atomically on a local filesystem)."""
        target = self._path(key)
        if self._local:
            try:
                os.replace(staged, target)
            except FileNotFoundError:  # the key's folder is new (a failed mkdir costs more)
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, target)
        else:
            self.fs.put_file(str(staged), target)
