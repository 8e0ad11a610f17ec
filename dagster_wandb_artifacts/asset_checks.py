"""Asset checks that tell when the W&B side drifted from what Dagster recorded.

``build_wandb_artifact_checks(assets)`` follows Dagster's ``build_*_checks`` factories. For
each asset (stored by :class:`~.WandbArtifactsIOManager`, or a W&B collection declared as
an external asset by :func:`~.wandb_artifact_specs`) it returns:

- ``wandb_version_exists`` (ERROR): the version Dagster recorded last still exists, is
  committed, and its digest is the recorded data version; with ``verify_files``, its files'
  md5s are checked too;
- ``wandb_alias_<alias>`` (WARN), one per alias given: the alias points to a version Dagster
  recorded for this asset; otherwise the check says which version it points to and who
  logged it;
- ``wandb_ttl`` (WARN): the version downstream assets read (the recorded one) does not expire
  within ``ttl_window``;
- ``wandb_schema`` (WARN): for tables (parquet DataFrames, Arrow files, W&B Tables), the
  columns and dtypes of the collection's newest version equal the previous version's.

They run with the asset's materialization when selected with it (``blocking=True`` stops
downstream assets on an ERROR) and on a schedule through a job that selects them. Each
reports the W&B links and the versions it compared as check metadata.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    AssetRecordsFilter,
    AssetsDefinition,
    AssetSpec,
    MetadataValue,
    asset_check,
)

from .client import Api, Artifact, NotFoundError, WandbError
from .config import METADATA_KEY, WandbArtifactConfig, parse
from .naming import collection_name
from .resource import WandbArtifactsResource

#: The checks there are; ``checks=`` picks some.
ALL_CHECKS = ("exists", "alias", "ttl", "schema")
#: Materializations of an asset read to know the versions Dagster recorded for it.
RECORDS_READ = 100
_DATA_VERSION_TAG = "dagster/data_version"
_TABLE_SUFFIXES = (".parquet", ".arrow", ".feather", ".table.json")
_CHECK_NAME = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class _Recorded:
    """A version Dagster recorded for the asset: ``entity/project/name:vN`` and its digest
    (empty when none was recorded)."""

    path: str
    digest: str


@dataclass(frozen=True)
class _Target:
    key: AssetKey
    metadata: Mapping[str, Any]

    def collection(self, resource: WandbArtifactsResource, api: Api) -> str:
        config: WandbArtifactConfig = parse(
            WandbArtifactConfig, self.metadata, f"asset {self.key.to_user_string()}"
        )
        name = config.name or collection_name(self.key.path)
        entity = config.entity or resource.entity or api.path_entity
        return f"{entity}/{config.project or resource.project}/{name}"

    @property
    def default_alias(self) -> str:
        return str(_plain(self.metadata.get("wandb/alias")) or "latest")


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def _targets(assets: Sequence[AssetsDefinition | AssetSpec]) -> list[_Target]:
    targets = []
    for found in assets:
        if isinstance(found, AssetSpec):
            targets.append(_Target(found.key, found.metadata or {}))
        else:
            targets.extend(
                _Target(key, found.specs_by_key[key].metadata or {}) for key in found.keys
            )
    return targets


def _recorded(
    context: AssetCheckExecutionContext, target: _Target, collection: str
) -> list[_Recorded]:
    """The versions Dagster recorded for the asset, newest first (IO-manager
    materializations, and the W&B sensor's reports of an external asset)."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=target.key), limit=RECORDS_READ
    ).records
    found: list[_Recorded] = []
    for record in records:
        event = record.asset_materialization
        if event is None:
            continue
        metadata = {key: _plain(value) for key, value in event.metadata.items()}
        where = metadata.get("wandb/collection") or collection
        digest = metadata.get("wandb/digest") or (event.tags or {}).get(_DATA_VERSION_TAG, "")
        if metadata.get("wandb/version"):
            found.append(_Recorded(f"{where}:{metadata['wandb/version']}", str(digest)))
        partition_versions = metadata.get("wandb/partition_versions") or {}
        partition_digests = metadata.get("wandb/partition_digests") or {}
        for partition, version in partition_versions.items():
            found.append(_Recorded(f"{where}:{version}", partition_digests.get(partition, "")))
    return found


