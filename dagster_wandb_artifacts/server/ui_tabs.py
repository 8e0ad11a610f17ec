"""What a version's Metadata and Usage tabs show, links into the Dagster UI, and the human
words for the enums the store keeps (visibility, states)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

#: A metadata value longer than this (as text) is folded behind its first characters.
FOLD_CHARS = 120
#: Entries of one dict or list shown; the rest are counted.
TREE_ENTRIES = 500
#: Nesting shown; deeper values are shown as JSON text.
TREE_DEPTH = 12

_ENUM_LABELS = {
    # A registry's visibility: W&B's "Organization" registries are stored as PRIVATE.
    "PRIVATE": "Organization",
    "RESTRICTED": "Restricted",
    "PUBLIC": "Public",
    "USER_PRIVATE": "Private",
    # Versions.
    "COMMITTED": "Committed",
    "PENDING": "Pending upload",
    "DELETED": "Deleted",
    # Runs.
    "running": "Running",
    "finished": "Finished",
    "crashed": "Crashed",
    "failed": "Failed",
    "killed": "Killed",
    "preempted": "Preempted",
}


def label(value: Any) -> str:
    """The human word for a stored enum value; an unknown value as it is."""
    if value is None:
        return ""
    return _ENUM_LABELS.get(str(value), str(value))


@dataclass
class Entry:
    """One key of the metadata tree: its JSON type, and either ``children`` or ``text``."""

    key: str
    kind: str
    text: str = ""
    children: list[Entry] = field(default_factory=list)
    hidden: int = 0

    @property
    def folded(self) -> bool:
        return len(self.text) > FOLD_CHARS


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def tree(value: Any, key: str = "", depth: int = 0) -> Entry:
    kind = _kind(value)
    if kind not in ("object", "array") or depth >= TREE_DEPTH:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return Entry(key, kind, text=text)
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    entry = Entry(key, f"{kind} ({len(items)})", hidden=max(0, len(items) - TREE_ENTRIES))
    entry.children = [tree(v, str(k), depth + 1) for k, v in items[:TREE_ENTRIES]]
    return entry


def flatten(value: Any, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Leaves of nested dicts by dotted path (lists are leaves), for comparing metadata."""
    if not isinstance(value, dict) or depth >= TREE_DEPTH:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, inner in value.items():
        flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key), depth + 1))
    return flat


# Dagster -----------------------------------------------------------------------------------


def dagster_url(recorded_run: str | None = None) -> str | None:
    """The Dagster UI's URL, when ``DAGSTER_WEBSERVER_URL`` says it, else as the run's
    recorded link (``<url>/runs/<id>``) shows it; http(s) only."""
    url = os.environ.get("DAGSTER_WEBSERVER_URL", "").strip().rstrip("/")
    if not url and recorded_run and "/runs/" in recorded_run:
        url = recorded_run.rsplit("/runs/", 1)[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


def dagster_asset_url(base: str | None, asset_key: str) -> str | None:
    """The asset's page in the Dagster UI (``a/b`` is the key ``["a", "b"]``)."""
    if base is None or not asset_key:
        return None
    return f"{base}/assets/" + "/".join(quote(part, safe="") for part in asset_key.split("/"))


def dagster_run_url(base: str | None, recorded: str | None, run_id: str | None) -> str | None:
    """The run's recorded link, else the run's page under ``base``."""
    if recorded:
        return recorded
    if base is None or not run_id:
        return None
    return f"{base}/runs/{quote(run_id, safe='')}"


# Usage -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    title: str
    code: str


def usage(
    base_url: str, entity: str, project: str, collection: str, version: str, type_name: str,
    asset_key: str | None,
) -> list[Snippet]:
    """Code that reads this version: the ``wandb`` SDK, our client, a Dagster asset and the
    ``wandb-artifact://`` URI."""
    name = f"{entity}/{project}/{collection}:{version}"
    uri = f"wandb-artifact://{name}"
    key = [part for part in (asset_key or collection).split("/")]
    snippets = [
        Snippet(
            "wandb SDK",
            f"# WANDB_BASE_URL={base_url}\nimport wandb\n\n"
            f"with wandb.init(project={project!r}, job_type=\"use\") as run:\n"
            f"    artifact = run.use_artifact({name!r}, type={type_name!r})\n"
            "    path = artifact.download()\n",
        ),
        Snippet(
            "dagster-wandb-artifacts client",
            "from dagster_wandb_artifacts.client import Api\n\n"
            f"api = Api(overrides={{\"base_url\": {base_url!r}}})\n"
            f"artifact = api.artifact({name!r}, type={type_name!r})\n"
            "path = artifact.download()\n",
        ),
        Snippet(
            "Dagster asset",
            "from dagster import AssetIn, AssetKey, asset\n\n\n"
            f"@asset(ins={{\"upstream\": AssetIn(key=AssetKey({key!r}), "
            f"metadata={{\"wandb_artifact\": {{\"alias\": {version!r}}}}})}})\n"
            "def downstream(upstream):\n    ...\n",
        ),
        Snippet("URI (fsspec, UPath)", f"{uri}\n"),
    ]
    return snippets
