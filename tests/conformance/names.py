"""Every public name of the seed pages, how the suite checks it, and the conformance table.

A name's verdict is ``missing`` when our client has no such attribute; otherwise it comes from
the conformance tests marked with it: ``same`` when they all pass, ``failing`` when the SDK
itself fails against our server (a server bug), ``different`` when the SDK and our client
disagree, and ``unchecked`` when no test names it yet. A seed name that SDK 0.31 does not have
(the seed pages are older) is ``not-in-sdk``: there the SDK is followed, not the page.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections import Counter
from pathlib import Path
from typing import Any

SAME, DIFFERENT, MISSING, FAILING = "same", "different", "missing", "failing"
UNCHECKED, NOT_IN_SDK = "unchecked", "not-in-sdk"
ORDER = (SAME, DIFFERENT, MISSING, FAILING, UNCHECKED, NOT_IN_SDK)

# How each name is checked, by class ("" for the module's functions):
#   logged    the same call on a version logged once and fetched by both Apis
#   draft     the same call on a draft built by both Artifact classes
#   link      the same call on a link of a logged version (its own link per side when it changes it)
#   api       the same Api call on both sides
#   listing   the same listing through both Apis (type, items, paging)
#   signature the constructor's parameters by name and order
#   internal  a GraphQL helper of the SDK's paginators; W&B users do not call it, so it is
#             checked by what it gives once a page is loaded (``convert_objects``: that page's
#             objects; ``update_variables``: the next query's ``perPage`` and ``cursor``)
CHECKS: dict[str, dict[str, str]] = {
    "": {
        "server_supports_artifact_collections_gql_edges": "internal",
        "artifact_collection_edge_name": "internal",
        "artifact_collection_plural_edge_name": "internal",
    },
    "Api": {
        "": "api",
        "__init__": "signature",
        **dict.fromkeys(("api_key", "client", "default_entity", "user_agent", "viewer"), "api"),
        **dict.fromkeys(
            (
                "artifact",
                "artifact_collection",
                "artifact_collection_exists",
                "artifact_exists",
                "artifact_type",
                "create_project",
                "create_registry",
                "create_run",
                "flush",
                "from_path",
                "project",
                "registry",
                "run",
            ),
            "api",
        ),
        **dict.fromkeys(
            (
                "artifact_collections",
                "artifact_types",
                "artifact_versions",
                "artifacts",
                "projects",
                "registries",
                "runs",
            ),
            "listing",
        ),
        # Outside artifacts: automations, launch, reports, sweeps, teams and users.
        **dict.fromkeys(
            (
                "automation",
                "automations",
                "create_automation",
                "create_custom_chart",
                "create_run_queue",
                "create_team",
                "create_user",
                "delete_automation",
                "integrations",
                "job",
                "list_jobs",
                "queued_run",
                "reports",
                "run_queue",
                "slack_integrations",
                "sweep",
                "sync_tensorboard",
                "team",
                "update_automation",
                "upsert_run_queue",
                "user",
                "users",
                "webhook_integrations",
            ),
            "api",
        ),
    },
    "Artifact": {
        "": "draft",
        **dict.fromkeys(
            (
                "id",
                "entity",
                "project",
                "name",
                "qualified_name",
                "version",
                "collection",
                "type",
                "url",
                "description",
                "metadata",
                "ttl",
                "aliases",
                "tags",
                "use_as",
                "state",
                "manifest",
                "digest",
                "size",
                "commit_hash",
                "file_count",
                "created_at",
                "updated_at",
                "history_step",
                "checkout",
                "download",
                "file",
                "files",
                "get",
                "get_entry",
                "get_path",
                "json_encode",
                "logged_by",
                "new_draft",
                "save",
                "used_by",
                "verify",
                "wait",
            ),
            "logged",
        ),
        **dict.fromkeys(
            (
                "source_entity",
                "source_project",
                "source_name",
                "source_qualified_name",
                "source_version",
                "source_collection",
                "is_link",
                "linked_artifacts",
                "source_artifact",
                "delete",
                "link",
                "unlink",
            ),
            "link",
        ),
        **dict.fromkeys(
            (
                "add",
                "add_dir",
                "add_file",
                "add_reference",
                "finalize",
                "get_added_local_path_name",
                "is_draft",
                "new_file",
                "remove",
            ),
            "draft",
        ),
    },
    "ArtifactCollection": {
        "": "api",
        "__init__": "signature",
        **dict.fromkeys(
            (
                "aliases",
                "created_at",
                "description",
                "id",
                "name",
                "tags",
                "type",
                "change_type",
                "delete",
                "is_sequence",
                "load",
                "save",
            ),
            "api",
        ),
        "artifacts": "listing",
    },
    "ArtifactType": {
        "": "api",
        "__init__": "signature",
        **dict.fromkeys(("id", "name", "collection", "load"), "api"),
        "collections": "listing",
    },
}
for _paginator in ("ArtifactTypes", "ArtifactCollections", "Artifacts", "RunArtifacts"):
    CHECKS[_paginator] = {
        "": "listing",
        "__init__": "signature",
        **dict.fromkeys(("cursor", "length", "more"), "listing"),
        **dict.fromkeys(("convert_objects", "update_variables"), "internal"),
    }
CHECKS["ArtifactFiles"] = {**CHECKS["ArtifactTypes"], "path": "listing"}
for _paginator in ("Artifacts", "RunArtifacts"):
    del CHECKS[_paginator]["update_variables"]  # not on these pages

#: Every seed name (``Class``, ``Class.member`` or a module function) and how it is checked.
SEED_NAMES: dict[str, str] = {
    (f"{cls}.{member}" if cls and member else cls or member): how
    for cls, members in CHECKS.items()
    for member, how in members.items()
}

_SDK_HOMES = {"Api": "wandb", "Artifact": "wandb", "": "wandb.apis.public.artifacts"}
_OUR_HOMES = {
    "Api": "dagster_wandb_artifacts.client",
    "Artifact": "dagster_wandb_artifacts.client",
    "ArtifactCollection": "dagster_wandb_artifacts.client.collections",
    "ArtifactType": "dagster_wandb_artifacts.client.collections",
    "": "dagster_wandb_artifacts.client.paginators",
}


def _split(name: str) -> tuple[str, str]:
    if "." in name:
        cls, member = name.split(".", 1)
        return cls, member
    return (name, "") if name[0].isupper() else ("", name)


def _has(owner: Any, member: str) -> bool:
    """``owner`` has ``member``, as a class attribute or one its ``__init__`` assigns."""
    if hasattr(owner, member):
        return True
    assigned = re.compile(rf"self\.{re.escape(member)}\s*(:[^=\n]*)?=[^=]")
    for cls in getattr(owner, "__mro__", ()):
        try:
            if assigned.search(inspect.getsource(cls)):
                return True
        except (OSError, TypeError):
            continue
    return False


def resolve(name: str, sdk: bool) -> Any:
    """The object ``name`` denotes in the SDK or in our client (``True`` for an attribute set
    on instances), or None when there is none."""
    cls, member = _split(name)
    homes = _SDK_HOMES if sdk else _OUR_HOMES
    default = "wandb.apis.public" if sdk else _OUR_HOMES[""]
    module = importlib.import_module(homes.get(cls, default))
    owner = getattr(module, cls, None) if cls else module
    if owner is None or not member:
        return owner
    if not _has(owner, member):
        return None
    return getattr(owner, member, True)


def table(verdicts: dict[str, list[str]]) -> dict[str, str]:
    """The verdict of every seed name, given the verdicts of the tests that ran, by name."""
    result = {}
    for name in SEED_NAMES:
        ran = verdicts.get(name, [])
        if resolve(name, sdk=True) is None:
            result[name] = NOT_IN_SDK
        elif resolve(name, sdk=False) is None:
            result[name] = MISSING
        elif not ran:
            result[name] = UNCHECKED
        else:
            result[name] = next(v for v in (FAILING, DIFFERENT, SAME) if v in ran)
    return result


def counts(verdicts: dict[str, str]) -> list[tuple[str, int]]:
    found = Counter(verdicts.values())
    return [(verdict, found[verdict]) for verdict in ORDER if found[verdict]]


def sdk_version() -> str:
    import wandb

    return wandb.__version__


def seed_names(folder: Path) -> set[str]:
    """The public names the seed pages document (their class, method, property and function
    headings), read from the pages themselves."""
    heading = re.compile(
        r"^(?:#+ )?(?:<kbd>)?(class|method|property|function)(?:</kbd>)? `?"
        r"([A-Za-z_][\w\\]*(?:\.[\w\\]+)?)",
        re.M,
    )
    found: set[str] = set()
    for page in sorted(folder.glob("*.txt")):
        text = page.read_text(encoding="utf-8")
        owner = "Artifact" if "## <kbd>class</kbd> Artifact\n" in text else ""
        for kind, raw in heading.findall(text):
            name = raw.replace("\\", "")
            if kind in ("method", "property") and "." not in name:
                if not owner:
                    continue  # prose such as "method instead."
                name = f"{owner}.{name}"
            found.add(name)
    return found
