"""Dagster partition keys as W&B aliases.

Each partition's data is a version of the asset's collection, found by the alias
``p-<key>``. W&B aliases refuse ``/`` and ``:`` and must stay clear of ``latest`` and ``vN``,
so the key is prefixed, characters outside ``[A-Za-z0-9_.-]`` become ``_``, and when that
loses information (or the alias would pass 128 characters) a short hash of the raw key
keeps aliases of distinct keys distinct. The raw key is kept in the version's metadata
(``dagster/partition_key``).

Examples: ``2024-05-01`` -> ``p-2024-05-01``; ``2024-05-01-13:00`` -> ``p-2024-05-01-13_00-…``;
a multi-partition key ``2024-05-01|red`` -> ``p-2024-05-01_red-…``; ``latest`` -> ``p-latest``.
"""

from __future__ import annotations

import hashlib
import re

from .formats.names import MAX_NAME_LENGTH

PREFIX = "p-"
KEY_METADATA = "dagster/partition_key"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_HASH_LENGTH = 10


def partition_alias(key: str) -> str:
    safe = _UNSAFE.sub("_", key)
    alias = f"{PREFIX}{safe}"
    if safe == key and len(alias) <= MAX_NAME_LENGTH:
        return alias
    digest = hashlib.sha1(key.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{alias[: MAX_NAME_LENGTH - _HASH_LENGTH - 1]}-{digest}"
