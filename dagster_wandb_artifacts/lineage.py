"""W&B collections in the Dagster asset graph: asset specs, lineage and a new-version sensor.

Collections logged outside Dagster (a notebook, a training cluster) become external assets:
their key comes from the collection name (the inverse of the IO manager's naming, so a
collection the IO manager writes and its asset are one node), their deps from W&B lineage
(collection B depends on A when a version of B was logged by a run that used a version of
A), and the digest of the version an alias names is their data version, reported by
:func:`wandb_artifact_sensor`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dagster import (
    AssetKey,
    AssetMaterialization,
    AssetObservation,
    AssetSpec,
    DataVersion,
    DefaultSensorStatus,
    MetadataValue,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from .client import Api, Artifact, CommError, NotFoundError
from .client.transport import time_limited
from .config import METADATA_KEY
from .resource import WandbArtifactsResource

_ESCAPE = re.compile(r"-([0-9a-f]+)-")
DATA_VERSION_TAG = "dagster/data_version"


def asset_key_for(collection: str, key_prefix: Sequence[str] = ()) -> AssetKey:
    """The asset key of a collection: the inverse of the IO manager's ``prefix.name`` naming."""
    parts = [
        _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), part) for part in collection.split(".")
    ]
    return AssetKey([*key_prefix, *parts])


@dataclass(frozen=True)
class _Collection:
    entity: str
    project: str
    name: str
    type: str
    description: str | None
    tags: tuple[str, ...]


def _collections(
    api: Api, entity: str, project: str, types: Iterable[str] | None, names: Iterable[str] | None
) -> list[_Collection]:
    wanted_types = (
        list(types) if types else [t.name for t in api.artifact_types(f"{entity}/{project}")]
    )
    wanted_names = set(names) if names else None
    found = []
    for type_name in wanted_types:
        for collection in api.artifact_collections(f"{entity}/{project}", type_name):
            if wanted_names is None or collection.name in wanted_names:
                found.append(
                    _Collection(
                        entity,
                        project,
                        collection.name,
                        type_name,
                        collection.description,
                        tuple(collection.tags),
                    )
                )
    return found


def _key_of(artifact: Artifact, key_prefix: Sequence[str]) -> AssetKey:
    """The Dagster key of a version's collection (the IO manager records its own)."""
    written_by_dagster = artifact.metadata.get("dagster/asset_key")
    if written_by_dagster:
        return AssetKey.from_user_string(written_by_dagster)
    return asset_key_for(artifact.collection_name, key_prefix)


def wandb_artifact_specs(
    resource: WandbArtifactsResource,
    project: str | None = None,
    types: Iterable[str] | None = None,
    collections: Iterable[str] | None = None,
    key_prefix: Sequence[str] = (),
    alias: str = "latest",
    timeout: float = 10.0,
) -> list[AssetSpec]:
    """``AssetSpec``s for the W&B collections of a project (of some types, or some names).

    Collections the IO manager writes are left out (their assets already exist); deps point
    at their Dagster keys. Each spec carries ``wandb_artifact`` metadata, so the IO manager
    loads the version ``alias`` names when a Dagster asset takes it as an input.

    Discovery runs when the code location loads, so each request waits (and retries) for at
    most ``timeout`` seconds: a W&B that cannot be reached fails the load with a
    :class:`~.client.CommError` naming the host, instead of hanging it.

    Example::

        specs = wandb_artifact_specs(wandb, types=["model"], alias="production")
        defs = Definitions(assets=[*specs, evaluate],
                           sensors=[wandb_artifact_sensor(wandb, specs)])
    """
    try:
        with time_limited(timeout):
            return _specs(resource, project, types, collections, key_prefix, alias)
    except CommError as exc:
        raise CommError(
            f"wandb_artifact_specs could not reach W&B at {resource.host} within {timeout:g} s "
            f"({exc}); the code location cannot list its W&B collections: check host= and the "
            "network, or pass a larger timeout="
        ) from None


