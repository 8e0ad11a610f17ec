"""Reference entries: objects tracked by URI, not uploaded.

``s3://`` and ``gs://`` go through fsspec (s3fs, gcsfs: the optional ``s3`` and ``gcs``
extras), ``file://`` through the local filesystem, ``http(s)://`` through the client's
``requests`` session. Digests and ``extra`` follow the wandb SDK exactly, so the same
reference gives the same artifact digest:

- ``s3://``: the ETag without quotes; ``extra = {"etag", "versionID"}`` (in a versioned bucket);
- ``gs://``: the object's etag; ``extra = {"versionID": generation}``;
- ``file://``: the md5 of the content (of the file's URI with ``checksum=False``);
- ``http(s)://``: the ETag without quotes (the URL when there is none), size from Content-Length;
- ``checksum=False`` on buckets and URLs: the URI itself.

Credentials come from the usual s3fs/gcsfs configuration (environment, profiles) or the
``storage_options`` given; they are never written into a manifest.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from urllib.request import url2pathname

import requests

from ..formats.manifest import ManifestEntry, md5_b64_bytes, md5_b64_file
from . import fsspec_references
from .errors import IntegrityError, InvalidInputError, MissingReferenceError, NotFoundError

DEFAULT_MAX_OBJECTS = 10_000_000
BUCKET_SCHEMES = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs")}

StorageOptions = Mapping[str, Mapping[str, Any]]


def local_path_of(uri: str) -> Path:
    return Path(url2pathname(urlsplit(uri).path))


def bucket_filesystem(scheme: str, storage_options: StorageOptions | None) -> Any:
    """The fsspec filesystem of ``s3``/``gs``, with the options given for that scheme."""
    module, extra = BUCKET_SCHEMES[scheme]
    if importlib.util.find_spec(module) is None:
        raise InvalidInputError(
            f"{scheme}:// references need {module}: pip install 'dagster-wandb-artifacts[{extra}]'"
        )
    import fsspec

    options = dict((storage_options or {}).get(scheme, {}))
    if scheme == "s3":
        options.setdefault("version_aware", True)
    return fsspec.filesystem(scheme, **options)


def _split_bucket_uri(uri: str) -> tuple[str, str, str, str | None]:
    """(scheme, bucket, key, pinned version) of ``s3://b/k?versionId=v`` or ``gs://b/k#gen``."""
    parts = urlsplit(uri)
    version = dict(parse_qsl(parts.query)).get("versionId") or parts.fragment or None
    return parts.scheme, parts.netloc, parts.path.lstrip("/"), version


def _bucket_entry(scheme: str, info: dict[str, Any], fs: Any, name: str, ref: str) -> ManifestEntry:
    if scheme == "s3":
        etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
        version = info.get("VersionId")
        if version is None and fs is not None:
            version = fs.info(info["name"]).get("VersionId")
        extra: dict[str, Any] = {"etag": etag}
        if version and version != "null":
            extra["versionID"] = version
        return ManifestEntry(path=name, digest=etag, size=int(info["size"]), ref=ref, extra=extra)
    generation = info.get("generation")
    return ManifestEntry(
        path=name,
        digest=str(info["etag"]),
        size=int(info["size"]),
        ref=ref,
        extra={"versionID": int(generation) if generation not in (None, "") else None},
    )


