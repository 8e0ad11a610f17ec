"""The payload variables W&B offers an artifact event's webhook, and the document its
``eventFilter`` is matched against."""

from __future__ import annotations

import json
from typing import Any

from ..ids import encode_id
from ..store import Store, is_version_alias
from .events import ADD_ARTIFACT_ALIAS, ArtifactEvent


def event_variables(store: Store, event: ArtifactEvent) -> dict[str, Any]:
    """``${event_type}``, ``${event_author}``, ``${entity_name}``, ``${project_name}``,
    ``${artifact_collection_name}``, ``${artifact_version_string}``, ``${artifact_version}``,
    ``${artifact_metadata.<key>}`` and ``${alias}``."""
    artifact = store.get("artifacts", event.artifact_id)
    collection = store.get("collections", event.collection_id)
    project = store.get("projects", collection["project_id"])
    entity = store.get("entities", project["entity_id"])["name"]
    membership = store.membership(event.collection_id, event.artifact_id)
    version = f"v{membership['version_index']}" if membership else None
    aliases = [row["alias"] for row in store.aliases_of(event.artifact_id, event.collection_id)]
    metadata = json.loads(artifact["metadata"] or "{}")
    version_string = f"{entity}/{project['name']}/{collection['name']}:{version}"
    return {
        "event_type": event.event_type,
        "event_author": event.author,
        "entity_name": entity,
        "project_name": project["name"],
        "artifact_collection_name": collection["name"],
        "artifact_version_string": version_string,
        "artifact_version": {
            "id": encode_id("Artifact", artifact["id"]),
            "name": f"{collection['name']}:{version}",
            "qualified_name": version_string,
            "version": version,
            "type": store.get("artifact_types", artifact["type_id"])["name"],
            "digest": artifact["digest"],
            "aliases": [alias for alias in aliases if not is_version_alias(alias)],
            "metadata": metadata,
            "size": artifact["size"],
            "created_at": artifact["created_at"],
        },
        "artifact_metadata": metadata,
        "alias": event.alias or "",
    }


def filter_document(variables: dict[str, Any], event: ArtifactEvent) -> dict[str, Any]:
    """What ``ArtifactEvent.alias`` filters read: the alias added, or the version's aliases
    (a list matches when any alias does)."""
    if event.event_type == ADD_ARTIFACT_ALIAS:
        return {"alias": event.alias}
    return {"alias": variables["artifact_version"]["aliases"]}