def _specs(
    resource: WandbArtifactsResource,
    project: str | None,
    types: Iterable[str] | None,
    collections: Iterable[str] | None,
    key_prefix: Sequence[str],
    alias: str,
) -> list[AssetSpec]:
    api = resource.get_api()
    entity = resource.entity or api.path_entity
    project = project or resource.project
    specs = []
    for collection in _collections(api, entity, project, types, collections):
        path = f"{entity}/{project}/{collection.name}:{alias}"
        try:
            version = api.artifact(path)
        except NotFoundError:
            version = None
        if version is not None and version.metadata.get("dagster/asset_key"):
            continue  # an asset of this Dagster project already
        metadata: dict[str, Any] = {
            METADATA_KEY: {
                "name": collection.name,
                "entity": entity,
                "project": project,
                "type": collection.type,
            },
            "wandb/collection": f"{entity}/{project}/{collection.name}",
            "wandb/type": collection.type,
            "wandb/alias": alias,
            "wandb/tags": ", ".join(collection.tags),
        }
        deps: set[AssetKey] = set()
        if version is not None:
            metadata.update(
                {
                    "wandb/version": version.version,
                    "wandb/digest": version.digest,
                    "wandb/aliases": ", ".join(version.aliases),
                    "wandb/url": MetadataValue.url(_url(resource, version)),
                }
            )
            producer = version.logged_by()
            if producer is not None:
                deps = {_key_of(used, key_prefix) for used in producer.used_artifacts()}
        key = asset_key_for(collection.name, key_prefix)
        specs.append(
            AssetSpec(
                key=key,
                description=collection.description,
                metadata=metadata,
                deps=sorted(deps - {key}, key=lambda k: k.to_user_string()),
                kinds={"wandb"},
                group_name=None,
            )
        )
    return specs


def _url(resource: WandbArtifactsResource, artifact: Artifact) -> str:
    return (
        f"{resource.app_url}/{artifact.entity}/{artifact.project}/artifacts/"
        f"{artifact.type}/{artifact.collection_name}/{artifact.version}"
    )


def _watched(spec: AssetSpec, resource: WandbArtifactsResource, api: Api) -> str:
    """The collection a spec stands for; entity and project default to the resource's."""
    config = spec.metadata.get(METADATA_KEY) or {}
    entity = config.get("entity") or resource.entity or api.path_entity
    return f"{entity}/{config.get('project') or resource.project}/{config['name']}"


def wandb_artifact_sensor(
    resource: WandbArtifactsResource,
    specs: Sequence[AssetSpec],
    *,
    name: str = "wandb_artifact_sensor",
    alias: str | None = None,
    job: Any = None,
    minimum_interval_seconds: int = 60,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    report_as: Literal["materialization", "observation"] = "materialization",
    report_existing: bool = False,
) -> SensorDefinition:
    """Reports each new version (or move of the watched alias) of the specs' collections as an
    event whose data version is the artifact digest, and requests ``job`` (a job or a
    ``define_asset_job(...)``) when given.

    By default the event is a runless materialization: the asset changed outside Dagster, so
    downstream assets turn stale and ``AutomationCondition.eager()`` reacts; with
    ``report_as="observation"`` it is an observation (staleness only). Its cursor maps each
    collection to the version and digest last reported, so a restart reports nothing twice.

    The first tick records the versions there are as the baseline and reports nothing (no run
    starts although nothing changed); ``report_existing=True`` reports them once instead.
    """
    event_class = AssetMaterialization if report_as == "materialization" else AssetObservation
    aliases = {spec.key: alias or spec.metadata.get("wandb/alias", "latest") for spec in specs}

    @sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
    )
    def _sensor(context: SensorEvaluationContext) -> SensorResult:
        api = resource.get_api()
        first_tick = not context.cursor
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        observations, changed = [], []
        for spec in specs:
            key, watched_alias = spec.key, aliases[spec.key]
            collection = _watched(spec, resource, api)
            try:
                version = api.artifact(f"{collection}:{watched_alias}")
            except NotFoundError:
                continue
            state = f"{version.version}:{version.digest}"
            cursor_key = key.to_user_string()
            if seen.get(cursor_key) == state:
                continue
            seen[cursor_key] = state
            if first_tick and not report_existing:
                continue  # the baseline
            changed.append(key)
            observations.append(
                event_class(
                    asset_key=key,
                    metadata={
                        "wandb/version": version.version,
                        "wandb/digest": version.digest,
                        "wandb/alias": watched_alias,
                        "wandb/url": MetadataValue.url(_url(resource, version)),
                    },
                    tags={DATA_VERSION_TAG: DataVersion(version.digest).value},
                )
            )
        run_requests = []
        if job is not None and changed:
            run_key = ",".join(f"{k.to_user_string()}={seen[k.to_user_string()]}" for k in changed)
            run_requests.append(RunRequest(run_key=run_key))
        return SensorResult(
            asset_events=observations,
            run_requests=run_requests,
            cursor=json.dumps(seen, sort_keys=True),
        )

    return _sensor
