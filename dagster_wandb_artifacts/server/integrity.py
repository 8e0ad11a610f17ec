"""Stored objects checked against their md5: on every read, and by ``scrub``.

A key only ever receives verified bytes, but the disk under it can still rot (a flipped bit,
a truncated file, an edit by hand). A corrupt object is set aside under ``corrupt/`` and
forgotten (its ``blobs`` row deleted), so the server no longer counts it as stored: the next
log of a version holding the same bytes uploads them again, which repairs every version that
lists them.

A whole read hashes what it serves and refuses rather than sends bytes that do not match. A
ranged read cannot be checked by what it sends, so the whole object is hashed once before
its first range is served; :class:`VerifiedObjects` remembers that by the file's stamp
(inode, size, modification and change times), and any write to the file makes it hashed
again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from .blobs import BlobStore, object_key
from .store import Store

log = logging.getLogger("dagster_wandb_artifacts.server")

_CHUNK = 1 << 20


def corrupt_message(md5_hex: str) -> str:
    return (
        f"object {md5_hex} was found corrupt on the server and set aside: log a version "
        "holding the same bytes again to repair it"
    )


def corrupt_manifest_message(artifact_id: int) -> str:
    return (
        f"the stored manifest of version {artifact_id} is corrupt (it does not match its md5) "
        f"and is refused: restore manifests/{artifact_id}.json from a backup"
    )


def set_aside(store: Store, blob_store: BlobStore, md5_hex: str) -> None:
    """Move a corrupt object out of its key and forget it, so its next upload repairs it."""
    key = object_key(md5_hex)
    if blob_store.exists(key):
        blob_store.move(key, f"corrupt/{md5_hex}.{time.time_ns()}")
    store.forget_blob(md5_hex)
    log.warning(
        "stored object %s does not match its md5: set aside under corrupt/ and forgotten; "
        "logging the same bytes again repairs it",
        md5_hex,
    )


def _md5_of(blob_store: BlobStore, key: str) -> str:
    md5 = hashlib.md5()
    with blob_store.open(key) as file:
        while chunk := file.read(_CHUNK):
            md5.update(chunk)
    return md5.hexdigest()


def matches(blob_store: BlobStore, md5_hex: str, size: int) -> bool:
    """Whether the object stored for ``md5_hex`` holds exactly those bytes."""
    key = object_key(md5_hex)
    return blob_store.size(key) == size and _md5_of(blob_store, key) == md5_hex


class VerifiedObjects:
    """The stamps under which stored objects were last found to match their md5 (at most
    ``size`` of them, the least recently used forgotten first)."""

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._stamps: OrderedDict[str, tuple[object, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, md5_hex: str, stamp: tuple[object, ...]) -> None:
        with self._lock:
            self._stamps[md5_hex] = stamp
            self._stamps.move_to_end(md5_hex)
            while len(self._stamps) > self._size:
                self._stamps.popitem(last=False)

    def known(self, md5_hex: str, stamp: tuple[object, ...]) -> bool:
        """Whether the object matched its md5 under this very stamp."""
        with self._lock:
            return self._stamps.get(md5_hex) == stamp

    def check(self, blob_store: BlobStore, key: str, md5_hex: str) -> bool:
        """Whether the bytes at ``key`` match ``md5_hex``, hashing them unless their stamp is
        known. Blocks for as long as the hash takes: call it off the event loop."""
        stamp = blob_store.stamp(key)
        if self.known(md5_hex, stamp):
            return True
        if _md5_of(blob_store, key) != md5_hex:
            return False
        self.remember(md5_hex, stamp)
        return True


@dataclass
class ScrubReport:
    checked: int = 0
    corrupt: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def scrub(store: Store, blob_store: BlobStore) -> ScrubReport:
    """Hash every recorded object; set aside the corrupt ones and forget the missing ones."""
    report = ScrubReport()
    last = ""
    while True:
        # By keyset, a page at a time: no read transaction stays open while objects are hashed.
        rows = store.blobs_after(last, 500)
        if not rows:
            return report
        for row in rows:
            md5_hex, size = row["md5"], row["size"]
            report.checked += 1
            if not blob_store.exists(object_key(md5_hex)):
                report.missing.append(md5_hex)
                store.forget_blob(md5_hex)
            elif not matches(blob_store, md5_hex, size):
                report.corrupt.append(md5_hex)
                set_aside(store, blob_store, md5_hex)
        last = rows[-1]["md5"]