def _bucket_entries(
    uri: str,
    name: str | None,
    checksum: bool,
    max_objects: int,
    storage_options: StorageOptions | None,
) -> list[ManifestEntry]:
    scheme, bucket, key, version = _split_bucket_uri(uri)
    plain = f"{scheme}://{bucket}/{key}"
    if not checksum:
        return [ManifestEntry(path=name or key or bucket, digest=plain, ref=plain)]
    fs = bucket_filesystem(scheme, storage_options)
    path = f"{bucket}/{key}"
    single = None
    if key and not key.endswith("/"):
        try:
            kwargs = {"version_id": version} if scheme == "s3" and version else {}
            if scheme == "gs" and version:
                path = f"{path}#{version}"
            found = fs.info(path, **kwargs)
            single = found if found.get("type") == "file" else None
        except FileNotFoundError:
            single = None
    if single is not None:
        return [
            _bucket_entry(
                scheme,
                single,
                fs if scheme == "s3" else None,
                name or PurePosixPath(key).name,
                plain,
            )
        ]
    found = fs.find(f"{bucket}/{key}".rstrip("/"), detail=True)
    objects = [info for info in found.values() if info.get("size") and info["type"] == "file"]
    if not objects:
        raise NotFoundError(f"{uri}: no object and no objects under that prefix")
    if len(objects) > max_objects:
        raise InvalidInputError(
            f"{uri} holds more than {max_objects} objects: pass a larger max_objects"
        )
    prefix = PurePosixPath(bucket) / key
    entries = []
    for info in sorted(objects, key=lambda i: i["name"]):
        relative = PurePosixPath(info["name"]).relative_to(prefix).as_posix()
        entries.append(
            _bucket_entry(
                scheme,
                info,
                fs if scheme == "s3" else None,
                f"{name.rstrip('/')}/{relative}" if name else relative,
                f"{plain.rstrip('/')}/{relative}",
            )
        )
    return entries


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
        raise InvalidInputError(f"{uri} is neither a file nor a folder")
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
    storage_options: StorageOptions | None = None,
) -> list[ManifestEntry]:
    scheme = urlsplit(uri).scheme
    limit = max_objects or DEFAULT_MAX_OBJECTS
    if scheme == "file":
        return _file_entries(uri, name, checksum, limit)
    if scheme in ("http", "https"):
        return _http_entries(uri, name, checksum, session)
    if scheme in BUCKET_SCHEMES:
        return _bucket_entries(uri, name, checksum, limit, storage_options)
    if fsspec_references.knows(scheme):
        return fsspec_references.fsspec_entries(uri, name, checksum, limit, storage_options)
    if not scheme:
        raise InvalidInputError(
            f"{uri!r} is a plain path: reference a local file as file://, or use add_file"
        )
    # A scheme no handler knows is recorded as an opaque URI (its digest is the URI), as the
    # SDK does; nothing reads it.
    if name is None:
        raise InvalidInputError(
            f"pass name=... to reference {uri}: a scheme with no handler has no file name"
        )
    return [ManifestEntry(path=name, digest=uri, ref=uri)]


def open_bucket_reference(entry: ManifestEntry, storage_options: StorageOptions | None) -> Any:
    """A file object on the object version the entry recorded (refusing changed content)."""
    assert entry.ref is not None
    scheme, bucket, key, _ = _split_bucket_uri(entry.ref)
    fs = bucket_filesystem(scheme, storage_options)
    version = (entry.extra or {}).get("versionID")
    path = f"{bucket}/{key}"
    try:
        if scheme == "s3":
            kwargs = {"version_id": version} if version else {}
            current = fs.info(path, **kwargs)
            etag = str(current.get("ETag", "")).strip('"')
        else:
            kwargs = {"generation": str(version)} if version else {}
            current = fs.info(path)
            etag = str(current.get("etag"))
    except FileNotFoundError as exc:
        raise NotFoundError(f"reference {entry.ref} no longer exists") from exc
    if entry.digest not in (etag, entry.ref):
        raise IntegrityError(
            f"reference {entry.ref} changed since it was logged and no object version pins "
            "it: log the artifact again, or enable versioning on the bucket"
        )
    return fs.open(path, "rb", **kwargs)


def download_reference(
    entry: ManifestEntry,
    target: Path,
    session: requests.Session,
    *,
    allow_missing: bool,
    storage_options: StorageOptions | None = None,
) -> None:
    """Copy a reference's recorded bytes to ``target``, refusing changed content."""
    assert entry.ref is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    scheme = urlsplit(entry.ref).scheme
    try:
        if scheme == "file":
            source = local_path_of(entry.ref)
            if not source.is_file():
                raise MissingReferenceError(f"reference {entry.ref} no longer exists")
            unchecked = entry.digest == md5_b64_bytes(source.resolve().as_uri().encode())
            if not unchecked and entry.digest != md5_b64_file(source):
                raise IntegrityError(f"reference {entry.ref} changed since it was logged")
            shutil.copyfile(source, target)
            return
        if fsspec_references.knows(scheme):
            fsspec_references.download_fsspec(entry, target, storage_options)
            return
        if scheme in BUCKET_SCHEMES:
            with open_bucket_reference(entry, storage_options) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
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


def fsspec_uri(entry: ManifestEntry) -> str:
    """The URI fsspec opens for a reference, pinned to its recorded object version."""
    assert entry.ref is not None
    version = (entry.extra or {}).get("versionID")
    scheme = urlsplit(entry.ref).scheme
    if version and scheme == "s3":
        return f"{entry.ref}?versionId={version}"
    if version and scheme == "gs":
        return f"{entry.ref}#{version}"
    return entry.ref
