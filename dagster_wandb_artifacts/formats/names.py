"""W&B's names that both sides spell the same way, and the rules W&B holds names to.

The client refuses a bad name before sending it and the server refuses it on arrival; each
answers with its own errors, from the one set of rules here.
"""

from __future__ import annotations

import re

#: A registry is the project ``wandb-registry-<name>`` of the organization's entity.
REGISTRY_PREFIX = "wandb-registry-"

#: The longest entity, project, artifact, type, alias, tag or run id W&B accepts.
MAX_NAME_LENGTH = 128
#: The most top-level keys W&B accepts in an artifact's metadata.
MAX_METADATA_KEYS = 100

#: Entity, project, team and artifact (collection) names.
NAME = re.compile(r"^[\w\-.]+$")
#: Artifact types: words of letters, digits, '_', '-' and '.', with inner spaces.
TYPE_NAME = re.compile(r"^[-\w]+([ ]*[-.\w]+)*$")
#: Tags: words of letters, digits, '_' and '-', with inner spaces.
TAG = re.compile(r"^[-\w]+([ ]+[-\w]+)*$")

#: What an alias may not hold: the separators of ``entity/project/name:alias``.
ALIAS_SEPARATORS = "/:"

#: Artifact types W&B keeps for its own use (``job``, and every ``wandb-`` type).
RESERVED_TYPES = frozenset({"job"})
RESERVED_TYPE_PREFIX = "wandb-"

#: What W&B refuses in a run id (the SDK's ``Settings.run_id`` rule), plus what is unsafe
#: anywhere a name could end up: a backslash and control characters.
RUN_ID_RESERVED = frozenset(":;,#?/'\\")


def fits(pattern: re.Pattern[str], value: str) -> bool:
    """Whether ``value`` is a non-empty name of at most :data:`MAX_NAME_LENGTH` characters
    that ``pattern`` matches."""
    return bool(value) and len(value) <= MAX_NAME_LENGTH and pattern.match(value) is not None


def is_alias(alias: str) -> bool:
    return (
        bool(alias)
        and len(alias) <= MAX_NAME_LENGTH
        and not any(c in alias for c in ALIAS_SEPARATORS)
    )


def is_reserved_type(type_name: str) -> bool:
    return type_name in RESERVED_TYPES or type_name.startswith(RESERVED_TYPE_PREFIX)


def is_run_id(run_id: str) -> bool:
    return (
        bool(run_id.strip())
        and run_id == run_id.strip()
        and len(run_id) <= MAX_NAME_LENGTH
        and run_id not in (".", "..")
        and not any(c in RUN_ID_RESERVED or not c.isprintable() for c in run_id)
    )
