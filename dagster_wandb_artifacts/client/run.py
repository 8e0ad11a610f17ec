"""``Run``: the W&B run that logs and uses artifact versions (lineage)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import history as history_reads
from . import queries
from .attrs import Attrs
from .errors import ArtifactNotLoggedError, NotFoundError
from .names import ArtifactPath, validate_alias, validate_tag
from .summary import RunConfig, RunSummary
from .users import User

#: Config keys W&B keeps for itself: in ``rawconfig``, not in ``config`` (as the SDK splits them).
_INTERNAL_CONFIG = frozenset({"_wandb", "wandb_version"})

if TYPE_CHECKING:
    from .api import Api
    from .artifact import Artifact
    from .paginators import RunArtifacts


class Run(Attrs):
    """A W&B run, created through ``UpsertBucket`` and finished through its file stream.

    As the SDK's ``Run``, every field of the server's run reads as an attribute by its
    snake_case name (``display_name``, ``tags``, ``created_at``, ``history_keys``,
    ``sweep_name``, ``notes``...); ``path`` is ``[entity, project, run_id]``.

    Example::

        run = api.create_run(project="demo", job_type="train")
        run.use_artifact("dataset:latest")
        run.log_artifact(model)
        run.finish()
    """

    def __init__(self, api: Api, entity: str, project: str, run_id: str, attrs: dict) -> None:
        super().__init__(attrs)
        self._api = api
        self.entity = entity
        self.project = project
        self.id = run_id
        self._summary: RunSummary | None = None
        self._writer: history_reads.HistoryWriter | None = None

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
        return cls(api, entity, project, bucket["name"], bucket)

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
        return f"<Run {'/'.join(self.path)} ({self.state})>"

    @property
    def path(self) -> list[str]:
        return [quote(part, safe="") for part in (self.entity, self.project, self.id)]

    @property
    def url(self) -> str:
        return f"{self._api.app_url}/{self.entity}/{self.project}/runs/{self.id}"

    @property
    def name(self) -> str | None:
        """The run's display name (the SDK's ``name``; ``id`` is its unique name)."""
        return self._attrs.get("displayName")

    @property
    def storage_id(self) -> str:
        return self._attrs["id"]

    @property
    def state(self) -> str:
        return self._attrs.get("state") or "not found"

    @property
    def user(self) -> User | None:
        found = self._attrs.get("user")
        return User(found) if found else None

    @property
    def config(self) -> RunConfig:
        """The run's config; ``config.update({...})`` and ``config[key] = value`` save it."""
        return RunConfig(
            {key: value for key, value in self._config().items() if key not in _INTERNAL_CONFIG},
            self._save_config,
        )

    def _save_config(self, config: dict[str, Any]) -> None:
        internal = {k: v for k, v in self._config().items() if k in _INTERNAL_CONFIG}
        encoded = json.dumps(_as_wandb_config({**internal, **config}))
        self._api.client.execute(
            queries.UPSERT_CONFIG, {"id": self.storage_id, "config": encoded}
        )
        self._attrs["config"] = encoded

    @property
    def rawconfig(self) -> dict[str, Any]:
        return self._config()

    def _config(self) -> dict[str, Any]:
        raw = _as_dict(self._attrs.get("config"))
        return {
            key: value["value"] if isinstance(value, dict) and "value" in value else value
            for key, value in raw.items()
        }

    @property
    def summary(self) -> RunSummary:
        """The run's summary, as the SDK's ``HTTPSummary``: ``summary["loss"]``,
        ``summary.loss``; ``summary.update({...})`` saves it. Each value ``log`` commits is
        the summary's value for its key until the summary is set otherwise."""
        if self._summary is None:
            values = _as_dict(self._attrs.get("summaryMetrics"))
            self._summary = RunSummary(values, self._save_summary)
        return self._summary

    def _save_summary(self, summary_json: str) -> None:
        if self._writer is not None:
            self._writer.save_summary(summary_json)
        else:
            self._api.client.execute(
                queries.UPSERT_SUMMARY, {"id": self.storage_id, "summaryMetrics": summary_json}
            )
        self._attrs["summaryMetrics"] = summary_json

    @property
    def summary_metrics(self) -> dict[str, Any]:
        return _as_dict(self._attrs.get("summaryMetrics"))

    # History -----------------------------------------------------------------------------------

    def log(
        self, data: dict[str, Any], step: int | None = None, commit: bool | None = None
    ) -> None:
        """Log a row of metrics, as ``wandb.log``: sent in batches through the run's file
        stream; ``finish`` (or ``flush``) sends what is left."""
        if self._writer is None:
            self._writer = history_reads.HistoryWriter(
                self,
                first_line=int(self._attrs.get("historyLineCount") or 0),
                step=self.lastHistoryStep + 1,
            )
        self._writer.log(data, step, commit)

    def flush(self) -> None:
        """Send the rows logged since the last flush, with the summary, now; with none, read
        the run again instead (another client, e.g. ``wandb.init(id=run.id,
        resume="must")``, may have logged into it)."""
        if self._writer is not None and (self._writer.dirty or self._writer.pending):
            self._writer.flush()
        else:
            self.load(force=True)

    def load(self, force: bool = False) -> None:
        """Read the run's fields from the server again (with ``force``, as the SDK)."""
        if force:
            self._attrs = Run.fetch(self._api, self.entity, self.project, self.id)._attrs
            self._summary = None

    @property
    def step(self) -> int:
        """The step the next logged row gets."""
        return self._writer.step if self._writer is not None else self.lastHistoryStep + 1

    @property
    def lastHistoryStep(self) -> int:  # noqa: N802 - the SDK's name
        return int((self._attrs.get("historyKeys") or {}).get("lastStep", -1))

    # Reads, with the SDK's signatures (functions of the run, defined with the writer).
    history = history_reads.history
    scan_history = history_reads.scan_history

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
        """Send what ``log`` left, then mark the run finished (``crashed`` for a non-zero exit
        code), as the SDK does."""
        if self._writer is not None:
            self._writer.finish(exit_code)
        else:
            url = f"{self._api.base_url}/files/{self.entity}/{self.project}/{self.id}/file_stream"
            self._api.client.request(
                "POST", url, authenticated=True, json={"complete": True, "exitcode": exit_code}
            )
        self._attrs["state"] = "finished" if exit_code == 0 else "crashed"


def _as_dict(value: str | dict[str, Any] | None) -> dict[str, Any]:
    """A JSON field of the run (the server sends a string) as a dict."""
    if isinstance(value, dict):
        return value
    return json.loads(value) if value else {}


def _as_wandb_config(config: dict[str, Any]) -> dict[str, Any]:
    """W&B stores run config as ``{key: {"value": v, "desc": None}}``."""
    return {key: {"value": value, "desc": None} for key, value in config.items()}
