"""``Api``'s sweeps, reports, custom charts, Launch queues and jobs, named as in ``wandb.Api``.

These read and write what W&B stores; nothing here runs a sweep agent or launches a job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from .errors import InvalidInputError, NotFoundError
from .queries import workspace as queries
from .queued_run import QueuedRun

if TYPE_CHECKING:
    from .artifact import Artifact
    from .transport import GraphQLClient

#: The project W&B keeps Launch queues in.
LAUNCH_PROJECT = "model-registry"


@dataclass(frozen=True)
class Sweep:
    id: str
    entity: str
    project: str
    config: dict[str, Any]
    state: str | None
    method: str | None
    run_count: int
    display_name: str | None = None
    best_loss: float | None = None

    @property
    def path(self) -> list[str]:
        return [self.entity, self.project, self.id]


@dataclass(frozen=True)
class Report:
    id: str
    name: str
    display_name: str | None
    description: str | None
    spec: dict[str, Any]
    created_at: str
    updated_at: str | None


@dataclass
class RunQueue:
    """A Launch queue; ``items`` lists what waits in it (nothing runs on the embedded server)."""

    name: str
    entity: str
    id: str
    access: str | None
    prioritization_mode: str | None
    type: str | None
    default_resource_config: dict[str, Any]
    template_variables: list[dict[str, Any]]
    external_links: dict[str, str]
    items: list[dict[str, Any]] = field(default_factory=list)


class WorkspaceMethods:
    """Mixed into ``Api``."""

    client: GraphQLClient
    path_entity: str
    default_project: str

    def _split(self, path: str, parts: int) -> list[str]:
        """``path`` as its last ``parts`` names, the entity and project defaulted."""
        names = [name for name in path.split("/") if name]
        defaults = [self.path_entity, self.default_project]
        return [*defaults[: max(0, parts - len(names))], *names][-parts:]

    def sweep(self, path: str = "") -> Sweep:
        """The sweep at ``entity/project/sweep_id``."""
        entity, project, sweep_id = self._split(path, 3)
        found = self.client.execute(
            queries.SWEEP, {"entity": entity, "project": project, "name": sweep_id}
        )
        node = (found.get("project") or {}).get("sweep")
        if node is None:
            raise NotFoundError(f"no sweep {sweep_id} in {entity}/{project}")
        config = yaml.safe_load(node["config"] or "") or {}
        return Sweep(
            node["name"],
            entity,
            project,
            config,
            node.get("state"),
            node.get("method"),
            node.get("runCount") or 0,
            node.get("displayName"),
            node.get("bestLoss"),
        )

    def reports(self, path: str = "", name: str | None = None, per_page: int = 50) -> list[Report]:
        """The reports of ``entity/project`` (the one named ``name``, if given)."""
        entity, project = self._split(path, 2)
        found, cursor = [], None
        while True:
            reply = self.client.execute(
                queries.REPORTS,
                {
                    "entity": entity,
                    "project": project,
                    "viewName": name,
                    "reportLimit": per_page,
                    "reportCursor": cursor,
                },
            )
            views = (reply.get("project") or {}).get("allViews")
            if views is None:
                raise NotFoundError(f"no project {entity}/{project}")
            found += [_report(edge["node"]) for edge in views["edges"]]
            if not views["pageInfo"]["hasNextPage"]:
                return found
            cursor = views["pageInfo"]["endCursor"]

    def create_custom_chart(
        self,
        entity: str,
        name: str,
        display_name: str,
        spec_type: str,
        access: str,
        spec: str | dict[str, Any],
    ) -> str:
        """Save a Vega chart preset; its ID is what ``wandb.plot_table`` takes."""
        reply = self.client.execute(
            queries.CREATE_CUSTOM_CHART,
            {
                "entity": entity,
                "chartName": name,
                "displayName": display_name,
                "chartType": spec_type,
                "access": access.upper(),
                "spec": spec if isinstance(spec, str) else json.dumps(spec),
            },
        )
        return reply["createCustomChart"]["chart"]["id"]

    def create_run_queue(
        self,
        name: str,
        type: str,  # noqa: A002 - W&B's name
        entity: str | None = None,
        prioritization_mode: str | None = None,
        config: dict[str, Any] | None = None,
        template_variables: dict[str, Any] | None = None,
    ) -> RunQueue:
        """A new Launch queue for ``type`` resources (``local-process``, ``kubernetes``...)."""
        entity = entity or self.path_entity
        self.create_project(LAUNCH_PROJECT, entity)  # type: ignore[attr-defined]
        created = self.client.execute(
            queries.CREATE_DEFAULT_RESOURCE_CONFIG,
            {
                "entityName": entity,
                "resource": type,
                "config": json.dumps({"resource_args": {type: config or {}}}),
                "templateVariables": json.dumps(template_variables or {}),
            },
        )["createDefaultResourceConfig"]
        self.client.execute(
            queries.CREATE_RUN_QUEUE,
            {
                "entity": entity,
                "project": LAUNCH_PROJECT,
                "queueName": name,
                "access": "PROJECT",
                "prioritizationMode": prioritization_mode.upper() if prioritization_mode else None,
                "defaultResourceConfigID": created["defaultResourceConfigID"],
            },
        )
        return self.run_queue(entity, name)

    def upsert_run_queue(
        self,
        name: str,
        resource_config: dict[str, Any],
        resource_type: str,
        entity: str | None = None,
        template_variables: dict[str, Any] | None = None,
        external_links: dict[str, str] | None = None,
        prioritization_mode: str | None = None,
    ) -> RunQueue:
        """Create the queue, or replace its resource config."""
        entity = entity or self.path_entity
        self.client.execute(
            queries.UPSERT_RUN_QUEUE,
            {
                "entityName": entity,
                "projectName": LAUNCH_PROJECT,
                "queueName": name,
                "resourceType": resource_type,
                "resourceConfig": json.dumps(resource_config),
                "templateVariables": json.dumps(template_variables) if template_variables else None,
                "externalLinks": json.dumps(external_links) if external_links else None,
                "prioritizationMode": prioritization_mode.upper() if prioritization_mode else None,
            },
        )
        return self.run_queue(entity, name)

    def run_queue(self, entity: str, name: str) -> RunQueue:
        reply = self.client.execute(
            queries.RUN_QUEUE,
            {"entityName": entity, "projectName": LAUNCH_PROJECT, "runQueue": name},
        )
        node = (reply.get("project") or {}).get("runQueue")
        if node is None:
            raise NotFoundError(f"no run queue {name!r} in {entity!r}")
        resource: dict[str, Any] = {}
        if node["defaultResourceConfigID"]:
            resource = self.client.execute(
                queries.DEFAULT_RESOURCE_CONFIG,
                {"entityName": entity, "id": node["defaultResourceConfigID"]},
            )["entity"]["defaultResourceConfig"]
        links = node.get("externalLinks")
        return RunQueue(
            name=name,
            entity=entity,
            id=node["id"],
            access=node.get("access"),
            prioritization_mode=node.get("prioritizationMode"),
            type=resource.get("resource"),
            default_resource_config=resource.get("config") or {},
            template_variables=resource.get("templateVariables") or [],
            external_links=json.loads(links) if isinstance(links, str) else links or {},
            items=[edge["node"] for edge in node["runQueueItems"]["edges"]],
        )

    def queued_run(
        self,
        entity: str,
        project: str,
        queue_name: str,
        run_queue_item_id: str,
        project_queue: str | None = None,
        priority: str | int | None = None,
    ) -> QueuedRun:
        """The item ``run_queue_item_id`` of a queue, looked up only when it is used (the
        embedded server never holds one)."""
        return QueuedRun(
            self,  # type: ignore[arg-type]
            entity,
            project,
            queue_name,
            run_queue_item_id,
            project_queue=project_queue,
            priority=priority,
        )

    def job(self, name: str | None, path: str | None = None) -> Artifact:
        """The job artifact ``name`` (a W&B Launch job is an artifact of type ``job``)."""
        if not name:
            raise InvalidInputError("give the job's name: entity/project/job-name:alias")
        return self.artifact(name, type="job")  # type: ignore[attr-defined]

    def list_jobs(self, entity: str, project: str) -> list[dict[str, Any]]:
        """The versions of each job collection of ``entity/project``, as W&B lists them."""
        reply = self.client.execute(
            queries.JOBS,
            {"entityName": entity, "projectName": project, "artifactTypeName": "job"},
        )
        job_type = (reply.get("project") or {}).get("artifactType")
        if job_type is None:
            return []
        return [edge["node"]["artifacts"] for edge in job_type["artifactCollections"]["edges"]]

    def sync_tensorboard(
        self,
        root_dir: str,
        run_id: str | None = None,
        project: str | None = None,
        entity: str | None = None,
    ) -> None:
        """Not offered: reading TensorBoard event files needs TensorBoard's parser, which this
        client does not depend on."""
        raise NotImplementedError(
            "sync_tensorboard is not offered by this client: run `wandb sync "
            f"--sync-tensorboard {root_dir}` with the wandb SDK instead"
        )


def _report(node: dict[str, Any]) -> Report:
    spec = node.get("spec")
    return Report(
        node["id"],
        node["name"],
        node.get("displayName"),
        node.get("description"),
        json.loads(spec) if isinstance(spec, str) and spec else {},
        node["createdAt"],
        node.get("updatedAt"),
    )
