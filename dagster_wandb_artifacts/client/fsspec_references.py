"""References to any filesystem fsspec knows (``memory://``, ``az://``, ``hf://``,
``sftp://``...) beyond the ones with handlers of their own: each object recorded with the
md5 of its bytes, so a download refuses changed content as for ``file://`` references."""

from __future__ import annotations

import posixpath
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..formats.manifest import ManifestEntry, md5_b64_bytes, md5_b64_file
from .errors import IntegrityError, InvalidInputError, MissingReferenceError

#: Schemes handled elsewhere (file, http, buckets) or that are ours.
_OWN_SCHEMES = {"file", "local", "http", "https", "s3", "s3a", "gs", "gcs", "wandb-artifact"}


def knows(scheme: str) -> bool:
    """Whether fsspec has a filesystem for ``scheme`` that no other handler takes."""
    if not scheme or scheme in _OWN_SCHEMES:
        return False
    from fsspec.registry import known_implementations, registry

    return scheme in known_implementations or scheme in registry


def _filesystem(scheme: str, storage_options: Mapping[str, Mapping[str, Any]] | None) -> Any:
    import fsspec

    try:
        return fsspec.filesystem(scheme, **dict((storage_options or {}).get(scheme, {})))
    except ImportError as exc:
        raise InvalidInputError(
            f"{scheme}:// references need a package fsspec names: {exc}"
        ) from None


def _md5(fs: Any, path: str) -> str:
    with fs.open(path, "rb") as file:
        return md5_b64_bytes(file.read())


def fsspec_entries(
    uri: str,
    name: str | None,
    checksum: bool,
    max_objects: int,
    storage_options: Mapping[str, Mapping[str, Any]] | None,
) -> list[ManifestEntry]:
    """The entries of an object, or of every object below a folder (up to ``max_objects``)."""
    scheme = uri.split("://", 1)[0]
    if not checksum:
        path = name or posixpath.basename(uri.rstrip("/"))
        return [ManifestEntry(path=path, digest=uri, ref=uri)]
    fs = _filesystem(scheme, storage_options)
    root = fs._strip_protocol(uri)  # noqa: SLF001 - fsspec's own way to its path
    if fs.isfile(root):
        found = {root: fs.info(root)}
        names = {root: name or posixpath.basename(root)}
    else:
        found = fs.find(root, detail=True)
        if not found:
            raise MissingReferenceError(f"reference {uri}: nothing there")
        if len(found) > max_objects:
            raise InvalidInputError(
                f"{uri} holds more than {max_objects} objects: pass a larger max_objects"
            )
        prefix = f"{name}/" if name else ""
        names = {path: prefix + posixpath.relpath(path, root) for path in found}
    return [
        ManifestEntry(
            path=names[path],
            digest=_md5(fs, path),
            size=int(info.get("size") or 0),
            ref=fs.unstrip_protocol(path),
        )
        for path, info in sorted(found.items())
    ]


def download_fsspec(
    entry: ManifestEntry, target: Path, storage_options: Mapping[str, Mapping[str, Any]] | None
) -> None:
    """Copy the referenced object to ``target``, refusing content that changed."""
    assert entry.ref is not None
    fs = _filesystem(entry.ref.split("://", 1)[0], storage_options)
    path = fs._strip_protocol(entry.ref)  # noqa: SLF001
    if not fs.isfile(path):
        raise MissingReferenceError(f"reference {entry.ref} no longer exists")
    with fs.open(path, "rb") as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    if entry.digest != entry.ref and md5_b64_file(target) != entry.digest:
        target.unlink()
        raise IntegrityError(f"reference {entry.ref} changed since it was logged")
