"""Reference entries: objects tracked by URI, not uploaded (``file://``, ``http(s)://``).

Digests follow the wandb SDK exactly, so the same reference gives the same artifact digest:
``file://`` entries are the md5 of the content (or of the file's URI with
``checksum=False``), ``http(s)://`` entries the ETag without quotes (or the URL).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import requests

from .errors import IntegrityError, InvalidInputError, NotFoundError
from .manifest import ManifestEntry, md5_b64_bytes, md5_b64_file

DEFAULT_MAX_OBJECTS = 10_000_000


def local_path_of(uri: str) -> Path:
    return Path(url2pathname(urlsplit(uri).path))


def _file_entries(
    uri: str, name: str | None, checksum: bool, max_objects: int
) -> list[ManifestEntry]:
    root = local_path_of(uri)

    def digest(path: Path) -> str:
        return md5_b64_file(path) if checksum else md5_b64_bytes(path.resolve().as_uri().encode())

    if root.is_file():
        return [
            ManifestEntry(
                path=name or root.name, digest=digest(root), size=root.stat().st_size, ref=uri
            )
        ]
    if not root.is_dir():
        raise NotFoundError(f"{uri} is neither a file nor a folder")
    entries = []
    for index, path in enumerate(sorted(p for p in root.rglob("*") if p.is_file())):
        if index >= max_objects:
            raise InvalidInputError(
                f"{uri} holds more than {max_objects} objects: pass a larger max_objects"
            )
        relative = path.relative_to(root).as_posix()
        entries.append(
            ManifestEntry(
                path=f"{name.rstrip('/')}/{relative}" if name else relative,
                digest=digest(path),
                size=path.stat().st_size,
                ref=f"{uri.rstrip('/')}/{relative}",
            )
        )
    return entries


def _http_entries(
    uri: str, name: str | None, checksum: bool, session: requests.Session
) -> list[ManifestEntry]:
    name = name or os.path.basename(urlsplit(uri).path) or urlsplit(uri).netloc
    if not checksum:
        return [ManifestEntry(path=name, digest=uri, ref=uri)]
    with session.get(uri, stream=True, timeout=60) as response:
        if response.status_code == 404:
            raise NotFoundError(f"{uri} answered 404")
        response.raise_for_status()
        etag = response.headers.get("etag")
        length = response.headers.get("content-length")
        return [
            ManifestEntry(
                path=name,
                digest=etag.strip('"') if etag else response.request.url,
                size=int(length) if length is not None else None,
                ref=response.request.url,
                extra={"etag": etag} if etag else None,
            )
        ]


def reference_entries(
    uri: str,
    *,
    name: str | None,
    checksum: bool,
    max_objects: int | None,
    session: requests.Session,
) -> list[ManifestEntry]:
    scheme = urlsplit(uri).scheme
    if scheme == "file":
        return _file_entries(uri, name, checksum, max_objects or DEFAULT_MAX_OBJECTS)
    if scheme in ("http", "https"):
        return _http_entries(uri, name, checksum, session)
    raise InvalidInputError(
        f"references to {scheme or 'plain paths'!r} are not supported: use file://, http:// "
        "or https://"
    )


def download_reference(
    entry: ManifestEntry, target: Path, session: requests.Session, *, allow_missing: bool
) -> None:
    """Copy a reference's current bytes to ``target``, refusing changed content."""
    assert entry.ref is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    scheme = urlsplit(entry.ref).scheme
    try:
        if scheme == "file":
            source = local_path_of(entry.ref)
            if not source.is_file():
                raise NotFoundError(f"reference {entry.ref} no longer exists")
            unchecked = entry.digest == md5_b64_bytes(source.resolve().as_uri().encode())
            if not unchecked and entry.digest != md5_b64_file(source):
                raise IntegrityError(f"reference {entry.ref} changed since it was logged")
            shutil.copyfile(source, target)
            return
        with session.get(entry.ref, stream=True, timeout=60) as response:
            if response.status_code == 404:
                raise NotFoundError(f"reference {entry.ref} answered 404")
            response.raise_for_status()
            etag = response.headers.get("etag")
            if etag and entry.extra and entry.extra.get("etag") not in (None, etag):
                raise IntegrityError(f"reference {entry.ref} changed since it was logged")
            with open(target, "wb") as file:
                for chunk in response.iter_content(1 << 20):
                    file.write(chunk)
    except NotFoundError:
        if not allow_missing:
            raise
