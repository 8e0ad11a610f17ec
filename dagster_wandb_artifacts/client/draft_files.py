"""Filling a draft: local files, folders, new files, W&B media and references.

:class:`DraftFiles` is the part of :class:`~.artifact.Artifact` that adds entries to (and
removes them from) a draft's manifest; files are hashed on the way in and, unless their
policy is ``immutable``, copied into a staging folder so that later edits do not leak in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

import requests

from ..formats.manifest import Manifest, ManifestEntry, b64_to_hex, check_storable_path
from .errors import InvalidInputError
from .names import normalize_path
from .progress import DEFAULT_EVERY
from .transfer import hash_files

if TYPE_CHECKING:
    from .api import Api


class DraftFiles:
    """The adding and removing of a draft's entries (mixed into ``Artifact``)."""

    _api: Api | None
    _manifest: Manifest
    _staging: Path | None
    _added_local_paths: dict[str, str]

    if TYPE_CHECKING:

        def _check_editable(self) -> None: ...

    def _staging_dir(self) -> Path:
        if self._staging is None:
            base = Path(os.environ.get("WANDB_DATA_DIR") or Path.home() / ".local/share/wandb")
            folder = base / "artifacts" / "staging"
            folder.mkdir(parents=True, exist_ok=True)
            self._staging = Path(tempfile.mkdtemp(dir=folder))
        return self._staging

    def _add_entry(self, entry: ManifestEntry, overwrite: bool) -> ManifestEntry:
        existing = self._manifest.get(entry.path)
        if existing is not None and existing.digest != entry.digest and not overwrite:
            raise InvalidInputError(
                f"{entry.path!r} is already in the artifact with other content: pass "
                "overwrite=True to replace it"
            )
        self._manifest.add(entry)
        return entry

    def add_file(
        self,
        local_path: str | os.PathLike,
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str = "mutable",
        overwrite: bool = False,
    ) -> ManifestEntry:
        """Add one local file; ``policy="mutable"`` copies it so later edits don't leak in."""
        self._check_editable()
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInputError(f"{local_path} is not a file")
        _check_policy(policy)
        return self._add_hashed(
            [(source, name or source.name)],
            is_tmp=bool(is_tmp),
            skip_cache=bool(skip_cache),
            policy=policy,
            overwrite=overwrite,
        )[0]

    def _add_hashed(
        self,
        files: list[tuple[Path, str]],
        *,
        is_tmp: bool,
        skip_cache: bool,
        policy: str,
        overwrite: bool,
    ) -> list[ManifestEntry]:
        files = [(source, normalize_path(name)) for source, name in files]
        for _, name in files:  # before any hashing: a name the disk refuses fails here
            check_storable_path(name)
        digests = hash_files(
            [source for source, _ in files], self._workers(), *self._progress_settings()
        )
        entries = []
        for (source, name), digest in zip(files, digests, strict=True):
            if is_tmp:
                folder, _, base = name.rpartition("/")
                stem, dot, suffix = base.partition(".")
                name = f"{folder}/" * bool(folder) + b64_to_hex(digest)[:20] + dot + suffix
            local = source
            if policy == "mutable":
                local = self._staging_dir() / f"{len(self._added_local_paths)}-{source.name}"
                shutil.copyfile(source, local)
            entry = ManifestEntry(
                path=name,
                digest=digest,
                size=source.stat().st_size,
                local_path=str(local),
                skip_cache=skip_cache,
            )
            self._added_local_paths[str(source.resolve())] = name
            entries.append(self._add_entry(entry, overwrite))
        return entries

    def _workers(self) -> int:
        from .transfer import DEFAULT_WORKERS

        return self._api.transfer.workers if self._api else DEFAULT_WORKERS

    def _progress_settings(self) -> tuple[float, bool | None]:
        if self._api is None:
            return DEFAULT_EVERY, None
        return self._api.transfer.progress_every, self._api.transfer.progress_bar

    def add_dir(
        self,
        local_path: str | os.PathLike,
        name: str | None = None,
        skip_cache: bool | None = False,
        policy: str = "mutable",
        merge: bool = False,
    ) -> None:
        """Add every file below a folder, under ``name/`` when given."""
        self._check_editable()
        _check_policy(policy)
        root = Path(local_path)
        if not root.is_dir():
            raise InvalidInputError(f"{local_path} is not a directory")
        prefix = normalize_path(name) + "/" if name else ""
        files = sorted(
            (path, prefix + path.relative_to(root).as_posix())
            for path in root.rglob("*")
            if path.is_file()
        )
        self._add_hashed(
            files, is_tmp=False, skip_cache=bool(skip_cache), policy=policy, overwrite=merge
        )

    @contextmanager
    def new_file(
        self, name: str, mode: str = "x", encoding: str | None = None
    ) -> Iterator[IO[Any]]:
        """Open a new file to write; it is added to the artifact when the block ends."""
        self._check_editable()
        path = self._staging_dir() / "new" / normalize_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        try:
            file = open(path, mode, encoding=encoding)  # noqa: SIM115 - closed below
        except FileExistsError:
            raise InvalidInputError(f"{name!r} is already a new file of this artifact") from None
        with file:
            yield file
        self.add_file(path, name=name, policy="immutable", overwrite="x" not in mode)

    def add(self, obj: Any, name: str, overwrite: bool = False) -> ManifestEntry:
        """Add W&B media at ``name``: a pandas DataFrame or :class:`Table` as a W&B Table
        (``name.table.json``), or any ``wandb`` media object as the SDK stores it."""
        self._check_editable()
        from . import media

        return media.add(self, obj, name, overwrite)

    def __setitem__(self, name: str, item: Any) -> ManifestEntry:
        """``artifact[name] = table``: :meth:`add` (replacing what ``name`` held)."""
        return self.add(item, name, overwrite=True)

    def add_reference(
        self,
        uri: str,
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
        storage_options: dict[str, dict[str, Any]] | None = None,
    ) -> list[ManifestEntry]:
        """Track objects by URI without uploading them: ``s3://``, ``gs://``, ``file://``,
        ``http(s)://``; a bucket prefix or a folder adds every object below it (up to
        ``max_objects``). ``storage_options`` (per scheme) default to the Api's."""
        self._check_editable()
        from .references import reference_entries

        if hasattr(uri, "ref_url"):  # an entry of a logged version, as the SDK takes it
            return [self._add_entry(_entry_reference(uri, name), overwrite=True)]
        entries = reference_entries(
            uri,
            name=name,
            checksum=checksum,
            max_objects=max_objects,
            session=self._session(),
            storage_options=storage_options or (self._api.storage_options if self._api else None),
        )
        return [self._add_entry(entry, overwrite=True) for entry in entries]

    def _session(self) -> requests.Session:
        return self._api.client.session if self._api else requests.Session()

    def remove(self, item: str | os.PathLike | ManifestEntry) -> None:
        """Remove a file (by artifact path or entry), or every file below a folder."""
        self._check_editable()
        path = item.path if isinstance(item, ManifestEntry) else normalize_path(str(item))
        removed = [
            entry_path
            for entry_path in self._manifest.entries
            if entry_path == path or entry_path.startswith(path.rstrip("/") + "/")
        ]
        if not removed:
            raise FileNotFoundError(f"{path!r} is not in the artifact")
        for entry_path in removed:
            self._manifest.remove(entry_path)

    def get_added_local_path_name(self, local_path: str) -> str | None:
        """The artifact path a local file was added under, if it was."""
        return self._added_local_paths.get(str(Path(local_path).resolve()))


def _entry_reference(entry: Any, name: str | None) -> ManifestEntry:
    """A reference to an entry of a logged version: ``wandb-artifact://<id>/<path>``, with that
    entry's digest (the SDK's; the target artifact keeps the bytes)."""
    ref = entry.ref_url()
    return ManifestEntry(
        path=normalize_path(name or PurePosixPath(entry.path).name),
        digest=entry.digest,
        size=0,
        ref=ref,
    )


def _check_policy(policy: str | None) -> None:
    if policy not in ("mutable", "immutable"):
        raise InvalidInputError(f"policy must be 'mutable' or 'immutable', not {policy!r}")