def _lookup(
    context: AssetCheckExecutionContext, resource: WandbArtifactsResource, target: _Target
) -> tuple[Api, str, list[_Recorded]]:
    """The client, the asset's collection, and the versions Dagster recorded for it."""
    api = resource.get_api()
    collection = target.collection(resource, api)
    return api, collection, _recorded(context, target, collection)


def _url(resource: WandbArtifactsResource, artifact: Artifact) -> str:
    return (
        f"{resource.app_url}/{artifact.entity}/{artifact.project}/artifacts/"
        f"{artifact.type}/{artifact.collection_name}/{artifact.version}"
    )


def _drift(description: str, metadata: dict[str, Any]) -> AssetCheckResult:
    """A failed check of something W&B changed that still works: a warning."""
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )


def _links(resource: WandbArtifactsResource, **versions: Artifact | None) -> dict[str, Any]:
    return {
        f"wandb/{name}_url": MetadataValue.url(_url(resource, artifact))
        for name, artifact in versions.items()
        if artifact is not None
    }


# The checks --------------------------------------------------------------------------------


def _check_exists(
    context: AssetCheckExecutionContext,
    resource: WandbArtifactsResource,
    target: _Target,
    verify_files: bool,
) -> AssetCheckResult:
    api, collection, recorded = _lookup(context, resource, target)
    if not recorded:
        if target.metadata.get(METADATA_KEY) is not None and "wandb/collection" in target.metadata:
            # An external asset Dagster has no report of yet: check the version it names.
            recorded = [_Recorded(f"{collection}:{target.default_alias}", "")]
        else:
            return _drift(
                "Dagster has recorded no W&B version of this asset yet",
                {"wandb/collection": collection},
            )
    newest = recorded[0]
    metadata: dict[str, Any] = {"wandb/recorded_version": newest.path}
    try:
        artifact = api.artifact(newest.path)
    except NotFoundError:
        return AssetCheckResult(
            passed=False,
            description=f"{newest.path}, the version Dagster recorded, no longer exists in W&B",
            metadata=metadata,
        )
    metadata.update(_links(resource, recorded=artifact))
    metadata["wandb/digest"] = artifact.digest
    if artifact.state != "COMMITTED":
        return AssetCheckResult(
            passed=False,
            description=f"{newest.path} is {artifact.state}, not COMMITTED",
            metadata=metadata,
        )
    if newest.digest and artifact.digest != newest.digest:
        return AssetCheckResult(
            passed=False,
            description=f"{newest.path} has digest {artifact.digest}, Dagster recorded "
            f"{newest.digest}",
            metadata={**metadata, "dagster/data_version": newest.digest},
        )
    if verify_files:
        with tempfile.TemporaryDirectory(prefix="wandb-check-") as root:
            try:
                artifact.download(root, skip_cache=True)
                artifact.verify(root)
            except (WandbError, OSError, ValueError) as exc:
                return AssetCheckResult(
                    passed=False,
                    description=f"{newest.path}: its files do not match its manifest ({exc})",
                    metadata=metadata,
                )
        metadata["wandb/files_verified"] = MetadataValue.int(artifact.file_count)
    return AssetCheckResult(passed=True, metadata=metadata)


def _check_alias(
    context: AssetCheckExecutionContext,
    resource: WandbArtifactsResource,
    target: _Target,
    alias: str,
) -> AssetCheckResult:
    api, collection, found = _lookup(context, resource, target)
    recorded = {version.path.rpartition(":")[2] for version in found}
    try:
        artifact = api.artifact(f"{collection}:{alias}")
    except NotFoundError:
        return AssetCheckResult(
            passed=True,
            description=f"{collection} has no alias {alias!r}",
            metadata={"wandb/collection": collection},
        )
    metadata: dict[str, Any] = {
        "wandb/alias": alias,
        "wandb/alias_version": artifact.version,
        **_links(resource, alias=artifact),
    }
    if artifact.version in recorded:
        return AssetCheckResult(passed=True, metadata=metadata)
    producer = artifact.metadata.get("dagster/asset_key")
    logged_by = artifact.logged_by()
    origin = f"by run {logged_by.id}" if logged_by is not None else "by an unknown run"
    origin += "" if producer else ", outside Dagster"
    return _drift(
        f"{alias!r} points to {collection}:{artifact.version}, a version this asset did not "
        f"produce (logged {origin})",
        {**metadata, "wandb/recorded_versions": ", ".join(sorted(recorded))},
    )


