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

# Each pattern ends in \Z, not $: $ also matches before a final newline ("name\n").
#: Entity, project, team and artifact (collection) names.
NAME = re.compile(r"^[\w\-.]+\Z")
#: Artifact types: words of letters, digits, '_', '-' and '.', with inner spaces.
TYPE_NAME = re.compile(r"^[-\w]+([ ]*[-.\w]+)*\Z")
#: Tags: words of letters, digits, '_' and '-', with inner spaces.
TAG = re.compile(r"^[-\w]+([ ]+[-\w]+)*\Z")

#: What free text (a description, notes) may not hold: control characters other than tab
#: and line breaks, the bidirectional overrides and isolates that make text read otherwise
#: than it is stored (U+202A-U+202E, U+2066-U+2069), and unpaired surrogates (which JSON's
#: ``\ud800`` escapes can make and no encoding can store).
UNSAFE_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)

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
    """At most :data:`MAX_NAME_LENGTH` printable characters (no control or format character,
    such as NUL, a newline or U+202E, no unpaired surrogate), none of them a separator."""
    return (
        bool(alias)
        and len(alias) <= MAX_NAME_LENGTH
        and alias.isprintable()
        and not any(c in alias for c in ALIAS_SEPARATORS)
    )


def unsafe_in_text(text: str) -> str | None:
    """The first character of free text that :data:`UNSAFE_TEXT` refuses, if any."""
    found = UNSAFE_TEXT.search(text)
    return None if found is None else found.group()


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
