"""``Api``: the entry point of the client, named and behaving like ``wandb.Api``."""

from __future__ import annotations

import netrc
import os
import secrets
import warnings
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from ..formats.names import REGISTRY_PREFIX
from . import queries
from .automations_api import AutomationMethods
from .cache import ArtifactCache
from .collections import ArtifactCollection, ArtifactType
from .errors import AuthenticationError, InvalidInputError, NotFoundError
from .names import ArtifactPath, validate_name
from .paginators import ArtifactCollections, Artifacts, ArtifactTypes, Projects, Runs
from .projects import Project
from .registries import Registries, Registry
from .transfer import TransferSettings
from .transport import GraphQLClient, RetryPolicy
from .users import User, UserMethods
from .workspace import WorkspaceMethods

if TYPE_CHECKING:
    from .artifact import Artifact
    from .run import Run

DEFAULT_BASE_URL = "https://api.wandb.ai"
DEFAULT_PROJECT = "uncategorized"
#: The overrides ``wandb.Api`` documents.
SETTINGS = ("base_url", "entity", "project", "organization", "run")
USER_AGENT = "dagster-wandb-artifacts"


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


class Api(AutomationMethods, UserMethods, WorkspaceMethods):
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
        overrides: dict[str, Any] | None = None,
        timeout: float | None = None,
        api_key: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        cache: ArtifactCache | None = None,
        transfer: TransferSettings | None = None,
        storage_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        if isinstance(overrides, str):
            raise TypeError(
                "Api(overrides, timeout, api_key) takes the SDK's order: pass the key as api_key="
            )
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(SETTINGS)
        if unknown:
            raise InvalidInputError(
                f"unknown overrides {sorted(unknown)}: use {', '.join(SETTINGS)}"
            )
        base_url = overrides.get("base_url") or os.environ.get("WANDB_BASE_URL") or DEFAULT_BASE_URL
        base_url = base_url.rstrip("/")
        key = api_key or os.environ.get("WANDB_API_KEY") or _key_from_netrc(base_url)
        if not key:
            raise AuthenticationError(
                f"no API key for {base_url}: pass api_key=, set WANDB_API_KEY, or add it to "
                "~/.netrc"
            )
        #: The defaults paths resolve against, as ``wandb.Api.settings``.
        self.settings: dict[str, Any] = {
            "base_url": base_url,
            "entity": overrides.get("entity") or os.environ.get("WANDB_ENTITY"),
            "project": overrides.get("project") or os.environ.get("WANDB_PROJECT"),
            "organization": overrides.get("organization") or os.environ.get("WANDB_ORGANIZATION"),
            "run": overrides.get("run"),
        }
        #: The key this Api authenticates with (``wandb.Api.api_key``); never logged or shown.
        self.api_key = key
        self.client = GraphQLClient(
            base_url,
            key,
            timeout=timeout or 60.0,
            retry=retry or RetryPolicy(),
            user_agent=USER_AGENT,
        )
        self.cache = cache or ArtifactCache.default()
        #: fsspec options per scheme for references, e.g. ``{"s3": {"endpoint_url": ...}}``.
        self.storage_options = storage_options or {}
        self._orgs_of_entities: dict[str, dict[str, Any]] = {}
        self._org_entities: dict[str, str] = {}
        self.transfer = transfer or TransferSettings()
        self._runs: dict[str, Runs] = {}
        self._projects: dict[str, Projects] = {}

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

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` this client sends."""
        return USER_AGENT

    @cached_property
    def viewer(self) -> User:
        """The user the API key belongs to (``entity``, ``username``, ``email``...)."""
        viewer = self.client.execute(queries.VIEWER)["viewer"]
        if viewer is None:
            raise AuthenticationError("the server does not recognise this API key")
        return User(viewer)

    @property
    def default_entity(self) -> str:
        """The viewer's entity (as the SDK's; ``overrides["entity"]`` is :attr:`path_entity`)."""
        return self.viewer.entity

    @property
    def path_entity(self) -> str:
        """The entity a path that names none resolves to: ``overrides["entity"]`` (or
        ``WANDB_ENTITY``), else the viewer's."""
        return self.settings["entity"] or self.default_entity

    @property
    def default_project(self) -> str:
        return self.settings["project"] or DEFAULT_PROJECT

    @cached_property
    def server_features(self) -> frozenset[str]:
        reply = self.client.execute(queries.SERVER_FEATURES)["serverInfo"] or {}
        return frozenset(f["name"] for f in reply.get("features") or [] if f["isEnabled"])

    def flush(self) -> None:
        """Forget what this ``Api`` remembered from the server (the viewer, its features, the
        organizations of entities, the listings of runs), as ``wandb.Api.flush`` forgets its
        runs: the next calls ask the server anew."""
        for name in ("viewer", "server_features"):
            self.__dict__.pop(name, None)
        self._orgs_of_entities.clear()
        self._runs = {}

    # Projects ------------------------------------------------------------------------------------

    def project(self, name: str, entity: str | None = None) -> Project:
        """The project ``name``, not fetched until a field is read (``project.id`` raises
        ``ValueError`` when it does not exist), as the SDK's."""
        if name.startswith(REGISTRY_PREFIX):
            entity = self.org_entity(entity or self.path_entity)
        return Project(self, entity or self.path_entity, name)

    def create_project(self, name: str, entity: str | None = None) -> Project:
        entity = entity or self.path_entity
        reply = self.client.execute(
            queries.CREATE_PROJECT,
            {"input": {"name": validate_name(name, "project name"), "entityName": entity}},
        )
        created = reply["result"]["project"]
        return Project(self, created["entityName"], created["name"], created)

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
            entity=entity or self.path_entity,
            project=project or self.default_project,
            run_id=validate_name(run_id or secrets.token_hex(4), "run id"),
            group=group,
            job_type=job_type,
            config=config,
            display_name=display_name,
            tags=tags,
        )

    def run(self, path: str = "") -> Run:
        """The run at ``entity/project/run_id`` (also ``entity/project/runs/run_id``,
        ``entity/project:run_id``, ``project/run_id``, ``project:run_id`` or ``run_id``)."""
        from .run import Run

        return Run.fetch(self, *self._run_path(path))

    def _run_path(self, path: str) -> tuple[str, str, str]:
        """(entity, project, run id) of a run path, in the forms the SDK accepts."""
        entity, project = self.settings["entity"] or self.default_entity, self.settings["project"]
        run_id = None
        parts = path.replace("/runs/", "/").replace("/sweeps/", "/").strip("/ ").split("/")
        if len(parts) == 3:
            entity, project, run_id = parts
        elif len(parts) == 2 and ":" in parts[1]:
            entity = parts[0]
            project, run_id = parts[1].split(":", 1)
        elif len(parts) == 2:
            project, run_id = parts
        elif len(parts) == 1 and parts[0]:
            project, run_id = parts[0].split(":", 1) if ":" in parts[0] else (project, parts[0])
        found = [(part or "").strip() for part in (entity, project, run_id)]
        for value, what in zip(found, ("entity", "project", "run id"), strict=True):
            if not value:
                raise InvalidInputError(f"invalid run path {path!r} (missing {what})")
        return found[0], found[1], found[2]

    # Artifacts -------------------------------------------------------------------------------

    def artifact_path(self, name: str) -> ArtifactPath:
        path = ArtifactPath.parse(name, entity=self.path_entity, project=self.default_project)
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
        """Whether the version exists (and, with ``type``, has that type)."""
        try:
            self.artifact(name, type)
        except (NotFoundError, InvalidInputError):
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
        return self.path_entity, project or self.default_project

    def projects(self, entity: str | None = None, per_page: int = 200) -> Projects:
        """The entity's projects; the same listing object for the same entity, as the SDK's."""
        entity = entity or self.path_entity
        if entity not in self._projects:
            self._projects[entity] = Projects(self, entity, per_page)
        return self._projects[entity]

    def runs(
        self,
        path: str | None = None,
        filters: dict[str, Any] | None = None,
        order: str = "+created_at",
        per_page: int = 50,
        include_sweeps: bool = False,
        lazy: bool = True,
    ) -> Runs:
        """Runs of ``entity/project`` matching MongoDB-style ``filters``
        (``$and $or $nor $eq $ne $gt $gte $lt $lte $in $nin $exists $regex`` on run fields,
        ``config.*`` and ``summary_metrics.*``), in ``order`` (``+field`` / ``-field``).

        ``include_sweeps`` and ``lazy`` are accepted for the SDK's sake: sweeps are outside
        this client (a run's sweep is its ``sweep_name``), and every run comes whole."""
        del include_sweeps, lazy
        # The same listing again is the same object, as the SDK keeps it until flush().
        key = f"{path or ''}{filters or {}}{order}"
        if key not in self._runs:
            entity, project = self._project_path(path)
            self._runs[key] = Runs(self, entity, project, filters, order, per_page)
        return self._runs[key]

    def artifact_types(self, project: str | None = None) -> ArtifactTypes:
        entity, name = self._project_path(project)
        return ArtifactTypes(self, entity, name)

    def artifact_type(self, type_name: str, project: str | None = None) -> ArtifactType:
        entity, name = self._project_path(project)
        return ArtifactType(self, entity, name, type_name)

    def _collection_path(self, name: str) -> ArtifactPath:
        return self.in_registry_entity(
            ArtifactPath.parse(name, entity=self.path_entity, project=self.default_project)
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
            self, entity, project, type_name, filters, order, per_page, start
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
        named = organization or self.settings["organization"]
        return named or self._org_of(self.path_entity)["name"]

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

    def from_path(self, path: str) -> Project | Run:
        """The object a W&B path names, as the SDK reads it: ``project`` or
        ``entity/project`` (a :class:`Project`), ``entity/project/run_id`` or
        ``entity/project/runs/run_id`` (a :class:`Run`). Sweeps and reports are outside this
        client; anything else raises ``InvalidInputError``."""
        parts = path.strip("/ ").split("/")
        if len(parts) == 1:
            return self.project(path)
        if len(parts) == 2:
            return self.project(parts[1], parts[0])
        if len(parts) == 3 or (len(parts) == 4 and parts[2].startswith("run")):
            return self.run(path)
        raise InvalidInputError(
            f"invalid path {path!r}: use entity/project, entity/project/run_id or "
            "entity/project/runs/run_id (sweeps and reports are outside this client)"
        )
