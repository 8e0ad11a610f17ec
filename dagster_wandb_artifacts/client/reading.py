"""Reading a logged version: its manifest and its files, listed, downloaded one by one or
all at once, checked out and verified; ``Artifact`` mixes this in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..formats.manifest import Manifest, ManifestEntry, b64_to_hex
from . import queries
from .errors import AuthenticationError, IntegrityError, InvalidInputError, NotFoundError
from .names import normalize_path
from .progress import Meter
from .transfer import (
    Downloader,
    SafeTargets,
    entries_progress,
    hash_files,
    parallel_map,
    prefetched,
    requests_in_flight,
    safe_target,
)

if TYPE_CHECKING:
    from .api import Api
    from .artifact import Artifact
    from .files import ArtifactFile
    from .paginators import ArtifactFiles

_FILE_URL_PAGE = 5000
#: The first page is small: the downloads start on its reply while the next is fetched.
_FIRST_FILE_URL_PAGE = 100


class Entry:
    """One manifest entry of an artifact, downloadable on its own once logged."""

    def __init__(self, artifact: Artifact, entry: ManifestEntry) -> None:
        self._artifact = artifact
        self._entry = entry

    def __getattr__(self, name: str) -> Any:
        return getattr(self._entry, name)

    def __repr__(self) -> str:
        return f"<Entry {self._entry.path} digest={self._entry.digest}>"

    def ref_url(self) -> str:
        """``wandb-artifact://<artifact id>/<path>``: this entry as another artifact references
        it (a reference's too, as the SDK does)."""
        return f"wandb-artifact://{b64_to_hex(self._artifact.id)}/{self._entry.path}"

    def fsspec_uri(self) -> tuple[str, dict[str, Any]]:
        """The URI fsspec opens for this entry and the storage options it needs.

        A reference maps to its object, pinned to the recorded version (S3 ``versionId``,
        GCS generation); a stored file to its ``wandb-artifact://`` URL and this client.
        """
        from .references import fsspec_uri

        if self._entry.ref is not None:
            scheme = self._entry.ref.partition("://")[0]
            api = self._artifact._api
            options = dict(api.storage_options.get(scheme, {})) if api else {}
            if scheme == "s3":
                options["version_aware"] = True
            return fsspec_uri(self._entry), options
        artifact = self._artifact
        url = f"wandb-artifact://{artifact.entity}/{artifact.project}/{artifact.name}"
        return f"{url}/{self._entry.path}", {"api": artifact._require_api()}

    def download(self, root: str | os.PathLike | None = None, skip_cache: bool = False) -> str:
        """Download this entry alone; returns the local path of the file."""
        base = Path(root) if root else self._artifact._default_root()
        self._artifact._download_entries(
            [self._entry], base, skip_cache=skip_cache, allow_missing_references=False
        )
        return str(safe_target(base, self._entry.path))


class VersionReading:
    """The reading half of ``Artifact``: what a logged version's files give."""

    def get_entry(self, name: str) -> Entry:
        """The entry at artifact path ``name`` of a logged version (``KeyError`` if none)."""
        self._logged("get_entry")
        entry = self.manifest.get(normalize_path(name))
        if entry is None:
            raise KeyError(f"{name!r} is not in artifact {self.name}")
        return Entry(self, entry)

    def get_path(self, name: str) -> Entry:
        """Deprecated in the SDK for ``get_entry``."""
        return self.get_entry(name)

    def _fetch_manifest(self) -> Manifest:
        api = self._require_api()
        url = _manifest_url(self._attrs)
        if url is not None:
            try:
                return self._checked(
                    Manifest.from_bytes(api.client.request("GET", url, signed=True).content)
                )
            except (AuthenticationError, InvalidInputError, NotFoundError):
                pass  # the URL came with the version: its signature may have expired since
        url = _manifest_url(api.client.execute(queries.FETCH_MANIFEST, {"id": self.id})["artifact"])
        if url is None:
            raise NotFoundError(f"{self.qualified_name} has no manifest")
        return self._checked(
            Manifest.from_bytes(api.client.request("GET", url, signed=True).content)
        )

    def _checked(self, manifest: Manifest) -> Manifest:
        """The fetched manifest, if its entries are the ones the version's digest names: a
        manifest rewritten after the commit is never read from."""
        expected = self._attrs.get("digest") if self._attrs else None
        if expected and manifest.digest() != expected:
            raise IntegrityError(
                f"{self.qualified_name}: its manifest does not match the version's digest "
                f"{expected} (it was changed after the commit); nothing is read from it"
            )
        return manifest

    def _default_root(self, include_version: bool = True) -> Path:
        """Where the SDK puts this version: ``$WANDB_ARTIFACT_DIR/<source collection>:vN``
        (without ``:vN`` for ``checkout``)."""
        base = Path(os.environ.get("WANDB_ARTIFACT_DIR") or "./artifacts")
        name = self.source_name if include_version else self._source.collection
        return base / name

    def _file_url_pages(self) -> Iterator[list[ArtifactFile]]:
        """The version's stored files with their signed download URLs, page by page, each
        dropped once read: 100,000 files with their URLs weigh 50 MB."""
        listing = self.files(per_page=_FIRST_FILE_URL_PAGE)
        for page in listing._pages():
            yield page
            listing.per_page = _FILE_URL_PAGE

    def download(
        self,
        root: str | os.PathLike | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
        path_prefix: str | None = None,
        multipart: bool | None = None,
    ) -> str:
        """Download the version's files into ``root`` (``./artifacts/<name>``); returns it."""
        self._logged("download")
        base = Path(root) if root else self._default_root()
        # A manifest still to fetch is asked for together with the first page of file URLs,
        # which a cold load needs next; not for a version this cache already took in.
        api = self._require_api()
        cold = skip_cache or not api.cache.knows_version(self.digest)
        early = cold and not self._manifest_loaded
        pages = prefetched(self._file_url_pages(), ahead=1) if early else None
        try:
            entries = [
                entry
                for entry in self.manifest.entries.values()
                if path_prefix is None or entry.path.startswith(path_prefix)
            ]
            self._download_entries(
                entries,
                base,
                skip_cache=bool(skip_cache),
                allow_missing_references=allow_missing_references,
                pages=pages,
            )
        finally:
            if pages is not None:
                pages.close()
        if not skip_cache and path_prefix is None:
            api.cache.note_version(self.digest)
        return str(base)

    def _download_entries(
        self,
        entries: list[ManifestEntry],
        base: Path,
        *,
        skip_cache: bool,
        allow_missing_references: bool,
        pages: Iterator[list[ArtifactFile]] | None = None,
    ) -> None:
        """``pages``: the file URL listing, when it was started already."""
        api = self._require_api()
        base.mkdir(parents=True, exist_ok=True)
        downloader = Downloader(api.client, api.cache, api.transfer)
        stored = [e for e in entries if e.ref is None]
        targets = SafeTargets(base, (e.path for e in entries))
        for folder in targets.folders:
            folder.mkdir(parents=True, exist_ok=True)
        hits = (
            []
            if skip_cache
            else [e for e in stored if api.cache.get(e.digest, e.size or 0) is not None]
        )
        # Hits are links made in this thread: a pool's hand-offs would cost more than they do.
        for entry in hits:
            api.cache.link_to(entry.digest, targets[entry.path])
        hit_paths = {entry.path for entry in hits}
        entries = [e for e in entries if e.path not in hit_paths]
        wanted = {e.path: e for e in entries if e.ref is None}

        def with_urls() -> Iterator[tuple[ManifestEntry, str | None]]:
            """References at once, then each stored file as its URL is listed: the next
            page is fetched while the files of the one before download."""
            yield from ((e, None) for e in entries if e.ref is not None)
            if not wanted:
                return
            for page in pages or prefetched(self._file_url_pages(), ahead=1):
                for file in page:
                    entry = wanted.pop(file.name, None)
                    if entry is not None:
                        yield entry, file.direct_url
            if wanted:
                path = next(iter(wanted))
                raise NotFoundError(f"{path}: the server lists no such file for {self.name}")

        def fetch(item: tuple[ManifestEntry, str | None], meter: Meter | None) -> None:
            entry, url = item
            target = targets[entry.path]
            if url is None:
                from .references import download_reference

                download_reference(
                    entry,
                    target,
                    api.client.session,
                    allow_missing=allow_missing_references,
                    storage_options=api.storage_options,
                )
            elif skip_cache:
                downloader.fetch_to_path(url, entry, target, meter)
            else:
                downloader.fetch_to_cache(url, entry, meter)
                api.cache.link_to(entry.digest, target)

        progress = entries_progress("downloaded", entries, api.transfer)

        def fetch_and_count(item: tuple[ManifestEntry, str | None]) -> None:
            meter = progress.stream()
            fetch(item, meter if progress.active else None)
            meter.settle(item[0].size or 0)
            progress.done()

        with progress:
            parallel_map(fetch_and_count, with_urls(), requests_in_flight(api.transfer, api.client))
        api.cache.cleanup()  # down to the cache's max_size, when it has one

    def _cache_logged_files(self, api: Api) -> None:
        """Put the files just uploaded into the cache, so a later download is a hit."""
        # In this thread: a hard link and its record are a few fast system calls each, which
        # a pool's hand-offs and contention for the GIL would only slow down.
        for entry in self._manifest.entries.values():
            if entry.local_path and not entry.skip_cache and entry.ref is None:
                api.cache.add_file(Path(entry.local_path), entry.digest, entry.size or 0)

    def file(self, root: str | os.PathLike | None = None) -> str:
        """Download a single-file artifact; returns the file's path."""
        self._logged("file")
        entries = list(self.manifest.entries.values())
        if len(entries) != 1:
            raise InvalidInputError(
                f"{self.name} has {len(entries)} files; file() is for single-file artifacts: "
                "use download()"
            )
        return Entry(self, entries[0]).download(root)

    def files(
        self, names: list[str] | None = None, per_page: int = 50, start: str | None = None
    ) -> ArtifactFiles:
        """The version's stored files, paged from the server (from the ``cursor`` of an earlier
        listing, with ``start``)."""
        from .paginators import ArtifactFiles

        self._logged("files")
        return ArtifactFiles(self._require_api(), self, names, per_page, start=start)

    def checkout(self, root: str | os.PathLike | None = None) -> str:
        """Make ``root`` hold exactly this version's files (others are deleted); by default
        ``$WANDB_ARTIFACT_DIR/<collection>``, without the version, as the SDK's."""
        self._logged("checkout")
        base = Path(root) if root else self._default_root(include_version=False)
        wanted = set(self.manifest.entries)
        if base.is_dir():
            for path in base.rglob("*"):
                if path.is_file() and path.relative_to(base).as_posix() not in wanted:
                    path.unlink()
        return self.download(base)

    def verify(self, root: str | os.PathLike | None = None) -> None:
        """Check that ``root`` holds this version's stored files byte for byte and nothing
        else; references are not checked (as the SDK's)."""
        self._logged("verify")
        base = Path(root) if root else self._default_root()
        entries = self.manifest.entries
        stored = {path: e for path, e in entries.items() if e.ref is None}
        present = {p.relative_to(base).as_posix(): p for p in base.rglob("*") if p.is_file()}
        extra = sorted(set(present) - set(entries))
        if extra:
            raise IntegrityError(f"{base} holds files not in {self.name}: {extra[:5]}")
        missing = sorted(set(stored) - set(present))
        if missing:
            raise FileNotFoundError(f"{base} lacks files of {self.name}: {missing[:5]}")
        paths = sorted(stored)
        digests = hash_files(
            [present[p] for p in paths], self._workers(), *self._progress_settings()
        )
        changed = [p for p, d in zip(paths, digests, strict=True) if d != stored[p].digest]
        if changed:
            raise IntegrityError(f"files of {self.name} were modified in {base}: {changed[:5]}")


def _manifest_url(node: dict[str, Any] | None) -> str | None:
    manifest = (node or {}).get("currentManifest")
    return manifest["file"]["directUrl"] if manifest else None
