"""``Run``: the W&B run that logs and uses artifact versions (lineage)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import queries
from .errors import ArtifactNotLoggedError, NotFoundError
from .names import ArtifactPath, validate_alias, validate_tag

if TYPE_CHECKING:
    from .api import Api
    from .artifact import Artifact
    from .paginators import RunArtifacts


class Run:
    """A W&B run, created through ``UpsertBucket`` and finished through its file stream.

    Example::

        run = api.create_run(project="demo", job_type="train")
        run.use_artifact("dataset:latest")
        run.log_artifact(model)
        run.finish()
    """

    def __init__(self, api: Api, entity: str, project: str, run_id: str, attrs: dict) -> None:
        self._api = api
        self.entity = entity
        self.project = project
        self.id = run_id
        self._attrs = attrs

    @classmethod
    def upsert(
        cls,
        api: Api,
        *,
        entity: str,
        project: str,
        run_id: str,
        group: str | None,
        job_type: str | None,
        config: dict[str, Any] | None,
        display_name: str | None,
        tags: list[str] | None,
    ) -> Run:
        reply = api.client.execute(
            queries.UPSERT_RUN,
            {
                "name": run_id,
                "project": project,
                "entity": entity,
                "groupName": group,
                "displayName": display_name,
                "config": None if config is None else json.dumps(_as_wandb_config(config)),
                "jobType": job_type,
                "tags": tags,
            },
        )
        bucket = reply["upsertBucket"]["bucket"]
        attrs = {
            "group": group,
            "jobType": job_type,
            "config": bucket.get("config"),
            "state": "running",
            "displayName": bucket.get("displayName"),
        }
        return cls(api, entity, project, bucket["name"], attrs)

    @classmethod
    def fetch(cls, api: Api, entity: str, project: str, run_id: str) -> Run:
        reply = api.client.execute(
            queries.RUN, {"entity": entity, "project": project, "name": run_id}
        )
        run = (reply["project"] or {}).get("run")
        if run is None:
            raise NotFoundError(f"run {entity}/{project}/{run_id} not found")
        return cls(api, entity, project, run["name"], run)

    def __repr__(self) -> str:
        return f"<Run {self.path}>"

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def url(self) -> str:
        return f"{self._api.app_url}/{self.entity}/{self.project}/runs/{self.id}"

    @property
    def name(self) -> str:
        return self._attrs.get("displayName") or self.id

    @property
    def group(self) -> str | None:
        return self._attrs.get("group")

    @property
    def job_type(self) -> str | None:
        return self._attrs.get("jobType")

    @property
    def state(self) -> str | None:
        return self._attrs.get("state")

    @property
    def config(self) -> dict[str, Any]:
        raw = json.loads(self._attrs.get("config") or "{}")
        return {
            key: value.get("value") if isinstance(value, dict) else value
            for key, value in raw.items()
            if not key.startswith("_")
        }

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads(self._attrs.get("summaryMetrics") or "{}")

    # Artifacts ---------------------------------------------------------------------------------

    def log_artifact(
        self,
        artifact: Artifact,
        aliases: list[str] | None = None,
        tags: list[str] | None = None,
        *,
        dedup: bool = True,
    ) -> Artifact:
        """Log a draft as a new version of its collection (``latest`` moves to it).

        With ``dedup`` (W&B's default) a draft whose digest equals the collection's
        ``latest`` makes no new version: the aliases are added to that version instead.
        """
        from .publishing import log_artifact

        aliases = [validate_alias(a) for a in (aliases or [])]
        tags = [validate_tag(t) for t in (tags or [])]
        return log_artifact(self._api, self, artifact, aliases, tags, dedup=dedup)

    def use_artifact(
        self,
        artifact_or_name: Artifact | str,
        type: str | None = None,  # noqa: A002 - W&B's name
        aliases: list[str] | None = None,
        use_as: str | None = None,
    ) -> Artifact:
        """Record a logged version as an input of this run and return it."""
        from .artifact import Artifact

        if isinstance(artifact_or_name, Artifact):
            artifact = artifact_or_name
            if artifact.is_draft():
                raise ArtifactNotLoggedError(
                    "use_artifact needs a logged artifact: log the draft first"
                )
        else:
            # A short name resolves in the run's own project, as in the SDK.
            path = ArtifactPath.parse(artifact_or_name, entity=self.entity, project=self.project)
            artifact = self._api.artifact(str(path), type=type)
        self._api.client.execute(
            queries.USE_ARTIFACT,
            {
                "entityName": self.entity,
                "projectName": self.project,
                "runName": self.id,
                "artifactID": artifact.id,
                "usedAs": use_as,
            },
        )
        if aliases:
            artifact.aliases.extend(a for a in aliases if a not in artifact.aliases)
            artifact.save()
        return artifact

    def logged_artifacts(self, per_page: int = 100) -> RunArtifacts:
        from .paginators import RunArtifacts

        return RunArtifacts(self._api, self, "logged", per_page)

    def used_artifacts(self, per_page: int = 100) -> RunArtifacts:
        from .paginators import RunArtifacts

        return RunArtifacts(self._api, self, "used", per_page)

    def finish(self, exit_code: int = 0) -> None:
        """Mark the run finished (``crashed`` for a non-zero exit code), as the SDK does."""
        url = f"{self._api.base_url}/files/{self.entity}/{self.project}/{self.id}/file_stream"
        self._api.client.request(
            "POST", url, authenticated=True, json={"complete": True, "exitcode": exit_code}
        )
        self._attrs["state"] = "finished" if exit_code == 0 else "crashed"


def _as_wandb_config(config: dict[str, Any]) -> dict[str, Any]:
    """W&B stores run config as ``{key: {"value": v, "desc": None}}``."""
    return {key: {"value": value, "desc": None} for key, value in config.items()}
