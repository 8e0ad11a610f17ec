"""``WandbArtifactsIOManager``: asset outputs as artifact versions, inputs as recorded uses."""

from __future__ import annotations

import hashlib
import os
import pathlib
import re
import sys
import tempfile
import typing
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    ConfigurableIOManager,
    DataVersion,
    InitResourceContext,
    InputContext,
    MetadataValue,
    OutputContext,
)
from pydantic import Field, PrivateAttr
from upath import UPath

from . import drafts, entries, partitions, serializers
from .checks import check_run, metadata_problems
from .client import Artifact, InvalidInputError, NotFoundError, Run
from .client.fs import artifact_upath
from .client.progress import reporting_to
from .config import (
    SerializationModule,
    WandbArtifactConfig,
    WandbInputConfig,
    parse,
    parse_lenient,
)
from .naming import collection_name
from .resource import WandbArtifactsResource
from .runs import STEP_RUNS, StepRuns, finish_step_runs, open_step_run
from .serializers import Pickler, Serializer, Serializers, human_size
from .summary_metadata import exchange_summary

#: Materialization metadata that the downstream load reads back (exact handoff).
VERSION_KEY = "wandb/version"
COLLECTION_KEY = "wandb/collection"
PARTITION_VERSIONS_KEY = "wandb/partition_versions"
PARTITION_DIGESTS_KEY = "wandb/partition_digests"
#: The console script of the embedded server, named in the log line of each logged version.
SERVER_COMMAND = "dagster-wandb-artifacts"
#: The tag Dagster stores an asset materialization's data version under.
_DATA_VERSION_TAG = "dagster/data_version"
_FILES_TABLE_ROWS = 20
#: Versions of at most this many files are kept as logged, for downstream steps in-process.
_KEPT_VERSION_FILES = 1000


def _branch_deployment() -> bool:
    return os.environ.get("DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT") == "1"


def set_data_version(context: OutputContext, digest: str) -> bool:
    """Make the artifact digest the asset's data version.

    An IO manager has no public way to do this (dagster-io/dagster#15584); Dagster reads the
    step's data version cache after ``handle_output`` returns, so setting it here works.
    Returns False where there is no step context (hand-built contexts): metadata only.
    """
    if not _in_step(context):
        return False
    setter = getattr(context.step_context, "set_data_version", None)
    if setter is None or not context.has_asset_key:
        return False
    setter(context.asset_key, DataVersion(digest))
    return True