def _expiry(artifact: Artifact) -> datetime | None:
    ttl = artifact.ttl
    if ttl is None:
        return None
    created = datetime.fromisoformat(artifact.created_at.replace("Z", "+00:00"))
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return created + ttl


def _check_ttl(
    context: AssetCheckExecutionContext,
    resource: WandbArtifactsResource,
    target: _Target,
    window: timedelta,
) -> AssetCheckResult:
    api, collection, recorded = _lookup(context, resource, target)
    read = recorded[0].path if recorded else f"{collection}:{target.default_alias}"
    try:
        artifact = api.artifact(read)
    except NotFoundError:
        return AssetCheckResult(
            passed=True, description=f"{read} does not exist (see wandb_version_exists)"
        )
    expires = _expiry(artifact)
    metadata: dict[str, Any] = {"wandb/read_version": read, **_links(resource, read=artifact)}
    if expires is None:
        return AssetCheckResult(passed=True, metadata={**metadata, "wandb/expires": "never"})
    metadata["wandb/expires"] = expires.isoformat()
    if expires - datetime.now(timezone.utc) < window:
        return _drift(
            f"{read}, which downstream assets read, expires at {expires:%Y-%m-%d %H:%M} UTC, "
            f"within {window}",
            metadata,
        )
    return AssetCheckResult(passed=True, metadata=metadata)


def _wb_type_name(found: dict[str, Any]) -> str:
    """A W&B Table column type as text: ``number``, or a union as ``none|string``."""
    if found.get("wb_type") == "union":
        allowed = (found.get("params") or {}).get("allowed_types") or []
        return "|".join(sorted(_wb_type_name(inner) for inner in allowed))
    return str(found.get("wb_type", "unknown"))


def table_schema(artifact: Artifact) -> dict[str, str] | None:
    """Columns and dtypes of the first table file of a version (parquet, Arrow IPC, W&B
    Table JSON), or None when it holds no table."""
    tables = sorted(
        name for name in artifact.manifest.entries if name.endswith(_TABLE_SUFFIXES)
    )
    if not tables:
        return None
    name = tables[0]
    with tempfile.TemporaryDirectory(prefix="wandb-schema-") as root:
        path = Path(artifact.get_entry(name).download(root))
        if name.endswith(".table.json"):
            table = json.loads(path.read_text())
            types = ((table.get("column_types") or {}).get("params") or {}).get("type_map") or {}
            return {
                str(column): _wb_type_name(types.get(column) or {})
                for column in table.get("columns") or []
            }
        try:
            import pyarrow.ipc
            import pyarrow.parquet
        except ImportError:
            raise ImportError(
                f"reading the schema of {name} needs pyarrow: pip install pyarrow, or build "
                "the checks with checks=[...] without 'schema'"
            ) from None
        schema = (
            pyarrow.parquet.read_schema(path)
            if name.endswith(".parquet")
            else pyarrow.ipc.open_file(path).schema
        )
        return {field.name: str(field.type) for field in schema}


