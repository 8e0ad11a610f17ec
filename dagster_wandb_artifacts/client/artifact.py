"""``Artifact``: a draft to fill and log, or a logged version to read and edit."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..formats.manifest import Manifest, ManifestEntry
from ..formats.names import REGISTRY_PREFIX
from . import queries
from .draft_files import DraftFiles
from .errors import (
    ArtifactFinalizedError,
    ArtifactNotLoggedError,
    InvalidInputError,
)
from .links import Home, VersionLinks
from .names import (
    validate_alias,
    validate_metadata,
    validate_name,
    validate_tag,
    validate_type,
)
from .reading import VersionReading

if TYPE_CHECKING:
    from .api import Api
    from .collections import ArtifactCollection
    from .run import Run

_TTL_INHERIT = -1
_TTL_DISABLED = -2


class Artifact(DraftFiles, VersionReading, VersionLinks):
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
        storage_region: str | None = None,
        digest_algorithm: str = "MD5",
    ) -> None:
        if digest_algorithm != "MD5":
            raise InvalidInputError(
                f"digest_algorithm {digest_algorithm!r} is not supported: this client computes "
                "W&B's MD5 digests only"
            )
        self._collection_name = validate_name(name)
        self._type = validate_type(type)
        self._description = description
        self._metadata = validate_metadata(metadata)
        self.incremental = incremental
        if use_as is not None:
            warnings.warn(
                "use_as is deprecated and has no effect (as in the wandb SDK)",
                DeprecationWarning,
                stacklevel=2,
            )
        #: Groups the parts of a distributed artifact (``Run.upsert_artifact``), as the SDK's.
        self.distributed_id: str | None = None
        self._manifest = Manifest(storage_region=storage_region)
        self._asked: str | None = None
        self._final = False
        self._api: Api | None = None
        self._attrs: dict[str, Any] = {}
        self._base_id: str | None = None
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
    def _from_membership(
        cls, api: Api, membership: dict[str, Any], asked: str | None = None
    ) -> Artifact:
        """The version as seen from the collection it was fetched through (maybe a link).

        ``asked`` is the ``collection:alias`` it was fetched by: its ``name`` stays that, as
        the SDK's does (``data:best``), while ``version`` is the version's own."""
        node = membership["artifact"]
        artifact = cls(node["artifactSequence"]["name"], node["artifactType"]["name"])
        artifact._become_logged(api, node, membership)
        artifact._asked = asked
        return artifact

    def _become_logged(
        self,
        api: Api,
        node: dict[str, Any],
        membership: dict[str, Any] | None = None,
        home: Home | None = None,
    ) -> None:
        """Turn this object into the logged version ``node`` describes, as seen from the
        collection of ``membership`` or ``home`` (a link's), else from its own."""
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
        self._source = Home.of(sequence, node["versionIndex"])
        self._home = home or self._source
        if membership is not None:
            self._home = Home.of(membership["artifactCollection"], membership["versionIndex"])
            aliases = [a["alias"] for a in membership.get("aliases") or []]
        else:
            aliases = [
                a["alias"]
                for a in node.get("aliases") or []
                if Home.of(a["artifactCollection"], None).same_collection(self._home)
            ]
        self._collection_name = self._home.collection
        self._aliases = [alias for alias in aliases if not _is_version(alias)]
        self._saved_aliases = list(self._aliases)
        self._tags = [t["name"] for t in node.get("tags") or []]
        self._saved_tags = list(self._tags)
        self._manifest_loaded = False

    def __repr__(self) -> str:
        return f"<Artifact {self.qualified_name if not self.is_draft() else self.name}>"

    # Properties -------------------------------------------------------------------------------

    def _logged(self, what: str) -> dict[str, Any]:
        """The logged version's fields; a draft raises, as the SDK's ``ensure_logged`` does."""
        if not self._attrs:
            raise ArtifactNotLoggedError(
                f"'Artifact.{what}' is available once the artifact is logged: log it first"
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
        """``{collection}:{alias}`` once logged, by the alias it was fetched by (``vN`` when
        none was asked); the bare collection name before."""
        if self.is_draft():
            return self._collection_name
        return self._asked or f"{self._collection_name}:{self.version}"

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
    def source_collection(self) -> ArtifactCollection:
        """The collection this version was logged to."""
        self._logged("source_collection")
        return self._fetch_collection(self._source)

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
    def source_artifact(self) -> Artifact:
        """The logged version itself (this object, unless it is a link)."""
        self._logged("source_artifact")
        if not self.is_link:
            return self
        return self._require_api().artifact_by_id(self._attrs["id"])

    @property
    def type(self) -> str:
        return self._type

    @property
    def url(self) -> str:
        """The version's page in the W&B UI; a Registry link's is the Registry's page of it."""
        self._logged("url")
        api = self._require_api()
        if self.is_link and self.project.startswith(REGISTRY_PREFIX):
            organization = api._org_of(self.entity)["name"]
            selection = quote(f"{self.entity}/{self.project}/{self._collection_name}", safe="")
            return (
                f"{api.app_url}/orgs/{organization}/registry/"
                f"{self.project[len(REGISTRY_PREFIX) :]}?selectionPath={selection}"
                f"&view=membership&version={self.version}"
            )
        return (
            f"{api.app_url}/{self.entity}/{self.project}/artifacts/{quote(self.type)}/"
            f"{quote(self._collection_name)}/{self.version}"
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
        """Time to live: None means the version never expires. An inherited TTL is known once
        logged (a draft raises, as the SDK's does, until ``ttl`` is set on it)."""
        if self._ttl_inherited and (self.is_draft() or self._ttl_changed):
            self._logged("ttl")
        return None if self._ttl_seconds is None else timedelta(seconds=self._ttl_seconds)

    @ttl.setter
    def ttl(self, value: timedelta | None) -> None:
        if value is not None and not isinstance(value, timedelta):
            # The SDK's error for anything but a timedelta or None.
            raise AttributeError(f"ttl must be a timedelta or None, not {type(value).__name__}")
        if value is not None and value.total_seconds() <= 0:
            raise InvalidInputError(f"ttl must be positive, not {value}")
        if self.is_link:
            raise InvalidInputError(
                "a link has no TTL of its own: set the TTL of its source version (unlink first)"
            )
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
        """The version's custom aliases (edit the list, then ``save()``); a draft's are given
        to ``log_artifact``."""
        self._logged("aliases")
        return self._aliases

    @aliases.setter
    def aliases(self, value: list[str]) -> None:
        self._logged("aliases")
        self._aliases = [validate_alias(alias) for alias in value]

    @property
    def tags(self) -> list[str]:
        self._logged("tags")
        return self._tags

    @tags.setter
    def tags(self, value: list[str]) -> None:
        self._logged("tags")
        self._tags = [validate_tag(tag) for tag in value]

    @property
    def use_as(self) -> None:
        """Deprecated in the SDK, where it is always None."""
        return None

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
        return int(self._logged("file_count")["fileCount"])

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
        """The step of the logging run's history nearest before this version was logged (the
        server records the run's next step, as W&B's does; the SDK reports the one before)."""
        step = self._logged("history_step").get("historyStep")
        return None if step is None else max(0, step - 1)

    @property
    def collection(self) -> ArtifactCollection:
        """The collection this version was fetched from (a link's portfolio, for a link)."""
        self._logged("collection")
        return self._fetch_collection(self._home)

    def _fetch_collection(self, home: Home) -> ArtifactCollection:
        from .collections import ArtifactCollection

        return ArtifactCollection.fetch(
            self._require_api(), home.entity, home.project, self.type, home.collection
        )

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

    # Reading W&B media -----------------------------------------------------------------------

    def get(self, name: str) -> Any:
        """The W&B media added at ``name``: a table as a pandas DataFrame (None if none)."""
        self._logged("get")
        from . import media

        return media.get(self, name)

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    # Logging and editing ---------------------------------------------------------------------

    def save(
        self, project: str | None = None, settings: Any = None, *, api: Api | None = None
    ) -> None:
        """Log a draft (in a run of its own, as the SDK does), or save edits of a logged version.

        ``settings`` (a ``wandb.Settings`` or a mapping) may name the ``base_url``,
        ``api_key`` and ``entity`` of the run; ``api`` is this client's alternative to it."""
        if self.is_draft():
            if api is None:
                api = _api_of_settings(settings)
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
        self._become_logged(api, node, home=self._home)

    def wait(self, timeout: int | None = None) -> Artifact:
        """Logging is synchronous here: a logged artifact is already committed."""
        self._logged("wait")
        return self

    def new_draft(self) -> Artifact:
        """A draft holding this version's files, to log changes as a new version."""
        self._logged("new_draft")
        draft = Artifact(self._collection_name, self._type, self._description, dict(self._metadata))
        for entry in self.manifest.entries.values():
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

    def delete(self, delete_aliases: bool = False) -> None:
        """Delete this version (refused while it has custom aliases, unless told to drop them).

        On a link only the link goes, as ``unlink()`` (the version stays, and so does this
        object's ``state``)."""
        self._logged("delete")
        if self.is_link:
            self.unlink()
            return
        api = self._require_api()
        # The object's state stays COMMITTED, as the SDK's: a new fetch says DELETED (or finds
        # nothing).
        api.client.execute(
            queries.DELETE_ARTIFACT,
            {"input": {"artifactID": self.id, "deleteAliases": delete_aliases}},
        )

    def logged_by(self) -> Run | None:
        from .run import Run

        self._logged("logged_by")
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

        self._logged("used_by")
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
            "usedAs": None,
        }


def _api_of_settings(settings: Any) -> Api:
    """An ``Api`` for what a ``wandb.Settings`` (or a mapping) names; the environment's else."""
    from .api import Api

    def setting(name: str) -> Any:
        if isinstance(settings, dict):
            return settings.get(name)
        return getattr(settings, name, None)

    overrides = {"base_url": setting("base_url"), "entity": setting("entity")}
    return Api(api_key=setting("api_key"), overrides={k: v for k, v in overrides.items() if v})


def _is_version(alias: str) -> bool:
    return alias[:1] == "v" and alias[1:].isdigit()
