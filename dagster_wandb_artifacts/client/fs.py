"""Artifacts as an fsspec filesystem: ``wandb-artifact://entity/project/name:alias/path``.

Listing, ``info`` and ``glob`` come from the version's manifest; opening a file reads it
lazily, one byte range at a time (a cached copy when there is one, the file's signed URL
otherwise, the referenced object for a reference entry), so pandas, pyarrow, polars or
DuckDB read a file of an artifact without downloading the whole version.

Example::

    import pandas as pd
    df = pd.read_parquet("wandb-artifact://my-team/pipelines/cleaned:v3/data.parquet")

The client comes from ``storage_options`` (``api=``, or ``api_key=`` and ``base_url=``),
else from ``WANDB_API_KEY`` and ``WANDB_BASE_URL``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

from ..formats.manifest import ManifestEntry, b64_to_hex
from .api import Api
from .artifact import Artifact
from .errors import IntegrityError, NotFoundError, found_corrupt
from .references import BUCKET_SCHEMES, local_path_of, open_bucket_reference

PROTOCOL = "wandb-artifact"


class _RangeFile(AbstractBufferedFile):
    """A read-only file fetched by HTTP Range requests from a signed URL.

    With ``md5_b64``, the bytes read in order from the start are hashed as they arrive; once
    the whole file has been read that way, its md5 must be the manifest's. A read that seeks
    around cannot be checked here; the embedded server checks the whole object before it
    serves a range of it, and refuses a corrupt one (IntegrityError)."""

    def __init__(
        self,
        fs: WandbArtifactFileSystem,
        path: str,
        url: str,
        size: int,
        md5_b64: str | None = None,
        **kwargs: Any,
    ):
        self._url = url
        self._expected = b64_to_hex(md5_b64) if md5_b64 else None
        self._md5 = hashlib.md5()
        self._hashed = 0
        super().__init__(fs, path, mode="rb", size=size, **kwargs)

    def _fetch_range(self, start: int, end: int) -> bytes:
        if start >= end:
            return b""
        headers = {"Range": f"bytes={start}-{end - 1}"}
        try:
            reply = self.fs.api.client.request("GET", self._url, signed=True, headers=headers)
        except NotFoundError as exc:
            if found_corrupt(exc):  # the embedded server checks an object before its ranges
                raise IntegrityError(f"{self.path}: {exc}") from exc
            raise
        data = reply.content
        self._hash_in_order(start, data)
        return data

    def _hash_in_order(self, start: int, data: bytes) -> None:
        if self._expected is None or not start <= self._hashed < start + len(data):
            return
        self._md5.update(data[self._hashed - start :])
        self._hashed = start + len(data)
        if self._hashed >= self.size and self._md5.hexdigest() != self._expected:
            raise IntegrityError(
                f"{self.path}: the bytes read do not match the manifest's md5 (the stored copy "
                "is corrupt); log a version holding this file again to repair it",
                received=self._md5.hexdigest(),
            )


class WandbArtifactFileSystem(AbstractFileSystem):
    """Read-only files of logged artifact versions (see the module docstring)."""

    protocol = PROTOCOL
    root_marker = ""
    cachable = False  # each instance holds its own client and credentials

    def __init__(
        self,
        api: Api | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.api = api or Api({"base_url": base_url} if base_url else None, api_key=api_key)
        self._versions: dict[str, Artifact] = {}

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        path = str(path)
        if path.startswith(f"{PROTOCOL}://"):
            path = path[len(PROTOCOL) + 3 :]
        return path.strip("/")

    def _split(self, path: str) -> tuple[Artifact, str]:
        """The version a path names and the path inside it."""
        parts = self._strip_protocol(path).split("/")
        if len(parts) < 3 or not all(parts[:3]):
            raise FileNotFoundError(
                f"{path}: expected {PROTOCOL}://entity/project/name:alias/path/in/artifact"
            )
        version_path, inner = "/".join(parts[:3]), "/".join(parts[3:])
        if version_path not in self._versions:
            self._versions[version_path] = self.api.artifact(version_path)
        return self._versions[version_path], inner

    def _prefix(self, path: str) -> str:
        return "/".join(self._strip_protocol(path).split("/")[:3])

    def _entry(self, path: str) -> tuple[Artifact, ManifestEntry]:
        artifact, inner = self._split(path)
        entry = artifact.manifest.get(inner)
        if entry is None:
            raise FileNotFoundError(path)
        return artifact, entry

    def _file_info(self, prefix: str, entry: ManifestEntry) -> dict[str, Any]:
        return {
            "name": f"{prefix}/{entry.path}",
            "size": entry.size or 0,
            "type": "file",
            "digest": entry.digest,
            "ref": entry.ref,
        }

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        artifact, inner = self._split(path)
        prefix = self._prefix(path)
        inner = inner.rstrip("/")
        children: dict[str, dict[str, Any]] = {}
        for entry in artifact.manifest.entries.values():
            if inner and entry.path == inner:
                children[entry.path] = self._file_info(prefix, entry)
                continue
            if inner and not entry.path.startswith(inner + "/"):
                continue
            rest = entry.path[len(inner) + 1 :] if inner else entry.path
            head, _, tail = rest.partition("/")
            child = f"{inner}/{head}" if inner else head
            if tail:
                children.setdefault(
                    child, {"name": f"{prefix}/{child}", "size": 0, "type": "directory"}
                )
            else:
                children[child] = self._file_info(prefix, entry)
        if not children and inner:
            raise FileNotFoundError(path)
        listing = sorted(children.values(), key=lambda info: info["name"])
        return listing if detail else [info["name"] for info in listing]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        artifact, inner = self._split(path)
        prefix = self._prefix(path)
        entry = artifact.manifest.get(inner)
        if entry is not None:
            return self._file_info(prefix, entry)
        if not inner or any(
            e.path.startswith(inner.rstrip("/") + "/") for e in artifact.manifest.entries.values()
        ):
            return {"name": f"{prefix}/{inner}".rstrip("/"), "size": 0, "type": "directory"}
        raise FileNotFoundError(path)

    def _open(
        self, path: str, mode: str = "rb", block_size: int | None = None, **kwargs: Any
    ) -> Any:
        if mode != "rb":
            raise PermissionError(f"{PROTOCOL}:// is read-only: log a new version to change it")
        artifact, entry = self._entry(path)
        if entry.ref is not None:
            scheme = entry.ref.partition("://")[0]
            if scheme in BUCKET_SCHEMES:
                return open_bucket_reference(entry, self.api.storage_options)
            if scheme == "file":
                return open(local_path_of(entry.ref), "rb")  # noqa: SIM115 - caller closes
            return _RangeFile(self, path, entry.ref, entry.size or 0, block_size=block_size)
        cached = self.api.cache.get(entry.digest, entry.size or 0)
        if cached is not None:
            return open(cached, "rb")  # noqa: SIM115 - the caller closes it
        (file,) = artifact.files(names=[entry.path], per_page=1)
        return _RangeFile(
            self, path, file.direct_url, entry.size or 0, entry.digest, block_size=block_size
        )

    def ukey(self, path: str) -> str:
        return self._entry(path)[1].digest

    def __repr__(self) -> str:
        return f"<WandbArtifactFileSystem {self.api.base_url}>"


def artifact_upath(artifact: Artifact) -> Any:
    """A lazy ``UPath`` to a logged version's files (needs ``universal-pathlib``).

    The protocol is passed explicitly: UPath's URL parser does not accept a ``-`` in a
    protocol name.
    """
    from upath import UPath

    path = f"{artifact.entity}/{artifact.project}/{artifact.name}"
    return UPath(path, protocol=PROTOCOL, api=artifact._require_api())
