"""File bytes of the embedded server, in any fsspec filesystem (a local folder by default).

Bytes are received into memory or a local staging file, checked, and only then written,
moved or copied to their final key, so a key that exists always holds complete, verified
bytes.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ..formats.errors import InvalidInputError
from ..formats.manifest import check_storable_path
from .store import StoreError


class UnsafeKeyError(StoreError):
    """A name or id from a request that would make a key outside its folder; refused before
    anything touches the disk."""


_MD5_HEX = re.compile(r"[0-9a-f]{32}")
# Upload ids are this server's own ``secrets.token_hex(16)``.
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


def object_key(md5_hex: str) -> str:
    if not _MD5_HEX.fullmatch(md5_hex):
        raise UnsafeKeyError(f"{md5_hex[:64]!r} is not an md5 in lowercase hex")
    return f"objects/{md5_hex[:2]}/{md5_hex[2:]}"


def manifest_key(artifact_id: int) -> str:
    return f"manifests/{int(artifact_id)}.json"


def run_file_folder(run_id: int) -> str:
    return f"runs/{int(run_id)}"


def patch_key(artifact_id: int, digest_hex: str) -> str:
    """The ``PATCH`` manifest of md5 ``digest_hex`` that a writer of the distributed version
    ``artifact_id`` uploaded: each writer's at a key of its own until the version is finished."""
    if not _MD5_HEX.fullmatch(digest_hex):
        raise UnsafeKeyError(f"{digest_hex[:64]!r} is not an md5 in lowercase hex")
    return f"manifests/{int(artifact_id)}.patches/{digest_hex}.json"


def run_file_key(run_id: int, name: str) -> str:
    """The key of a run's file; ``name`` obeys the rules of manifest paths."""
    try:
        check_storable_path(name)
    except InvalidInputError as exc:
        raise UnsafeKeyError(f"invalid run file name: {exc}") from None
    return f"{run_file_folder(run_id)}/{name}"


def multipart_folder(upload_id: str) -> str:
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise UnsafeKeyError(f"{upload_id[:64]!r} is not an upload id of this server")
    return f"multipart/{upload_id}"


def part_key(upload_id: str, part_number: int) -> str:
    return f"{multipart_folder(upload_id)}/{int(part_number):05d}"


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
# Temporary names: unique in their process's folder by the number, without a call for
# randomness per file (O_EXCL refuses a clash all the same).
_temporary_numbers = itertools.count()
#: The folder, in a local store's root, of the bytes being written before their rename into
#: place (a rename is atomic within one filesystem): one folder per process, as for staging.
PARTS_FOLDER = ".parts"


_HOST = socket.gethostname()
#: Staging files this old are a killed server's even when their owner cannot be told.
_STALE_STAGING_SECONDS = 24 * 3600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def remove_stale_staging(staging: Path) -> list[Path]:
    """Remove what killed servers left in ``staging``: the folders of this host's processes
    that are gone, and anything not touched for a day. Returns what was removed."""
    removed = []
    for entry in staging.iterdir():
        host, _, pid = entry.name.rpartition("-")
        if host == _HOST and pid.isdigit():
            stale = not _alive(int(pid))
        else:
            try:
                stale = time.time() - entry.stat().st_mtime > _STALE_STAGING_SECONDS
            except FileNotFoundError:
                continue
        if stale:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


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
        # Each process stages in a folder of its own, so that a server starting on a shared
        # root can tell the leftovers of a killed one from another's uploads in progress.
        self.staging = Path(staging) / f"{_HOST}-{os.getpid()}"
        self.staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        remove_stale_staging(Path(staging))
        self._local = isinstance(self.fs, LocalFileSystem)
        if self._local:
            self._parts = Path(self.root) / PARTS_FOLDER / self.staging.name
            self._parts.mkdir(parents=True, exist_ok=True, mode=0o700)
            remove_stale_staging(self._parts.parent)

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

    def stamp(self, key: str) -> tuple[object, ...]:
        """What changes when the bytes at ``key`` may have: a local file's inode, size, and
        modification and change times; a bucket object's size and ETag (or time)."""
        if self._local:
            found = os.stat(self._path(key))
            return (found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
        info = self.fs.info(self._path(key))
        version = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("mtime")
        return (info.get("size"), str(version) if version is not None else None)

    def open(self, key: str) -> IO[bytes]:
        if self._local:
            return open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it
        return self.fs.open(self._path(key), "rb")

    def contains(self, folder: str, key: str) -> bool:
        """Whether ``key`` resolves inside ``folder`` (on a local folder: after following any
        symbolic link; in a bucket, keys are names and validated ones cannot leave)."""
        if not self._local:
            return key.startswith(folder + "/")
        inside = os.path.realpath(self._path(folder))
        return os.path.realpath(self._path(key)).startswith(inside + os.sep)

    def move(self, key: str, new_key: str) -> None:
        source, target = self._path(key), self._path(new_key)
        if self._local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        else:
            self.fs.mv(source, target)

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
        """Store ``data`` at ``key``; on a local folder through a temporary file in this
        process's parts folder and a rename, so no reader ever sees part of it and a killed
        server's leftovers are found without walking the objects."""
        target = self._path(key)
        if not self._local:
            self.fs.pipe_file(target, data)
            return
        temporary = self._parts / f"{next(_temporary_numbers)}.part"
        descriptor = os.open(temporary, _NEW_FILE, 0o600)
        try:
            try:
                _write_all(descriptor, data)
            finally:
                os.close(descriptor)
            _replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def commit(self, staged: Path, key: str) -> None:
        """Move a complete staged file to ``key`` (atomically on a local filesystem)."""
        target = self._path(key)
        if self._local:
            _replace(staged, target)
        else:
            self.fs.put_file(str(staged), target)


def _replace(source: str | Path, target: str) -> None:
    try:
        os.replace(source, target)
    except FileNotFoundError:  # the key's folder is new (a failed mkdir costs more)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