class WandbArtifactsIOManager(ConfigurableIOManager):
    """Stores each asset output as a W&B Artifact version and loads inputs with ``use_artifact``.

    The collection is the asset key (``prefix.name``); an unchanged output makes no new
    version and uploads nothing; the artifact digest becomes the Dagster data version.
    Per-asset options go in ``metadata={"wandb_artifact": {...}}``
    (:class:`~.config.WandbArtifactConfig`), per-input options in
    ``AssetIn(metadata={"wandb_artifact": {...}})`` (:class:`~.config.WandbInputConfig`).

    Example::

        defs = Definitions(
            assets=[raw, cleaned],
            resources={
                "io_manager": WandbArtifactsIOManager(
                    wandb=WandbArtifactsResource(host="local", project="demo")
                )
            },
        )
    """

    wandb: WandbArtifactsResource
    artifact_type: str = Field(default="dataset", description="Type of new collections.")
    download_dir: str | None = Field(
        default=None,
        description="Where inputs are downloaded (default $WANDB_ARTIFACT_DIR, else a folder "
        "in the system temp dir); files are hard links into the artifact cache.",
    )
    dagster_url: str = Field(
        default_factory=lambda: os.environ.get("DAGSTER_WEBSERVER_URL", "http://localhost:3000"),
        description="Dagster UI URL, for the run links written into W&B.",
    )
    serialization_module: str = Field(
        default="pickle",
        description="Pickler of values no serializer handles: pickle, dill, cloudpickle or "
        "joblib (per asset: serialization_module in its wandb_artifact metadata).",
    )
    serialization_parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Passed to the pickler's dump, e.g. {'protocol': 4} or {'compress': 3}.",
    )

    _serializers: Serializers = PrivateAttr(default_factory=Serializers)

    _runs: StepRuns = PrivateAttr(default_factory=lambda: STEP_RUNS)
    # (Dagster run id, asset key, partition) -> ("entity/project/name:vN", digest) logged by this
    # process: a downstream step in the same process (the in-process executor) needs no event
    # log query.
    _logged_here: dict[tuple[str, AssetKey, str | None], tuple[str, str]] = PrivateAttr(
        default_factory=dict
    )
    # "entity/project/name:vN" -> the version as logged here, manifest included, for the small
    # ones: a downstream step loads it without asking W&B for the version or its manifest.
    _logged_versions: dict[str, Artifact] = PrivateAttr(default_factory=dict)

    def __init__(self, *, serializers: Sequence[Serializer] = (), **config: Any) -> None:
        """``serializers``: your own :class:`~.serializers.Serializer` instances, tried in
        order before the built-ins (they are Python objects, not run config)."""
        super().__init__(**config)
        self._serializers = Serializers(serializers)

    def _with_updated_values(self, values: Mapping[str, Any] | None) -> Any:
        # Dagster rebuilds the resource from its config fields when a run starts: carry the
        # serializers (not config) over to the copy.
        copy = super()._with_updated_values(values)
        copy._serializers = self._serializers
        return copy

    def _pickler(self, config: WandbArtifactConfig) -> Pickler:
        chosen = config.serialization_module or SerializationModule(
            name=self.serialization_module, parameters=self.serialization_parameters
        )
        return Pickler(chosen.name, chosen.parameters)

    # W&B runs ------------------------------------------------------------------------------------

    def _run_for(
        self, context: OutputContext | InputContext, project: str, entity: str | None
    ) -> Run:
        step_context = context.step_context
        return open_step_run(
            self.wandb.get_api(),
            dagster_run_id=step_context.run_id,
            step_key=step_context.step.key,
            job_name=step_context.job_name,
            op_name=context.op_def.name,
            project=project,
            entity=entity,
            dagster_url=self.dagster_url,
        )

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # The wandb_artifact metadata the run's job snapshot holds (inputs' AssetIn/In and ops'
        # Out metadata), checked before any step body runs: a typo fails the run here. An
        # asset's own metadata is not in the snapshot; handle_output keeps its value instead.
        run = context.run
        if context.instance is None or run is None or not run.job_snapshot_id:
            return
        for warning in check_run(context.instance, run, self._serializers.names):
            if context.log is not None:
                context.log.warning(warning)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        finish_step_runs(context)

    # Output --------------------------------------------------------------------------------------

    def _target(
        self, config: WandbArtifactConfig, asset_key: AssetKey
    ) -> tuple[str, str, str | None]:
        name = config.name or collection_name(asset_key.path)
        return name, config.project or self.wandb.project, config.entity or self.wandb.entity

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if obj is None and context.dagster_type.is_nothing:
            return
        asset_key = _output_key(context)
        where = f"asset {asset_key.to_user_string()}"
        metadata = context.definition_metadata
        errors, warned = metadata_problems(
            WandbArtifactConfig, metadata, where, self._serializers.names
        )
        for warning in warned:
            context.log.warning(warning)
        if not errors:
            config: WandbArtifactConfig = parse(WandbArtifactConfig, metadata, where)
            with reporting_to(context.log):
                self._handle_output(context, obj, config, asset_key, where)
            return
        # The body has run: its value is logged under what the typo most likely meant, then
        # the step fails. A re-run with the fixed metadata logs the same files: no upload.
        config, notes = parse_lenient(WandbArtifactConfig, metadata, self._serializers.names)
        with reporting_to(context.log):
            self._handle_output(context, obj, config, asset_key, where)
        raise InvalidInputError(
            "; ".join(errors) + f". The value was logged anyway ({', '.join(notes)}), so the "
            "asset's work is kept: fix the metadata and re-run, and the unchanged value is not "
            "uploaded again"
        )

    def _handle_output(
        self,
        context: OutputContext,
        obj: Any,
        config: WandbArtifactConfig,
        asset_key: AssetKey,
        where: str,
    ) -> None:
        keys = context.asset_partition_keys if context.has_asset_partitions else [None]
        if len(keys) == 1:
            logged, run = self._log(context, obj, config, asset_key, keys[0])
            self._report(context, logged, run)
            if _in_step(context):
                exchange_summary(context, run)
            set_data_version(context, logged.digest)
            self._runs.wait_for_uses(_step_of(context))
            return
        # A single-run backfill over a range: one version per partition key.
        if not isinstance(obj, Mapping) or set(obj) != set(keys):
            raise InvalidInputError(
                f"{where}: this run covers {len(keys)} partitions ({keys[0]} ... {keys[-1]}); "
                "return a dict keyed by partition key with one value per partition, or run "
                "one partition per run"
            )
        versions, digests = {}, {}
        for key in keys:
            logged, run = self._log(context, obj[key], config, asset_key, key)
            versions[key], digests[key] = logged.version, logged.digest
        context.add_output_metadata(
            {
                COLLECTION_KEY: _collection_path(logged),
                PARTITION_VERSIONS_KEY: MetadataValue.json(versions),
                PARTITION_DIGESTS_KEY: MetadataValue.json(digests),
                "wandb/run_url": MetadataValue.url(self._run_url(run)),
            }
        )
        self._runs.wait_for_uses(_step_of(context))

    def _log(
        self,
        context: OutputContext,
        obj: Any,
        config: WandbArtifactConfig,
        asset_key: AssetKey,
        partition: str | None,
    ) -> tuple[Artifact, Run]:
        """Log one value as a version (for one partition, when given); returns it and the run."""
        name, project, entity = self._target(config, asset_key)
        guarded = _branch_deployment() and not config.move_protected_aliases_in_branches
        # The step's run is made (a round trip) while the value is serialized and hashed.
        started = self._runs.submit(self._run_for, context, project, entity)
        with tempfile.TemporaryDirectory(prefix="dagster-wandb-") as staging:
            target = drafts.Target(
                name,
                config.type or self.artifact_type,
                pathlib.Path(staging),
                self._serializers,
                self._pickler(config),
                context.log.warning,
                self.wandb.storage_options,
            )
            draft = drafts.draft_for(obj, config, target)
            artifact = draft.artifact
            aliases = [
                alias
                for alias in dict.fromkeys([*config.aliases, *draft.aliases])
                if not (guarded and alias in config.protected_aliases)
            ]
            tags = list(dict.fromkeys([*config.tags, *draft.tags]))
            context.add_output_metadata(draft.metadata)
            artifact.metadata = {
                **config.metadata,
                **artifact.metadata,
                serializers.SERIALIZER_KEY: draft.serializer,
                "dagster/asset_key": asset_key.to_user_string(),
                "dagster/run_id": context.run_id,
                "dagster/code_version": _code_version(context),
            }
            if partition is not None:
                artifact.metadata = {**artifact.metadata, partitions.KEY_METADATA: partition}
                aliases.append(partitions.partition_alias(partition))
            if artifact.description is None:
                spec_description = context.asset_spec.description if context.has_asset_key else None
                artifact.description = config.description or spec_description
            if config.ttl_days:
                artifact.ttl = timedelta(days=config.ttl_days)
            current = self._partition_version(artifact, partition, project, entity)
            run = started.result()
            if current is not None:
                return self._remember(context, asset_key, partition, current), run
            # Partitions dedup against their own version only, never against `latest`.
            logged = run.log_artifact(
                artifact, aliases=aliases, tags=tags, dedup=partition is None
            )
        if config.link and not guarded:
            linked = logged.link(config.link, aliases=config.link_aliases)
            context.add_output_metadata({"wandb/link": f"{config.link}:{linked.version}"})
        return self._remember(context, asset_key, partition, logged), run

    def _remember(
        self, context: OutputContext, asset_key: AssetKey, partition: str | None, logged: Artifact
    ) -> Artifact:
        key = (context.run_id, asset_key, partition)
        path = f"{_collection_path(logged)}:{logged.version}"
        self._logged_here[key] = (path, logged.digest)
        if logged.file_count <= _KEPT_VERSION_FILES:
            self._logged_versions[path] = logged
        return logged

    def _partition_version(
        self, draft: Artifact, partition: str | None, project: str, entity: str | None
    ) -> Artifact | None:
        """The partition's current version, when it already holds exactly the draft's files."""
        if partition is None:
            return None
        api = self.wandb.get_api()
        path = f"{entity or api.path_entity}/{project}/{draft.collection_name}"
        try:
            current = api.artifact(f"{path}:{partitions.partition_alias(partition)}")
        except NotFoundError:
            return None
        return current if current.digest == draft.digest else None

    def _run_url(self, run: Run) -> str:
        return f"{self.wandb.app_url}/{run.entity}/{run.project}/runs/{run.id}"

    def _report(self, context: OutputContext, logged: Artifact, run: Run) -> None:
        metadata = self._output_metadata(logged, run)
        context.add_output_metadata(metadata)
        where = ""
        if self.wandb.is_local:
            root = pathlib.Path(self.wandb.local_root).resolve()
            # The command by the path of this environment's script, so that it runs as printed.
            command = pathlib.Path(os.path.normpath(sys.executable)).with_name(SERVER_COMMAND)
            port = urlsplit(self.wandb.local_url).port or 80
            where = f" (embedded server; browse: {command} server --root {root} --port {port})"
        context.log.info(
            f"W&B artifact {metadata[COLLECTION_KEY]}:{logged.version} at "
            f"{metadata['wandb/url'].value}{where}"
        )

    def _output_metadata(self, logged: Artifact, run: Run) -> dict[str, Any]:
        app = self.wandb.app_url
        collection = _collection_path(logged)
        url = f"{app}/{logged.entity}/{logged.project}/artifacts/{logged.type}/"
        url += f"{logged.collection_name}/{logged.version}"
        entries = sorted(logged.manifest.entries.values(), key=lambda e: e.path)
        table = "| file | size |\n|---|---|\n" + "\n".join(
            f"| {e.path} | {human_size(e.size or 0)} |" for e in entries[:_FILES_TABLE_ROWS]
        )
        if len(entries) > _FILES_TABLE_ROWS:
            table += f"\n| ... {len(entries) - _FILES_TABLE_ROWS} more | |"
        metadata: dict[str, Any] = {
            "wandb/url": MetadataValue.url(url),
            VERSION_KEY: logged.version,
            COLLECTION_KEY: collection,
            "wandb/digest": logged.digest,
            "wandb/size": human_size(logged.size),
            "wandb/file_count": MetadataValue.int(logged.file_count),
            "wandb/aliases": ", ".join(logged.aliases),
            "wandb/run_url": MetadataValue.url(self._run_url(run)),
            "wandb/files": MetadataValue.md(table),
            "dagster/uri": f"wandb-artifact://{collection}:{logged.version}",
        }
        return metadata

    # Input ---------------------------------------------------------------------------------------

    def _recorded(self, context: InputContext, partition: str | None) -> tuple[str, str] | None:
        """``entity/project/name:vN`` that the upstream's latest Dagster materialization logged,
        and its digest (the data version) when Dagster recorded one, else ``""``."""
        if not context.has_asset_key:
            return None
        if _in_step(context):
            key = (context.step_context.run_id, context.asset_key, partition)
            if key in self._logged_here:
                return self._logged_here[key]
        records = context.instance.fetch_materializations(
            AssetRecordsFilter(
                asset_key=context.asset_key,
                asset_partitions=[partition] if partition is not None else None,
            ),
            limit=1,
        ).records
        materialization = records[0].asset_materialization if records else None
        if materialization is None:
            return None
        metadata = materialization.metadata
        collection, version = metadata.get(COLLECTION_KEY), metadata.get(VERSION_KEY)
        digest = (materialization.tags or {}).get(_DATA_VERSION_TAG, "")
        by_partition = metadata.get(PARTITION_VERSIONS_KEY)
        if by_partition is not None and partition in by_partition.value:
            version = MetadataValue.text(by_partition.value[partition])
            digests = metadata.get(PARTITION_DIGESTS_KEY)
            digest = digests.value.get(partition, "") if digests is not None else ""
        if collection is None or version is None:
            return None
        return f"{collection.value}:{version.value}", digest

    def load_input(self, context: InputContext) -> Any:
        with reporting_to(context.log):
            return self._load_input(context)

    def _load_input(self, context: InputContext) -> Any:
        where = f"input {context.name!r}"
        input_config: WandbInputConfig = parse(WandbInputConfig, context.definition_metadata, where)
        upstream_metadata: Mapping[str, Any] = (
            context.upstream_output.definition_metadata if context.upstream_output else {}
        ) or {}
        upstream_key = _output_key(context.upstream_output)
        config = parse(
            WandbArtifactConfig, upstream_metadata, f"asset {upstream_key.to_user_string()}"
        )
        name, project, entity = self._target(config, upstream_key)
        collection = f"{entity or self.wandb.get_api().path_entity}/{project}/{name}"
        if not context.has_asset_partitions:
            return self._load(context, input_config, collection, None)
        keys = context.asset_partition_keys
        loaded = {}
        for key in keys:
            try:
                loaded[key] = self._load(context, input_config, collection, key)
            except NotFoundError:
                if not input_config.allow_missing_partitions:
                    raise NotFoundError(
                        f"{where}: partition {key!r} of {collection} has no version; "
                        "materialize it first, or set allow_missing_partitions on the input"
                    ) from None
        if len(keys) == 1 and not _wants_dict(context):
            return loaded[keys[0]]
        return loaded

    def _load(
        self,
        context: InputContext,
        input_config: WandbInputConfig,
        collection: str,
        partition: str | None,
    ) -> Any:
        """One version: pinned on the input, else the one Dagster recorded, else by alias."""
        recorded, recorded_digest = self._recorded(context, partition) or (None, "")
        if input_config.alias is not None:
            path = f"{recorded.rpartition(':')[0] if recorded else collection}:{input_config.alias}"
            recorded_digest = ""  # a pinned alias names whatever it points to now
        elif recorded is not None:
            path = recorded
        elif partition is not None:
            path = f"{collection}:{partitions.partition_alias(partition)}"
        else:
            # An external asset (a W&B collection) may name the alias its readers load.
            upstream = (
                context.upstream_output.definition_metadata if context.upstream_output else {}
            )
            path = f"{collection}:{(upstream or {}).get('wandb/alias') or 'latest'}"
        if not _in_step(context):
            # Loaded outside a step (e.g. a test reading a result): no run to record it on.
            artifact = self._fetch(context, path, recorded=path == recorded)
            return self._hand_over(context, artifact, input_config, recorded_digest)
        # The step's run (created on first use) and the record of this use go to W&B while the
        # version is fetched and downloaded and the step computes: their round trips are off
        # the step's path. The step waits for them once its outputs are logged.
        run = self._runs.submit(self._run_for, context, self.wandb.project, self.wandb.entity)
        artifact = self._logged_versions.get(path) or self._fetch(
            context, path, recorded=path == recorded
        )
        self._runs.record_use(_step_of(context), run, artifact)
        value = self._hand_over(context, artifact, input_config, recorded_digest)
        single = not context.has_asset_partitions or len(context.asset_partition_keys) == 1
        if context.has_asset_key and single:
            context.add_input_metadata(
                {
                    VERSION_KEY: artifact.version,
                    "wandb/digest": artifact.digest,
                    COLLECTION_KEY: _collection_path(artifact),
                }
            )
        return value

    def _fetch(self, context: InputContext, path: str, *, recorded: bool) -> Artifact:
        """The version at ``path``; when it is the one Dagster recorded and W&B no longer has
        it, an error that says so and what to do."""
        try:
            return self.wandb.get_api().artifact(path)
        except NotFoundError:
            if not recorded:
                raise
            upstream = context.asset_key.to_user_string()
            raise NotFoundError(
                f"input {context.name!r}: {path} is the version Dagster recorded for the last "
                f"materialization of asset {upstream}, and W&B no longer has it (it was "
                f"deleted). Re-materialize {upstream} to log a new version, or pin an existing "
                "one with AssetIn(metadata={'wandb_artifact': {'alias': ...}})"
            ) from None

    def _download_root(self, artifact: Artifact) -> pathlib.Path:
        """Where inputs are downloaded: hard links into the cache, shared by steps."""
        base = self.download_dir or os.environ.get("WANDB_ARTIFACT_DIR")
        base = (
            pathlib.Path(base) if base else pathlib.Path(tempfile.gettempdir()) / "wandb-artifacts"
        )
        # Versions are immutable per server, not across servers: keep servers apart.
        if self.wandb.is_local:
            root = str(pathlib.Path(self.wandb.local_root).resolve())
            server = "local-" + hashlib.sha1(root.encode()).hexdigest()[:10]
        else:
            server = re.sub(r"[^\w.-]", "_", urlsplit(self.wandb.host).netloc)
        return base / server / artifact.entity / artifact.project / artifact.name

    def _hand_over(
        self,
        context: InputContext,
        artifact: Artifact,
        config: WandbInputConfig,
        recorded_digest: str,
    ) -> Any:
        """The version as the input wants it; ``recorded_digest`` is the data version Dagster
        recorded for it (empty when there is none), the only proof of who wrote it."""
        recorded_here = bool(recorded_digest) and artifact.digest == recorded_digest
        allow_pickle = config.allow_pickle or recorded_here
        if config.get_path is not None:
            return entries.entry_path(artifact, config.get_path, self._download_root(artifact))
        if config.get is not None:
            root = self._download_root(artifact)
            return entries.entry_value(
                artifact, config.get, root, self._serializers, allow_pickle=allow_pickle
            )
        load_as = config.load_as or _load_as_from_annotation(context)
        if load_as == "artifact":
            return artifact
        if load_as == "upath":
            # Lazy: nothing is downloaded until the asset reads a file.
            return artifact_upath(artifact)
        root = pathlib.Path(artifact.download(self._download_root(artifact)))
        if load_as == "path":
            if artifact.metadata.get("dagster/path_kind") == "file":
                (only,) = [p for p in root.rglob("*") if p.is_file()]
                return only
            return root
        if artifact.metadata.get(serializers.SERIALIZER_KEY) == drafts.PATH:
            return root
        return self._serializers.read(root, artifact.metadata, allow_pickle=allow_pickle)