def _check_schema(
    context: AssetCheckExecutionContext,
    resource: WandbArtifactsResource,
    target: _Target,
) -> AssetCheckResult:
    api = resource.get_api()
    collection = target.collection(resource, api)
    try:
        newest = api.artifact(f"{collection}:latest")
    except NotFoundError:
        return AssetCheckResult(passed=True, description=f"{collection} has no version")
    index = int(newest.version[1:])
    previous = None
    for earlier in range(index - 1, -1, -1):  # the nearest version that still exists
        try:
            previous = api.artifact(f"{collection}:v{earlier}")
            break
        except NotFoundError:
            continue
    metadata: dict[str, Any] = {
        "wandb/newest_version": newest.version,
        **_links(resource, newest=newest, previous=previous),
    }
    new_schema = table_schema(newest)
    if new_schema is None or previous is None:
        reason = "not a table" if new_schema is None else "no previous version to compare"
        return AssetCheckResult(passed=True, description=reason, metadata=metadata)
    metadata["wandb/previous_version"] = previous.version
    old_schema = table_schema(previous) or {}
    dropped = sorted(set(old_schema) - set(new_schema))
    added = sorted(set(new_schema) - set(old_schema))
    retyped = sorted(
        f"{column}: {old_schema[column]} -> {new_schema[column]}"
        for column in set(old_schema) & set(new_schema)
        if old_schema[column] != new_schema[column]
    )
    changes = {"dropped": dropped, "added": added, "retyped": retyped}
    metadata["wandb/schema_changes"] = MetadataValue.json(changes)
    if any(changes.values()):
        described = "; ".join(
            f"{kind}: {', '.join(columns)}" for kind, columns in changes.items() if columns
        )
        return _drift(
            f"{collection}: {newest.version} changed the columns of {previous.version} "
            f"({described})",
            metadata,
        )
    return AssetCheckResult(passed=True, metadata=metadata)


# The factory -------------------------------------------------------------------------------


def _define(
    target: _Target,
    name: str,
    description: str,
    resource_key: str,
    blocking: bool,
    run: Callable[[AssetCheckExecutionContext, WandbArtifactsResource, _Target], AssetCheckResult],
) -> AssetChecksDefinition:
    @asset_check(
        asset=target.key,
        name=name,
        description=description,
        blocking=blocking,
        required_resource_keys={resource_key},
    )
    # Unannotated: Dagster reads the annotation itself, which postponed annotations hide.
    def _check(context) -> AssetCheckResult:
        return run(context, getattr(context.resources, resource_key), target)

    return _check


def build_wandb_artifact_checks(
    assets: Sequence[AssetsDefinition | AssetSpec],
    *,
    checks: Collection[str] = ALL_CHECKS,
    aliases: Sequence[str] = ("production",),
    ttl_window: timedelta = timedelta(days=7),
    verify_files: bool = False,
    blocking: bool = False,
    resource_key: str = "wandb",
) -> list[AssetChecksDefinition]:
    """Asset checks of the W&B versions behind ``assets`` (see the module's description).

    ``resource_key`` names the :class:`~.WandbArtifactsResource` the checks use;
    ``blocking`` makes a failed ERROR check stop downstream assets of the same run.

    Example::

        checks = build_wandb_artifact_checks([cleaned, model], aliases=["production"])
        defs = Definitions(assets=[cleaned, model], asset_checks=checks,
                           resources={"wandb": wandb, "io_manager": io_manager})
    """
    unknown = set(checks) - set(ALL_CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; choose from {ALL_CHECKS}")
    built = []
    for target in _targets(assets):
        if "exists" in checks:
            built.append(
                _define(
                    target,
                    "wandb_version_exists",
                    "The W&B version Dagster recorded exists, is committed and has the "
                    "recorded digest" + (" and files" if verify_files else ""),
                    resource_key,
                    blocking,
                    lambda c, r, t: _check_exists(c, r, t, verify_files),
                )
            )
        for alias in aliases if "alias" in checks else ():
            built.append(
                _define(
                    target,
                    f"wandb_alias_{_CHECK_NAME.sub('_', alias)}",
                    f"W&B alias {alias!r} points to a version this asset produced",
                    resource_key,
                    blocking,
                    lambda c, r, t, alias=alias: _check_alias(c, r, t, alias),
                )
            )
        if "ttl" in checks:
            built.append(
                _define(
                    target,
                    "wandb_ttl",
                    f"The version downstream assets read does not expire within {ttl_window}",
                    resource_key,
                    blocking,
                    lambda c, r, t: _check_ttl(c, r, t, ttl_window),
                )
            )
        if "schema" in checks:
            built.append(
                _define(
                    target,
                    "wandb_schema",
                    "A table's columns and dtypes are those of its previous version",
                    resource_key,
                    blocking,
                    _check_schema,
                )
            )
    return built
