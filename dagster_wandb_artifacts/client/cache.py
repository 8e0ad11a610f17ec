"""The content-addressed artifact cache, in the wandb SDK's layout.

``<root>/artifacts/obj/md5/<hex[:2]>/<hex[2:]>``, shared by several processes: every file
arrives whole, as a hard link or through a temporary file in the same folder and an atomic
rename, so a reader never sees a partial file. Each object records the (size, mtime, inode)
it had when it was verified, in an extended attribute (``user.dagster_wandb_artifacts.verified``)
or, where the filesystem has none, in a ``.stat`` file beside it; a hit whose stat changed
since is hashed again, and a corrupt object is deleted and reported as a miss, never returned.
A logged file is linked, not copied, into the cache: the record is then on its inode too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..formats.hashing import THREADED_MD5_SIZE, ThreadedMD5
from ..formats.manifest import b64_to_hex, md5_file
from .errors import IntegrityError

_TEMP_PREFIX = ".tmp-"
_STAT_SUFFIX = ".stat"
_STAT_ATTRIBUTE = "user.dagster_wandb_artifacts.verified"
_VERSION_DIGEST = re.compile(r"[0-9a-f]{32}")


def _stat_key(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _temporary(folder: Path, name: str) -> Path:
    return folder / f"{_TEMP_PREFIX}{name}.{os.getpid()}.{secrets.token_hex(4)}"


def _replace_atomically(write: object, target: Path) -> None:
    """Write through ``write(temporary_path)`` then rename over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(target.parent, target.name)
    try:
        write(temporary)  # type: ignore[operator]
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


class _HashingWriter:
    def __init__(self, file: IO[bytes], size: int) -> None:
        self._file = file
        self.md5 = ThreadedMD5() if size >= THREADED_MD5_SIZE else hashlib.md5()
        self.size = 0
        self.path: Path | None = None

    def write(self, data: bytes) -> int:
        self.md5.update(data)
        self.size += len(data)
        return self._file.write(data)


