"""W&B manifest v1 and digests, byte-compatible with the wandb SDK.

File digests are the standard padded base64 of the raw md5; the artifact digest is
``hex(md5(b"wandb-artifact-manifest-v1\\n" + "{path}:{digest}\\n" for entries sorted by path))``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidInputError

_MANIFEST_VERSION = 1
_STORAGE_POLICY = "wandb-storage-policy-v1"
_MAX_SIZE = 2**50
_CHUNK = 1 << 20
#: Entries serialized per ``json.dumps`` call by :meth:`Manifest.to_bytes`.
_ENTRIES_PER_SLICE = 1000


def md5_b64_bytes(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def md5_file(path: str | Path, on_chunk: Callable[[int], None] | None = None) -> bytes:
    """The raw md5 of a file, streamed (hashlib releases the GIL on large buffers);
    ``on_chunk`` hears the size of each chunk read (progress)."""
    with open(path, "rb") as file:
        if on_chunk is None and hasattr(hashlib, "file_digest"):  # Python 3.11+
            return hashlib.file_digest(file, "md5").digest()
        md5 = hashlib.md5()
        while chunk := file.read(_CHUNK):
            md5.update(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
        return md5.digest()


def md5_b64_file(path: str | Path, on_chunk: Callable[[int], None] | None = None) -> str:
    return base64.b64encode(md5_file(path, on_chunk)).decode()


def b64_to_hex(b64: str) -> str:
    try:
        return base64.b64decode(b64, validate=True).hex()
    except binascii.Error as exc:
        raise InvalidInputError(f"{b64!r} is not base64") from exc


def hex_to_b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


@dataclass(slots=True)
class ManifestEntry:
    """One file (or reference) of an artifact (slotted: an artifact may hold 100,000s)."""

    path: str
    digest: str
    size: int | None = None
    ref: str | None = None
    extra: dict[str, Any] | None = None
    birth_artifact_id: str | None = None
    #: Where the bytes are on this machine while a draft is logged (never uploaded).
    local_path: str | None = field(default=None, compare=False)
    skip_cache: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"digest": self.digest}
        if self.size is not None:
            data["size"] = self.size
        if self.ref is not None:
            data["ref"] = self.ref
        if self.extra:
            data["extra"] = self.extra
        if self.birth_artifact_id is not None:
            data["birthArtifactID"] = self.birth_artifact_id
        return data

    @classmethod
    def from_json(cls, path: str, data: dict[str, Any]) -> ManifestEntry:
        """An entry from a manifest; keys this client does not know are ignored."""
        check_path(path)
        if not isinstance(data, dict) or not isinstance(data.get("digest"), str):
            raise InvalidInputError(f"manifest entry {path!r} has no digest")
        size = data.get("size")
        if size is not None and (
            not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _MAX_SIZE
        ):
            raise InvalidInputError(f"manifest entry {path!r} has an impossible size {size!r}")
        ref = data.get("ref")
        extra = data.get("extra")
        birth = data.get("birthArtifactID")
        return cls(
            path=path,
            digest=data["digest"],
            size=size,
            ref=ref if isinstance(ref, str) else None,
            extra=extra if isinstance(extra, dict) else None,
            birth_artifact_id=birth if isinstance(birth, str) else None,
        )


#: The longest file or folder name that common filesystems accept, in bytes (NAME_MAX).
MAX_NAME_BYTES = 255


def check_path(path: str) -> None:
    """Refuse paths that could escape a download root (a hostile manifest's trick)."""
    parts = path.split("/") if isinstance(path, str) else []
    if (
        not parts
        or not path
        or path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or (len(path) > 1 and path[1] == ":")
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidInputError(f"manifest path {path!r} is not a safe relative path")


def check_storable_path(path: str) -> None:
    """``check_path``, and every part short enough to be a file or folder name on disk (a
    longer one would only fail when the version is downloaded)."""
    check_path(path)
    for part in path.split("/"):
        if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
            raise InvalidInputError(
                f"path {path!r}: the part {part[:40]!r}... is longer than the "
                f"{MAX_NAME_BYTES} bytes a file or folder name may have on disk; shorten it"
            )


class Manifest:
    """The entries of an artifact, by path; ``storage_region`` is where W&B stores its files
    (the server's default when None)."""

    def __init__(
        self, entries: list[ManifestEntry] | None = None, storage_region: str | None = None
    ) -> None:
        self._entries: dict[str, ManifestEntry] = {}
        self.storage_region = storage_region
        for entry in entries or []:
            self.add(entry)

    def add(self, entry: ManifestEntry) -> None:
        check_path(entry.path)
        self._entries[entry.path] = entry

    def remove(self, path: str) -> None:
        del self._entries[path]

    def get(self, path: str) -> ManifestEntry | None:
        return self._entries.get(path)

    @property
    def entries(self) -> dict[str, ManifestEntry]:
        """The entries by artifact path (the SDK's ``manifest.entries``)."""
        return self._entries

    def __iter__(self) -> Iterator[ManifestEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    @property
    def total_size(self) -> int:
        return sum(entry.size or 0 for entry in self._entries.values())

    def digest(self) -> str:
        md5 = hashlib.md5(b"wandb-artifact-manifest-v1\n")
        for path in sorted(self._entries):
            md5.update(f"{path}:{self._entries[path].digest}\n".encode())
        return md5.hexdigest()

    def _head(self) -> dict[str, Any]:
        config: dict[str, Any] = {"storageLayout": "V2"}
        if self.storage_region is not None:
            config["storageRegion"] = self.storage_region
        return {
            "version": _MANIFEST_VERSION,
            "storagePolicy": _STORAGE_POLICY,
            "storagePolicyConfig": config,
            "contents": {},
        }

    def to_manifest_json(self) -> dict[str, Any]:
        """The manifest as the JSON document W&B stores (``wandb_manifest.json``)."""
        document = self._head()
        document["contents"] = {
            path: self._entries[path].to_json() for path in sorted(self._entries)
        }
        return document

    def to_bytes(self) -> bytes:
        """The manifest's JSON, byte for byte what one ``json.dumps`` of the whole document
        gives, encoded a slice of entries at a time: the whole document as dicts would cost
        several times the bytes it serializes to."""
        head = json.dumps(self._head(), separators=(",", ":"))
        body = io.BytesIO()
        body.write(head[: -len("}}")].encode())
        paths = sorted(self._entries)
        for start in range(0, len(paths), _ENTRIES_PER_SLICE):
            contents = {
                path: self._entries[path].to_json()
                for path in paths[start : start + _ENTRIES_PER_SLICE]
            }
            # The slice's dict without its braces; slices are joined by a comma.
            text = json.dumps(contents, separators=(",", ":"))[1:-1]
            body.write(b"," * bool(start) + text.encode())
        body.write(b"}}")
        return body.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInputError("the manifest is not JSON") from exc
        if not isinstance(document, dict) or document.get("version") != _MANIFEST_VERSION:
            raise InvalidInputError("unsupported manifest: expected version 1")
        contents = document.get("contents")
        if not isinstance(contents, dict):
            raise InvalidInputError("the manifest has no contents")
        config = document.get("storagePolicyConfig")
        region = config.get("storageRegion") if isinstance(config, dict) else None
        manifest = cls(storage_region=region if isinstance(region, str) else None)
        # Each entry's dict is dropped once its ManifestEntry exists, so the two are never
        # all alive at once.
        for path in list(contents):
            manifest.add(ManifestEntry.from_json(path, contents.pop(path)))
        return manifest
