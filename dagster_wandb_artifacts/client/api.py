"""``Api``: the entry point of the client, named and behaving like ``wandb.Api``."""

from __future__ import annotations

import netrc
import os
import secrets
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from . import queries
from .cache import ArtifactCache
from .collections import ArtifactCollection, ArtifactType
from .errors import AuthenticationError, InvalidInputError, NotFoundError
from .names import ArtifactPath, validate_name
from .paginators import ArtifactCollections, Artifacts, ArtifactTypes, Projects, Runs
from .registries import PREFIX as REGISTRY_PREFIX
from .registries import Registries, Registry
from .transfer import TransferSettings
from .transport import GraphQLClient, RetryPolicy

if TYPE_CHECKING:
    from .artifact import Artifact
    from .run import Run

DEFAULT_BASE_URL = "https://api.wandb.ai"
DEFAULT_PROJECT = "uncategorized"


def _key_from_netrc(base_url: str) -> str | None:
    host = urlsplit(base_url).hostname
    path = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    if not host or not path.is_file():
        return None
    try:
        found = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError):
        return None
    return found[2] if found else None


@dataclass(frozen=True)
class Project:
    """A W&B project (created on first use by runs and artifacts)."""

    entity: str
    name: str
    id: str

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.name}"


class Api:
    """The W&B public API for artifacts, on ``requests``.

    Arguments and resolution follow ``wandb.Api``: the key comes from ``api_key``, then
    ``WANDB_API_KEY``, then ``~/.netrc``; the server from ``overrides["base_url"]``, then
    ``WANDB_BASE_URL``, then ``https://api.wandb.ai``.

    Example::

        api = Api(overrides={"base_url": "http://127.0.0.1:8080", "entity": "me"})
        dataset = api.artifact("my-project/dataset:latest")
        path = dataset.download()
    """

    def __init__(
        self,
        api_key: str | None = None,
        overrides: dict[str, Any] | None = None,
        timeout: float | None = None,
        *,
        retry: RetryPolicy | None = None,
        cache: ArtifactCache | None = None,
        transfer: TransferSettings | None = None,
        storage_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        overrides = dict(overrides or {})
        unknown = set(overrides) - {"base_url", "entity", "project", "organization"}
        if unknown:
            raise InvalidInputError(
                f"unknown overrides {sorted(unknown)}: use base_url, entity, project or "
                "organization"
            )
        base_url = overrides.get("base_url") or os.environ.get("WANDB_BASE_URL") or DEFAULT_BASE_URL
        base_url = base_url.rstrip("/")
        key = api_key or os.environ.get("WANDB_API_KEY") or _key_from_netrc(base_url)
        if not key:
            raise AuthenticationError(
                f"no API key for {base_url}: pass api_key=, set WANDB_API_KEY, or add it to "
                "~/.netrc"
            )
        self._entity = overrides.get("entity") or os.environ.get("WANDB_ENTITY")
        self._project = overrides.get("project") or os.environ.get("WANDB_PROJECT")
        self._organization = overrides.get("organization")
        self.client = GraphQLClient(
            base_url, key, timeout=timeout or 60.0, retry=retry or RetryPolicy()
        )
        self.cache = cache or ArtifactCache.default()
        #: fsspec options per scheme for references, e.g. ``{"s3": {"endpoint_url": ...}}``.
        self.storage_options = storage_options or {}
        self._orgs_of_entities: dict[str, dict[str, Any]] = {}
        self._org_entities: dict[str, str] = {}
        self.transfer = transfer or TransferSettings()

    def __repr__(self) -> str:
        return f"<Api {self.client.base_url}>"

    # Who and where -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.client.base_url

    @property
    def app_url(self) -> str:
        """Where the W&B UI of this server lives (``wandb.ai`` for the cloud API)."""
        parts = urlsplit(self.base_url)
        if parts.hostname and parts.hostname.startswith("api.") and "wandb" in parts.hostname:
            return f"{parts.scheme}://{parts.hostname[4:]}"
        return self.base_url

    @cached_property
    def viewer(self) -> dict[str, Any]:
        """The user the API key belongs to (``id``, ``entity``, ``username``, ``email``)."""
        viewer = self.client.execute(queries.VIEWER)["viewer"]
        if viewer is None:
            raise AuthenticationError("the server does not recognise this API key")
        return viewer

    @property
    def default_entity(self) -> str:
        """The entity used when a path names none: ``overrides``, else the viewer's."""
        return self._entity or self.viewer["entity"]

    @property
    def default_project(self) -> str:
        return self._project or DEFAULT_PROJECT

    @cached_property
    def server_features(self) -> frozenset[str]:
        reply = self.client.execute(queries.SERVER_FEATURES)["serverInfo"] or {}
        return frozenset(f["name"] for f in reply.get("features") or [] if f["isEnabled"])

    # Projects ------------------------------------------------------------------------------------

    def project(self, name: str, entity: str | None = None) -> Project:
        entity = entity or self.default_entity
        found = self.client.execute(queries.PROJECT, {"entity": entity, "project": name})
        if found["project"] is None:
            raise NotFoundError(f"project {entity}/{name} not found")
        return Project(entity, found["project"]["name"], found["project"]["id"])

    def create_project(self, name: str, entity: str | None = None) -> Project:
        entity = entity or self.default_entity
        reply = self.client.execute(
            queries.CREATE_PROJECT,
            {"input": {"name": validate_name(name, "project name"), "entityName": entity}},
        )
        created = reply["result"]["project"]
        return Project(created["entityName"], created["name"], created["id"])

    # Runs ------------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        run_id: str | None = None,
        project: str | None = None,
        entity: str | None = None,
        group: str | None = None,
        job_type: str | None = None,
        config: dict[str, Any] | None = None,
        display_name: str | None = None,
        tags: list[str] | None = None,
    ) -> Run:
        """Create (or resume, for an existing ``run_id``) a run to log and use artifacts."""
        from .run import Run

        return Run.upsert(
            self,
            entity=entity or self.default_entity,
            project=project or self.default_project,
            run_id=validate_name(run_id or secrets.token_hex(4), "run id"),
            group=group,
            job_type=job_type,
            config=config,
            display_name=display_name,
            tags=tags,
        )

    def run(self, path: str) -> Run:
        """The run at ``entity/project/run_id`` (or ``project/run_id``, ``run_id``)."""
        from .run import Run

        parts = path.strip("/").split("/")
        if parts[-2:-1] == ["runs"]:
            del parts[-2]
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise InvalidInputError(f"run path {path!r} must look like entity/project/run_id")
        run_id = parts[-1]
        project = parts[-2] if len(parts) >= 2 else self.default_project
        entity = parts[-3] if len(parts) == 3 else self.default_entity
        return Run.fetch(self, entity, project, run_id)

    # Artifacts -------------------------------------------------------------------------------

    def artifact_path(self, name: str) -> ArtifactPath:
        path = ArtifactPath.parse(name, entity=self.default_entity, project=self.default_project)
        return self.in_registry_entity(path)

    def in_registry_entity(self, path: ArtifactPath) -> ArtifactPath:
        """Registry collections (``wandb-registry-*`` projects) live in the org's entity."""
        if not path.project.startswith(REGISTRY_PREFIX):
            return path
        return ArtifactPath(self.org_entity(path.entity), path.project, path.name, path.alias)

    def _org_of(self, entity: str) -> dict[str, Any]:
        """``entity``'s organization (its own, else the only one its user belongs to)."""
        if entity not in self._orgs_of_entities:
            found = self.client.execute(queries.FETCH_ORG_INFO, {"entity": entity})["entity"] or {}
            orgs = [found.get("organization")] if found.get("organization") else []
            orgs = orgs or (found.get("user") or {}).get("organizations") or []
            if len(orgs) != 1 or not orgs[0].get("orgEntity"):
                raise NotFoundError(
                    f"no single organization for entity {entity!r}: name the organization "
                    "(organization=..., or the org's entity in a path: "
                    "org-entity/wandb-registry-NAME/collection)"
                )
            self._orgs_of_entities[entity] = orgs[0]
        return self._orgs_of_entities[entity]

    def org_entity(self, entity: str) -> str:
        """The entity of ``entity``'s organization, where its Registry lives."""
        return self._org_of(entity)["orgEntity"]["name"]

    def artifact(self, name: str, type: str | None = None) -> Artifact:  # noqa: A002 - W&B's name
        """The logged version ``[[entity/]project/]name[:alias]`` (``latest`` by default)."""
        from .artifact import Artifact

        path = self.artifact_path(name)
        reply = self.client.execute(
            queries.ARTIFACT_BY_NAME,
            {"entity": path.entity, "project": path.project, "name": f"{path.name}:{path.alias}"},
        )
        membership = (reply["project"] or {}).get("artifactCollectionMembership")
        if membership is None:
            raise NotFoundError(f"artifact {path} not found")
        # Asked by alias, the version keeps that name (``data:best``), as the SDK's does.
        asked = f"{path.name}:{path.alias}" if ":" in name.rpartition("/")[2] else None
        artifact = Artifact._from_membership(self, membership, asked)
        if type is not None and artifact.type != type:
            raise InvalidInputError(f"artifact {path} has type {artifact.type!r}, not {type!r}")
        return artifact

    def artifact_exists(self, name: str, type: str | None = None) -> bool:  # noqa: A002
        try:
            self.artifact(name, type)
        except NotFoundError:
            return False
        return True

    def artifact_by_id(self, artifact_id: str) -> Artifact:
        from .artifact import Artifact

        node = self.client.execute(queries.ARTIFACT_BY_ID, {"id": artifact_id})["artifact"]
        if node is None:
            raise NotFoundError(f"artifact {artifact_id} not found")
        return Artifact._from_node(self, node)

    # Listing -------------------------------------------------------------------------------------

    def _project_path(self, project: str | None) -> tuple[str, str]:
        """(entity, project) of ``entity/project``, ``project`` or the defaults."""
        if project and "/" in project:
            entity, _, name = project.partition("/")
            return entity, name
        return self.default_entity, project or self.default_project

    def projects(self, entity: str | None = None, per_page: int = 200) -> Projects:
        return Projects(self, entity or self.default_entity, per_page)

    def runs(
        self,
        path: str | None = None,
        filters: dict[str, Any] | None = None,
        order: str = "+created_at",
        per_page: int = 50,
    ) -> Runs:
        """Runs of ``entity/project`` matching MongoDB-style ``filters``
        (``$and $or $nor $eq $ne $gt $gte $lt $lte $in $nin $exists $regex`` on run fields,
        ``config.*`` and ``summary_metrics.*``), in ``order`` (``+field`` / ``-field``)."""
        entity, project = self._project_path(path)
        return Runs(self, entity, project, filters, order, per_page)

    def artifact_types(self, project: str | None = None) -> ArtifactTypes:
        entity, name = self._project_path(project)
        return ArtifactTypes(self, entity, name)

    def artifact_type(self, type_name: str, project: str | None = None) -> ArtifactType:
        entity, name = self._project_path(project)
        return ArtifactType(self, entity, name, type_name)

    def _collection_path(self, name: str) -> ArtifactPath:
        return self.in_registry_entity(
            ArtifactPath.parse(name, entity=self.default_entity, project=self.default_project)
        )

    def artifact_collections(
        self,
        project_name: str,
        type_name: str,
        per_page: int = 50,
        *,
        filters: dict[str, Any] | None = None,
        order: str | None = None,
        start: str | None = None,
    ) -> ArtifactCollections:
        """Collections of a type; ``filters`` on ``name``, ``tag``, ``description``,
        ``created_at``, ``updated_at``; ``order`` such as ``-created_at`` or ``+name``."""
        entity, project = self._project_path(project_name)
        return ArtifactCollections(
            self, entity, project, type_name, per_page, filters, order, start
        )

    def artifact_collection(self, type_name: str, name: str) -> ArtifactCollection:
        """The collection ``[[entity/]project/]name`` of type ``type_name``."""
        path = self._collection_path(name)
        return ArtifactCollection.fetch(self, path.entity, path.project, type_name, path.name)

    def artifact_collection_exists(self, name: str, type: str) -> bool:  # noqa: A002
        try:
            self.artifact_collection(type, name)
        except NotFoundError:
            return False
        return True

    def artifacts(
        self,
        type_name: str,
        name: str,
        per_page: int = 50,
        tags: str | list[str] | None = None,
        *,
        order: str | None = None,
        start: str | None = None,
    ) -> Artifacts:
        """The versions of collection ``[[entity/]project/]name``, newest first unless
        ``order`` says (``+created_at``, ``-artifact_size``...)."""
        path = self._collection_path(name)
        return Artifacts(
            self,
            path.entity,
            path.project,
            path.name,
            type_name,
            order=order,
            per_page=per_page,
            tags=tags,
            start=start,
        )

    def artifact_versions(self, type_name: str, name: str, per_page: int = 50) -> Artifacts:
        """Deprecated: use :meth:`artifacts`."""
        warnings.warn(
            "artifact_versions is deprecated: use artifacts", DeprecationWarning, stacklevel=2
        )
        return self.artifacts(type_name, name, per_page)

    # Registry ------------------------------------------------------------------------------------

    def _organization_name(self, organization: str | None) -> str:
        """The organization named, else the one of ``overrides``, else the default entity's."""
        return organization or self._organization or self._org_of(self.default_entity)["name"]

    def organization_entity(self, organization: str) -> str:
        """The entity of the organization named ``organization``, which holds its registries."""
        if organization not in self._org_entities:
            reply = self.client.execute(queries.FETCH_ORGANIZATION, {"org": organization})
            found = reply["organization"]
            if not found or not found.get("orgEntity"):
                raise NotFoundError(f"organization {organization!r} not found")
            self._org_entities[organization] = found["orgEntity"]["name"]
        return self._org_entities[organization]

    def registries(
        self,
        organization: str | None = None,
        filter: dict[str, Any] | None = None,  # noqa: A002 - the SDK's name
        order: str | None = None,
        per_page: int = 100,
        start: str | None = None,
    ) -> Registries:
        """The organization's registries, searchable further with ``.collections()`` and
        ``.versions()``; filter on ``name``, ``description``, ``created_at``, ``updated_at``.

        Example::

            api.registries(filter={"name": {"$regex": "model"}}).versions(
                filter={"$or": [{"tag": "prod"}, {"alias": "best"}]}
            )
        """
        return Registries(
            self, self._organization_name(organization), filter, order, per_page, start
        )

    def registry(self, name: str, organization: str | None = None) -> Registry:
        """The registry ``name`` (without the ``wandb-registry-`` prefix)."""
        organization = self._organization_name(organization)
        return Registry(self, organization, self.organization_entity(organization), name).load()

    def create_registry(
        self,
        name: str,
        visibility: Literal["organization", "restricted"],
        organization: str | None = None,
        description: str | None = None,
        artifact_types: list[str] | None = None,
    ) -> Registry:
        """A new registry; ``artifact_types`` restricts what can be linked into it (all types
        when omitted). Raises :class:`InvalidInputError` when the name is taken."""
        organization = self._organization_name(organization)
        return Registry.create(self, organization, name, visibility, description, artifact_types)

    def from_path(self, path: str) -> Any:
        """The object a W&B path or URL names: a run (``e/p/runs/id``) or an artifact version
        (``e/p/artifacts/type/name/version``)."""
        parts = (
            [part for part in urlsplit(path).path.split("/") if part]
            if "://" in path
            else [part for part in path.split("/") if part]
        )
        if len(parts) == 4 and parts[2] == "runs":
            return self.run("/".join(parts))
        if len(parts) == 6 and parts[2] == "artifacts":
            entity, project, _, type_name, name, version = parts
            return self.artifact(f"{entity}/{project}/{name}:{version}", type=type_name)
        raise InvalidInputError(
            f"{path!r} names neither a run (entity/project/runs/id) nor an artifact version "
            "(entity/project/artifacts/type/name/version)"
        )