class ArtifactCache:
    """Files by md5 under ``root``; ``max_size`` bounds it (least recently used go first)."""

    def __init__(self, root: str | os.PathLike, max_size: int | None = None) -> None:
        self.root = Path(root)
        self.max_size = max_size
        self._objects = self.root / "artifacts" / "obj" / "md5"
        self._versions = self.root / "artifacts" / "versions"
        #: The object folders known to exist: each file would otherwise ask for its own.
        self._folders: set[Path] = set()

    def knows_version(self, digest: str) -> bool:
        """Whether this cache took in the files of the version with this manifest digest
        (they may have been evicted since: a hint, never a promise)."""
        return _VERSION_DIGEST.fullmatch(digest) is not None and (self._versions / digest).exists()

    def note_version(self, digest: str) -> None:
        """Remember that the files of this version went into the cache."""
        if _VERSION_DIGEST.fullmatch(digest) is None:
            return  # a name from the server: never a path unless it is an md5
        self._versions.mkdir(parents=True, exist_ok=True)
        (self._versions / digest).touch()

    @classmethod
    def default(cls) -> ArtifactCache:
        root = os.environ.get("WANDB_CACHE_DIR") or Path.home() / ".cache" / "wandb"
        return cls(root)

    def path_for(self, b64_digest: str) -> Path:
        hex_digest = b64_to_hex(b64_digest)
        return self._objects / hex_digest[:2] / hex_digest[2:]

    def _folder(self, path: Path) -> Path:
        """``path``'s folder, created when this cache has not seen it yet."""
        folder = path.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        return folder

    def _record(self, path: Path, stat: os.stat_result) -> None:
        record = json.dumps(_stat_key(stat)).encode()
        # An extended attribute of the object's inode where the filesystem has them: a
        # record file costs a new inode, which takes ten times as long while another
        # process (a local server) keeps the disk's journal busy with its fsyncs.
        try:
            os.setxattr(path, _STAT_ATTRIBUTE, record)
            return
        except (AttributeError, OSError):  # no extended attributes on this platform or disk
            pass
        # Written in place: a reader that meets a half-written record finds no match and
        # hashes the object again, so the atomic rename is not needed here.
        file = os.open(f"{path}{_STAT_SUFFIX}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(file, record)
        finally:
            os.close(file)

    @staticmethod
    def _recorded(path: Path) -> list[int] | None:
        try:
            return json.loads(os.getxattr(path, _STAT_ATTRIBUTE))
        except (AttributeError, OSError, ValueError):
            pass
        try:
            return json.loads(path.with_name(path.name + _STAT_SUFFIX).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def get(self, b64_digest: str, size: int) -> Path | None:
        """The cached file when it holds exactly these bytes; None otherwise."""
        path = self.path_for(b64_digest)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        if stat.st_size != size:
            return None
        if self._recorded(path) != _stat_key(stat):
            if md5_file(path) != bytes.fromhex(b64_to_hex(b64_digest)):
                path.unlink(missing_ok=True)
                path.with_name(path.name + _STAT_SUFFIX).unlink(missing_ok=True)
                return None
            self._record(path, stat)
        # Least-recently-used order by access time, set by hand for noatime mounts; the
        # modification time, part of the recorded stat, stays as it is.
        os.utime(path, ns=(time.time_ns(), stat.st_mtime_ns))
        return path

    @contextmanager
    def open_writer(self, b64_digest: str, size: int) -> Iterator[_HashingWriter]:
        """A file to write the object's bytes into; checked and moved into place on exit
        (``writer.path`` is then the cached object)."""
        target = self.path_for(b64_digest)
        temporary = _temporary(self._folder(target), target.name)
        try:
            with open(temporary, "wb") as file:
                writer = _HashingWriter(file, size)
                yield writer
                # Stat the open file: the path's stat would cost one more lookup.
                file.flush()
                stat = os.fstat(file.fileno())
            received = writer.md5.hexdigest()
            if received != b64_to_hex(b64_digest) or writer.size != size:
                raise IntegrityError(
                    f"downloaded bytes do not match md5 {b64_digest} and size {size}; "
                    "try again (the file may have changed on the server)",
                    received=received,
                )
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._record(target, stat)
        writer.path = target

    def add_file(self, source: Path, b64_digest: str, size: int, *, move: bool = False) -> Path:
        """Put a local file (already hashed) into the cache: hard link, else copy."""
        target = self.path_for(b64_digest)
        self._folder(target)
        try:
            # A new link appears whole and at once: no temporary file is needed for it.
            if move:
                os.replace(source, target)
            else:
                os.link(source, target)
        except FileExistsError:
            if self.get(b64_digest, size) is not None:
                return target
            self._copy_in(source, target, move)
        except OSError:
            self._copy_in(source, target, move)
        self._record(target, target.stat())
        return target

    @staticmethod
    def _copy_in(source: Path, target: Path, move: bool) -> None:
        """``source`` over ``target`` through a temporary file (another filesystem, no hard
        links, or a stale object to replace)."""

        def write(temporary: Path) -> None:
            if move:
                shutil.move(source, temporary)
                return
            try:
                os.link(source, temporary)
            except OSError:
                shutil.copyfile(source, temporary)

        _replace_atomically(write, target)

    def link_to(self, b64_digest: str, destination: Path, *, copy: bool = False) -> None:
        """Place the cached object at ``destination`` (a hard link unless ``copy``).

        A hard link shares its bytes with the cache: treat downloaded files as read-only
        (a modified one is detected by its stat and hashed again before any reuse).
        """
        source = self.path_for(b64_digest)
        if not copy:
            try:
                os.link(source, destination)
                return
            except FileExistsError:
                pass  # replaced below, atomically, so a reader never sees it missing
            except OSError:
                copy = True  # another filesystem, or one without hard links

        def write(temporary: Path) -> None:
            if not copy:
                try:
                    os.link(source, temporary)
                    return
                except OSError:
                    pass
            shutil.copyfile(source, temporary)

        _replace_atomically(write, destination)

    def _objects_by_age(self) -> list[tuple[float, int, Path]]:
        found = []
        for path in self._objects.glob("*/*"):
            if path.name.startswith(_TEMP_PREFIX) or path.name.endswith(_STAT_SUFFIX):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            found.append((stat.st_atime, stat.st_size, path))
        return sorted(found)

    def cleanup(self, target_size: int | None = None) -> int:
        """Evict least recently used objects until at most ``target_size`` bytes remain."""
        limit = self.max_size if target_size is None else target_size
        if limit is None:
            return 0
        objects = self._objects_by_age()
        total = sum(size for _, size, _ in objects)
        freed = 0
        for _, size, path in objects:
            if total - freed <= limit:
                break
            path.unlink(missing_ok=True)
            path.with_name(path.name + _STAT_SUFFIX).unlink(missing_ok=True)
            freed += size
        return freed