def _code_version(context: OutputContext) -> str | None:
    return context.asset_spec.code_version if context.has_asset_key else context.version


def _collection_path(artifact: Artifact) -> str:
    return f"{artifact.entity}/{artifact.project}/{artifact.collection_name}"


def _output_key(context: OutputContext | None) -> AssetKey:
    """The asset key of an output; ``[op, output]`` for an op's output that is not an asset."""
    if context is None:
        raise InvalidInputError("the input has no upstream output to load")
    if context.has_asset_key:
        return context.asset_key
    return AssetKey([context.op_def.name, context.name])


def _step_of(context: InputContext | OutputContext) -> tuple[str, str]:
    """(Dagster run id, step key) of a context inside a step."""
    return context.step_context.run_id, context.step_context.step.key


def _in_step(context: InputContext | OutputContext) -> bool:
    try:
        context.step_context  # noqa: B018 - raises outside a step
    except Exception:  # noqa: BLE001 - hand-built contexts raise DagsterInvariantViolationError
        return False
    return True


def _wants_dict(context: InputContext) -> bool:
    typing_type = getattr(context.dagster_type, "typing_type", None)
    return typing_type is dict or typing.get_origin(typing_type) in (dict, Mapping)


def _load_as_from_annotation(context: InputContext) -> str:
    typing_type = getattr(context.dagster_type, "typing_type", None)
    if isinstance(typing_type, type):
        if issubclass(typing_type, Artifact):
            return "artifact"
        if issubclass(typing_type, UPath):
            return "upath"
        if issubclass(typing_type, pathlib.PurePath):
            return "path"
    return "value"
