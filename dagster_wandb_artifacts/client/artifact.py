"""``Artifact``: a draft to fill and log, or a logged version to read and edit."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import requests

from . import queries
from .errors import (
    ArtifactFinalizedError,
    ArtifactNotLoggedError,
    AuthenticationError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
)
from .manifest import Manifest, ManifestEntry, b64_to_hex
from .names import (
    ArtifactPath,
    validate_alias,
    validate_metadata,
    validate_name,
    validate_tag,
    validate_type,
)
from .progress import DEFAULT_EVERY, Meter, Progress
from .transfer import (
    Downloader,
    SafeTargets,
    hash_files,
    parallel_map,
    prefetched,
    requests_in_flight,
    safe_target,
)

if TYPE_CHECKING:
    from .api import Api
    from .paginators import ArtifactFiles
    from .run import Run

_TTL_INHERIT = -1
_TTL_DISABLED = -2
_FILE_URL_PAGE = 5000


class ArtifactFile:
    """A stored file of a logged version, as ``Artifact.files()`` lists it."""

    # A listing keeps every file it has loaded: no per-object dict for 100,000s of them.
    __slots__ = ("id", "name", "size", "md5", "digest", "direct_url", "url")

    def __init__(self, node: dict[str, Any]) -> None:
        self.id: str = node["id"]
        self.name: str = node["name"]
        self.size: int = node["sizeBytes"]
        self.md5: str = node["md5"]
        self.digest: str = node["digest"]
        self.direct_url: str = node["directUrl"]
        self.url: str = node["url"]

    def __repr__(self) -> str:
        return f"<ArtifactFile {self.name} ({self.size} bytes)>"


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
        """The reference's URI, or ``wandb-artifact://<artifact id>/<path>`` for a stored file."""
        if self._entry.ref is not None:
            return self._entry.ref
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


