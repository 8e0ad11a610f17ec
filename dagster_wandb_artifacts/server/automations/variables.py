"""The payload variables W&B offers an artifact event's webhook, and the document its
``eventFilter`` is matched against."""

from __future__ import annotations

import json
from typing import Any

from ..ids import encode_id
from ..store import Store, is_version_alias
from .events import ArtifactEvent


def _version(store: Store, event: ArtifactEvent, qualified: str) -> dict[str, Any] | None:
    if event.artifact_id is None:
        return None
    artifact = store.get("artifacts", event.artifact_id)
    version = f"v{event.version_index}" if event.version_index is not None else None
    aliases = [row["alias"] for row in store.aliases_of(event.artifact_id, event.collection_id)]
    return {
        "id": encode_id("Artifact", artifact["id"]),
        "name": f"{qualified.rpartition('/')[2]}:{version}",
        "qualified_name": f"{qualified}:{version}",
        "version": version,
        "type": store.get("artifact_types", artifact["type_id"])["name"],
        "digest": artifact["digest"],
        "aliases": [alias for alias in aliases if not is_version_alias(alias)],
        "tags": [row["name"] for row in store.artifact_tags(event.artifact_id)],
        "metadata": json.loads(artifact["metadata"] or "{}"),
        "size": artifact["size"],
        "created_at": artifact["created_at"],
    }


def event_variables(store: Store, event: ArtifactEvent) -> dict[str, Any]:
    """``${event_type}``, ``${event_author}``, ``${entity_name}``, ``${project_name}``,
    ``${artifact_collection_name}``, ``${artifact_version_string}``, ``${artifact_version}``,
    ``${artifact_metadata.<key>}``, ``${alias}`` and ``${tag}`` (the version's are empty
    for a collection's tag events)."""
    collection = store.get("collections", event.collection_id)
    project = store.get("projects", collection["project_id"])
    entity = store.get("entities", project["entity_id"])["name"]
    qualified = f"{entity}/{project['name']}/{collection['name']}"
    version = _version(store, event, qualified)
    return {
        "event_type": event.event_type,
        "event_author": event.author,
        "entity_name": entity,
        "project_name": project["name"],
        "artifact_collection_name": collection["name"],
        "artifact_version_string": version["qualified_name"] if version else "",
        "artifact_version": version,
        "artifact_metadata": version["metadata"] if version else {},
        "alias": event.alias or "",
        "tag": event.tag or "",
    }


def filter_document(variables: dict[str, Any], event: ArtifactEvent) -> dict[str, Any]:
    """What ``ArtifactEvent.alias`` and ``ArtifactEvent.tag`` filters read: the alias or tag
    the event is about, else the version's (a list matches when any item does)."""
    version = variables["artifact_version"] or {}
    return {
        "alias": event.alias if event.alias is not None else version.get("aliases", []),
        "tag": event.tag if event.tag is not None else version.get("tags", []),
    }
