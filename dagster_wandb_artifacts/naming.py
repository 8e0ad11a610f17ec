"""Dagster asset keys as W&B collection names.

W&B names allow letters, digits, ``_``, ``-`` and ``.``, at most 128 characters. Key parts
are joined with ``.`` (which Dagster keys cannot contain, once escaped) and every other
character is escaped as ``-<hex>-`` (``-`` itself included), so no two keys share a name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from .formats.names import MAX_NAME_LENGTH

_PLAIN = re.compile(r"[A-Za-z0-9_]")
_HASH_LENGTH = 16


def _escape(part: str) -> str:
    return "".join(c if _PLAIN.match(c) else f"-{ord(c):x}-" for c in part)


def shorten(name: str, limit: int = MAX_NAME_LENGTH) -> str:
    """``name`` if it fits, else its head and a hash of the whole (still unique)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{name[: limit - _HASH_LENGTH - 1]}-{digest}"


def collection_name(asset_key_path: Sequence[str]) -> str:
    """The collection an asset's versions go to: ``prefix.name`` for key ``["prefix", "name"]``."""
    return shorten(".".join(_escape(part) for part in asset_key_path))