class Artifact:
    """A W&B Artifact, with the names and behaviour of ``wandb.Artifact``.

    Example::

        artifact = Artifact("training-data", type="dataset", metadata={"rows": 1000})
        artifact.add_dir("data/")
        run.log_artifact(artifact, aliases=["best"])
    """

    def __init__(
        self,
        name: str,
        type: str,  # noqa: A002 - W&B's name
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
    ) -> None:
        self._collection_name = validate_name(name)
        self._type = validate_type(type)
        self._description = description
        self._metadata = dict(validate_metadata(metadata))
        self.incremental = incremental
        self.use_as = use_as
        self._manifest = Manifest()
        self._final = False
        self._api: Api | None = None
        self._attrs: dict[str, Any] = {}
        self._base_id: str | None = None
        self._pending_aliases: list[str] = []
        self._pending_tags: list[str] = []
        self._aliases: list[str] = []
        self._saved_aliases: list[str] = []
        self._tags: list[str] = []
        self._saved_tags: list[str] = []
        self._ttl_seconds: int | None = None
        self._ttl_changed = False
        self._ttl_inherited = True
        self._staging: Path | None = None
        self._added_local_paths: dict[str, str] = {}
        self._manifest_loaded = False

    # Construction from the server -------------------------------------------------------------

    @classmethod
    def _from_node(cls, api: Api, node: dict[str, Any]) -> Artifact:
        sequence = node["artifactSequence"]
        artifact = cls(sequence["name"], node["artifactType"]["name"])
        artifact._become_logged(api, node)
        return artifact

    @classmethod
    def _from_membership(cls, api: Api, membership: dict[str, Any]) -> Artifact:
        """The version as seen from the collection it was fetched through (maybe a link)."""
        node = membership["artifact"]
        artifact = cls(node["artifactSequence"]["name"], node["artifactType"]["name"])
        artifact._become_logged(api, node, membership)
        return artifact

    def _become_logged(
        self, api: Api, node: dict[str, Any], membership: dict[str, Any] | None = None
    ) -> None:
        """Turn this object into the logged version ``node`` describes."""
        self._api = api
        self._attrs = node
        self._final = True
        self._type = node["artifactType"]["name"]
        self._description = node.get("description")
        self._metadata = json.loads(node.get("metadata") or "{}")
        ttl = node.get("ttlDurationSeconds")
        self._ttl_inherited = bool(node.get("ttlIsInherited"))
        self._ttl_seconds = ttl if ttl and ttl > 0 else None
        self._ttl_changed = False
        sequence = node["artifactSequence"]
        self._source = _Home.of(sequence, node["versionIndex"])
        self._home = self._source
        if membership is not None:
            self._home = _Home.of(membership["artifactCollection"], membership["versionIndex"])
            aliases = [a["alias"] for a in membership.get("aliases") or []]
        else:
            aliases = [
                a["alias"]
                for a in node.get("aliases") or []
                if _Home.of(a["artifactCollection"], None).same_collection(self._source)
            ]
        self._collection_name = self._home.collection
        self._aliases = [alias for alias in aliases if not _is_version(alias)]
        self._saved_aliases = list(self._aliases)
        self._tags = [t["name"] for t in node.get("tags") or []]
        self._saved_tags = list(self._tags)
        self._pending_aliases, self._pending_tags = [], []
        self._manifest_loaded = False

    def __repr__(self) -> str:
        return f"<Artifact {self.qualified_name if not self.is_draft() else self.name}>"

    # Properties -------------------------------------------------------------------------------

    def _logged(self, what: str) -> dict[str, Any]:
        if not self._attrs:
            raise ArtifactNotLoggedError(
                f"Artifact.{what} is known once the artifact is logged: log it first"
            )
        return self._attrs

    @property
    def id(self) -> str | None:
        return self._attrs.get("id")

    @property
    def entity(self) -> str:
        """The entity of the collection this version was fetched from (a link's, for a link)."""
        self._logged("entity")
        return self._home.entity

    @property
    def project(self) -> str:
        self._logged("project")
        return self._home.project

    @property
    def collection_name(self) -> str:
        return self._collection_name

    @property
    def name(self) -> str:
        """``{collection}:{version}`` once logged, the bare collection name before."""
        if self.is_draft():
            return self._collection_name
        return f"{self._collection_name}:{self.version}"

    @property
    def qualified_name(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}"

    @property
    def version(self) -> str:
        self._logged("version")
        return f"v{self._home.index}"

    @property
    def source_entity(self) -> str:
        self._logged("source_entity")
        return self._source.entity

    @property
    def source_project(self) -> str:
        self._logged("source_project")
        return self._source.project

    @property
    def source_collection(self) -> str:
        return self._source.collection if self._attrs else self._collection_name

    @property
    def source_version(self) -> str:
        self._logged("source_version")
        return f"v{self._source.index}"

    @property
    def source_name(self) -> str:
        if self.is_draft():
            return self._collection_name
        return f"{self._source.collection}:{self.source_version}"

    @property
    def source_qualified_name(self) -> str:
        return f"{self.source_entity}/{self.source_project}/{self.source_name}"

    @property
    def is_link(self) -> bool:
        """True when this version was fetched through a portfolio or Registry collection."""
        return bool(self._attrs) and not self._home.same_collection(self._source)

    @property
    def linked_artifacts(self) -> list[Artifact]:
        """The links of this version in portfolios and the Registry (none for a link)."""
        if self.is_draft() or self.is_link:
            return []
        api = self._require_api()
        node = api.client.execute(queries.FETCH_LINKED_ARTIFACTS, {"artifactID": self.id})
        edges = ((node["artifact"] or {}).get("artifactMemberships") or {}).get("edges", [])
        links = []
        for edge in edges:
            collection = edge["node"]["artifactCollection"]
            if collection["__typename"] != "ArtifactPortfolio":
                continue
            home = _Home.of(collection, edge["node"]["versionIndex"])
            links.append(
                api.artifact(f"{home.entity}/{home.project}/{home.collection}:v{home.index}")
            )
        return links

    def unlink(self) -> None:
        """Remove this link from its portfolio (the source version stays)."""
        if not self.is_link:
            raise InvalidInputError(f"{self.name} is not a link: unlink() applies to links only")
        from .collections import ArtifactCollection

        api = self._require_api()
        portfolio = ArtifactCollection.fetch(
            api, self._home.entity, self._home.project, self.type, self._home.collection
        )
        api.client.execute(
            queries.UNLINK_ARTIFACT,
            {"input": {"artifactID": self._attrs["id"], "artifactPortfolioID": portfolio.id}},
        )

    @property
    def source_artifact(self) -> Artifact:
        """The logged version itself (this object, unless it is a link)."""
        if not self.is_link:
            return self
        return self._require_api().artifact_by_id(self._attrs["id"])

    @property
    def type(self) -> str:
        return self._type

    @property
    def url(self) -> str:
        api = self._require_api()
        return (
            f"{api.app_url}/{self.entity}/{self.project}/artifacts/{self.type}/"
            f"{self._collection_name}/{self.version}"
        )

    @property
    def description(self) -> str | None:
        return self._description

    @description.setter
    def description(self, value: str | None) -> None:
        self._description = value

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    @metadata.setter
    def metadata(self, value: dict[str, Any]) -> None:
        self._metadata = dict(validate_metadata(value))

    @property
    def ttl(self) -> timedelta | None:
        """Time to live: None means the version never expires."""
        return None if self._ttl_seconds is None else timedelta(seconds=self._ttl_seconds)

    @ttl.setter
    def ttl(self, value: timedelta | None) -> None:
        if value is not None and (not isinstance(value, timedelta) or value.total_seconds() <= 0):
            raise InvalidInputError("ttl must be a positive timedelta or None")
        self._ttl_seconds = None if value is None else int(value.total_seconds())
        self._ttl_inherited = False
        self._ttl_changed = True

    def _ttl_to_gql(self) -> int | None:
        if not self._ttl_changed:
            return None
        if self._ttl_inherited:
            return _TTL_INHERIT
        return self._ttl_seconds or _TTL_DISABLED

    @property
    def aliases(self) -> list[str]:
        """The version's custom aliases (edit the list, then ``save()``)."""
        return self._aliases if not self.is_draft() else self._pending_aliases

    @aliases.setter
    def aliases(self, value: list[str]) -> None:
        validated = [validate_alias(alias) for alias in value]
        if self.is_draft():
            self._pending_aliases = validated
        else:
            self._aliases = validated

    @property
    def tags(self) -> list[str]:
        return self._tags if not self.is_draft() else self._pending_tags

    @tags.setter
    def tags(self, value: list[str]) -> None:
        validated = [validate_tag(tag) for tag in value]
        if self.is_draft():
            self._pending_tags = validated
        else:
            self._tags = validated

    @property
    def state(self) -> str:
        return self._attrs.get("state", "PENDING")

    @property
    def size(self) -> int:
        if self.is_draft():
            return self._manifest.total_size
        return int(self._attrs["size"])

    @property
    def digest(self) -> str:
        return self._attrs["digest"] if self._attrs else self._manifest.digest()

    @property
    def file_count(self) -> int:
        return int(self._attrs["fileCount"]) if self._attrs else len(self._manifest)

    @property
    def commit_hash(self) -> str:
        return self._logged("commit_hash")["commitHash"]

    @property
    def created_at(self) -> str:
        return self._logged("created_at")["createdAt"]

    @property
    def updated_at(self) -> str:
        return self._logged("updated_at")["updatedAt"] or self.created_at

    @property
    def history_step(self) -> int | None:
        return self._attrs.get("historyStep")

    @property
    def collection(self) -> str:
        return self._collection_name

    @property
    def manifest(self) -> Manifest:
        if not self.is_draft() and not self._manifest_loaded:
            self._manifest = self._fetch_manifest()
            self._manifest_loaded = True
        return self._manifest

    # Draft state -----------------------------------------------------------------------------

    def is_draft(self) -> bool:
        """True until the artifact is logged."""
        return not self._attrs

    def finalize(self) -> None:
        """Freeze the draft: no more files may be added or removed."""
        self._final = True

    def _check_editable(self) -> None:
        if self._final:
            raise ArtifactFinalizedError(
                f"{self.name} can no longer change: call new_draft() to make a new version"
            )

    def _require_api(self) -> Api:
        if self._api is None:
            raise ArtifactNotLoggedError(f"{self.name} is not logged yet: log it first")
        return self._api

    # Adding files ----------------------------------------------------------------------------

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
        if policy not in ("mutable", "immutable"):
            raise InvalidInputError("policy must be 'mutable' or 'immutable'")
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
        digests = hash_files(
            [source for source, _ in files], self._workers(), *self._progress_settings()
        )
        entries = []
        for (source, name), digest in zip(files, digests, strict=True):
            name = _normalize(name)
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
        root = Path(local_path)
        if not root.is_dir():
            raise InvalidInputError(f"{local_path} is not a directory")
        prefix = _normalize(name) + "/" if name else ""
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
        path = self._staging_dir() / "new" / _normalize(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        with open(path, mode, encoding=encoding) as file:
            yield file
        self.add_file(path, name=name, policy="immutable")

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
        path = item.path if isinstance(item, ManifestEntry) else _normalize(str(item))
        removed = [
            e.path
            for e in self._manifest.entries()
            if e.path == path or e.path.startswith(path.rstrip("/") + "/")
        ]
        if not removed:
            raise FileNotFoundError(f"{path!r} is not in the artifact")
        for entry_path in removed:
            self._manifest.remove(entry_path)

    def get_entry(self, name: str) -> Entry:
        entry = self.manifest.get(_normalize(name))
        if entry is None:
            raise KeyError(f"{name!r} is not in artifact {self.name}")
        return Entry(self, entry)

    get_path = get_entry

    def get_added_local_path_name(self, local_path: str) -> str | None:
        """The artifact path a local file was added under, if it was."""
        return self._added_local_paths.get(str(Path(local_path).resolve()))

    # Logging and editing ---------------------------------------------------------------------

    def save(self, project: str | None = None, api: Api | None = None) -> None:
        """Log a draft (in a run of its own, as the SDK does), or save edits of a logged version."""
        if self.is_draft():
            if api is None:
                from .api import Api

                api = Api()
            run = api.create_run(project=project, job_type="auto")
            try:
                run.log_artifact(self)
            except BaseException:
                run.finish(exit_code=1)
                raise
            run.finish()
            return
        self._save_edits()

    def _save_edits(self) -> None:
        api = self._require_api()
        collection = {
            "artifactCollectionName": self._collection_name,
            "entityName": self.entity,
            "projectName": self.project,
        }
        added = [a for a in self._aliases if a not in self._saved_aliases]
        removed = [a for a in self._saved_aliases if a not in self._aliases]
        if added:
            api.client.execute(
                queries.ADD_ALIASES,
                {
                    "input": {
                        "artifactID": self.id,
                        "aliases": [{**collection, "alias": a} for a in added],
                    }
                },
            )
        if removed:
            api.client.execute(
                queries.DELETE_ALIASES,
                {
                    "input": {
                        "artifactID": self.id,
                        "aliases": [{**collection, "alias": a} for a in removed],
                    }
                },
            )
        update = {
            "artifactID": self.id,
            "description": self._description,
            "metadata": json.dumps(self._metadata),
            "ttlDurationSeconds": self._ttl_to_gql(),
            "tagsToAdd": [{"tagName": t} for t in self._tags if t not in self._saved_tags],
            "tagsToDelete": [{"tagName": t} for t in self._saved_tags if t not in self._tags],
        }
        node = api.client.execute(queries.UPDATE_ARTIFACT, {"input": update})["result"]["artifact"]
        self._become_logged(api, node)

    def wait(self, timeout: int | None = None) -> Artifact:
        """Logging is synchronous here: a logged artifact is already committed."""
        self._require_api()
        return self

    def new_draft(self) -> Artifact:
        """A draft holding this version's files, to log changes as a new version."""
        self._require_api()
        draft = Artifact(self._collection_name, self._type, self._description, dict(self._metadata))
        for entry in self.manifest.entries():
            draft._manifest.add(
                ManifestEntry(
                    path=entry.path,
                    digest=entry.digest,
                    size=entry.size,
                    ref=entry.ref,
                    extra=entry.extra,
                    birth_artifact_id=entry.birth_artifact_id,
                )
            )
        draft._base_id = self.id
        draft._api = self._api
        return draft

    def link(self, target_path: str, aliases: list[str] | None = None) -> Artifact:
        """Link this version into a portfolio or Registry collection; returns the linked version.

        ``target_path`` is ``[[entity/]project/]portfolio``; a Registry collection is
        ``wandb-registry-{registry}/{collection}``. The link gets its own ``vN`` and ``latest``.
        """
        api = self._require_api()
        parts = target_path.strip("/").split("/")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise InvalidInputError(
                f"link target {target_path!r} must look like [[entity/]project/]portfolio"
            )
        portfolio = validate_name(parts[-1], "portfolio name")
        target = api.in_registry_entity(
            ArtifactPath(
                parts[-3] if len(parts) == 3 else self.entity,
                parts[-2] if len(parts) >= 2 else self.project,
                portfolio,
            )
        )
        entity, project = target.entity, target.project
        reply = api.client.execute(
            queries.LINK_ARTIFACT,
            {
                "artifactPortfolioName": portfolio,
                "entityName": entity,
                "projectName": project,
                "aliases": [
                    {"artifactCollectionName": portfolio, "alias": validate_alias(alias)}
                    for alias in aliases or []
                ],
                "artifactId": self.id,
            },
        )
        index = reply["linkArtifact"]["versionIndex"]
        return api.artifact(f"{entity}/{project}/{portfolio}:v{index}")

    def delete(self, delete_aliases: bool = False) -> None:
        """Delete this version (refused while it has custom aliases, unless told to drop them)."""
        api = self._require_api()
        api.client.execute(
            queries.DELETE_ARTIFACT,
            {"input": {"artifactID": self.id, "deleteAliases": delete_aliases}},
        )
        self._attrs = {**self._attrs, "state": "DELETED"}

    def logged_by(self) -> Run | None:
        from .run import Run

        api = self._require_api()
        node = api.client.execute(queries.ARTIFACT_CREATED_BY, {"id": self.id})["artifact"]
        creator = node and node.get("createdBy")
        if not creator or creator.get("__typename") != "Run":
            return None
        return Run.fetch(
            api, creator["project"]["entity"]["name"], creator["project"]["name"], creator["name"]
        )

    def used_by(self) -> list[Run]:
        from .run import Run

        api = self._require_api()
        node = api.client.execute(queries.ARTIFACT_USED_BY, {"id": self.id})["artifact"]
        runs = []
        for edge in (node or {}).get("usedBy", {}).get("edges", []):
            run = edge["node"]
            runs.append(
                Run.fetch(
                    api, run["project"]["entity"]["name"], run["project"]["name"], run["name"]
                )
            )
        return runs

    def json_encode(self) -> dict[str, Any]:
        """The reference W&B stores for this version in run config and tables."""
        return {
            "_type": "artifactVersion",
            "_version": "v0",
            "id": self._logged("json_encode")["id"],
            "version": self.version,
            "sequenceName": self._collection_name,
            "usedAs": self.use_as,
        }

    # Reading ---------------------------------------------------------------------------------

    def _fetch_manifest(self) -> Manifest:
        api = self._require_api()
        url = _manifest_url(self._attrs)
        if url is not None:
            try:
                return Manifest.from_bytes(api.client.request("GET", url).content)
            except (AuthenticationError, InvalidInputError, NotFoundError):
                pass  # the URL came with the version: its signature may have expired since
        url = _manifest_url(api.client.execute(queries.FETCH_MANIFEST, {"id": self.id})["artifact"])
        if url is None:
            raise NotFoundError(f"{self.qualified_name} has no manifest")
        return Manifest.from_bytes(api.client.request("GET", url).content)

    def _default_root(self) -> Path:
        base = Path(os.environ.get("WANDB_ARTIFACT_DIR") or "./artifacts")
        return base / self.name

    def _file_url_pages(self) -> Iterator[list[ArtifactFile]]:
        """The version's stored files with their signed download URLs, page by page, each
        dropped once read: 100,000 files with their URLs weigh 50 MB."""
        return self.files(per_page=_FILE_URL_PAGE)._pages()

    def download(
        self,
        root: str | os.PathLike | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
        path_prefix: str | None = None,
        multipart: bool | None = None,
    ) -> str:
        """Download the version's files into ``root`` (``./artifacts/<name>``); returns it."""
        self._require_api()
        base = Path(root) if root else self._default_root()
        entries = [
            entry
            for entry in self.manifest.entries()
            if path_prefix is None or entry.path.startswith(path_prefix)
        ]
        self._download_entries(
            entries,
            base,
            skip_cache=bool(skip_cache),
            allow_missing_references=allow_missing_references,
        )
        return str(base)

    def _download_entries(
        self,
        entries: list[ManifestEntry],
        base: Path,
        *,
        skip_cache: bool,
        allow_missing_references: bool,
    ) -> None:
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
            for page in prefetched(self._file_url_pages(), ahead=1):
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

        progress = Progress(
            "downloaded",
            sum(e.size or 0 for e in entries),
            len(entries),
            api.transfer.progress_every,
            api.transfer.progress_bar,
        )

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

        def insert(entry: ManifestEntry) -> None:
            if entry.local_path and not entry.skip_cache and entry.ref is None:
                api.cache.add_file(Path(entry.local_path), entry.digest, entry.size or 0)

        parallel_map(insert, list(self._manifest.entries()), api.transfer.workers)

    def file(self, root: str | os.PathLike | None = None) -> str:
        """Download a single-file artifact; returns the file's path."""
        entries = list(self.manifest.entries())
        if len(entries) != 1:
            raise InvalidInputError(
                f"{self.name} has {len(entries)} files; file() is for single-file artifacts: "
                "use download()"
            )
        return Entry(self, entries[0]).download(root)

    def files(self, names: list[str] | None = None, per_page: int = 50) -> ArtifactFiles:
        """The version's stored files, paged from the server."""
        from .paginators import ArtifactFiles

        return ArtifactFiles(self._require_api(), self, names, per_page)

    def checkout(self, root: str | os.PathLike | None = None) -> str:
        """Make ``root`` hold exactly this version's files (others are deleted)."""
        base = Path(root) if root else self._default_root()
        wanted = {e.path for e in self.manifest.entries()}
        if base.is_dir():
            for path in base.rglob("*"):
                if path.is_file() and path.relative_to(base).as_posix() not in wanted:
                    path.unlink()
        return self.download(base)

    def verify(self, root: str | os.PathLike | None = None) -> None:
        """Check that ``root`` holds exactly this version's stored files, byte for byte."""
        base = Path(root) if root else self._default_root()
        stored = {e.path: e for e in self.manifest.entries() if e.ref is None}
        present = {p.relative_to(base).as_posix(): p for p in base.rglob("*") if p.is_file()}
        extra = sorted(set(present) - set(stored))
        missing = sorted(set(stored) - set(present))
        if extra or missing:
            raise IntegrityError(
                f"{base} differs from {self.name}: extra files {extra[:5]}, "
                f"missing files {missing[:5]}"
            )
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


def _normalize(name: str) -> str:
    """An artifact path: forward slashes, no leading './' or '/'."""
    path = Path(name).as_posix() if os.sep != "/" else name
    path = path.lstrip("/")
    while path.startswith("./"):
        path = path[2:]
    if not path or any(part == ".." for part in path.split("/")):
        raise InvalidInputError(f"invalid artifact path {name!r}")
    return path


@dataclass(frozen=True)
class _Home:
    """Where a version is seen: a collection (its source sequence, or a link) and its index."""

    entity: str
    project: str
    collection: str
    index: int | None

    @classmethod
    def of(cls, collection: dict[str, Any], index: int | None) -> _Home:
        project = collection["project"]
        return cls(project["entity"]["name"], project["name"], collection["name"], index)

    def same_collection(self, other: _Home) -> bool:
        return (self.entity, self.project, self.collection) == (
            other.entity,
            other.project,
            other.collection,
        )


def _is_version(alias: str) -> bool:
    return alias[:1] == "v" and alias[1:].isdigit()
