"""The client's checks of W&B names (the rules are in :mod:`..formats.names`) and artifact paths
(``entity/project/name:alias``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..formats.names import (
    MAX_METADATA_KEYS,
    MAX_NAME_LENGTH,
    NAME,
    TAG,
    TYPE_NAME,
    fits,
    is_alias,
    is_reserved_type,
)
from .errors import InvalidInputError

LATEST = "latest"


def validate_name(name: str, what: str = "artifact name") -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{what} must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{what} {name[:40]!r}... is {len(name)} characters; W&B allows {MAX_NAME_LENGTH}"
        )
    if not NAME.match(name):
        raise InvalidInputError(
            f"{what} {name!r} may contain only letters, digits, '_', '-' and '.'"
        )
    return name


def validate_type(type_name: str) -> str:
    if not isinstance(type_name, str) or not TYPE_NAME.match(type_name or ""):
        raise InvalidInputError(
            f"artifact type {type_name!r} may contain only letters, digits, '_', '-', '.' and "
            "inner spaces"
        )
    if len(type_name) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"artifact type is longer than {MAX_NAME_LENGTH} characters")
    if is_reserved_type(type_name):
        raise InvalidInputError(
            f"artifact type {type_name!r} is reserved for W&B's internal use: choose another "
            "(for example 'dataset' or 'model')"
        )
    return type_name


def validate_alias(alias: str) -> str:
    if not isinstance(alias, str) or not alias or len(alias) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"alias {alias!r} must be a non-empty string of at most {MAX_NAME_LENGTH} characters"
        )
    if not is_alias(alias):
        raise InvalidInputError(f"alias {alias!r} may not contain '/' or ':'")
    return alias


def validate_tag(tag: str) -> str:
    if not isinstance(tag, str) or not fits(TAG, tag):
        raise InvalidInputError(
            f"tag {tag!r} may contain only letters, digits, '_', '-' and single inner spaces"
        )
    return tag


def validate_metadata(metadata: dict | None) -> dict:
    """A JSON copy of ``metadata`` (a dict, or a string of one in JSON), refused as the SDK
    refuses it: ``TypeError`` for what is not a dict or not JSON, ``ValueError`` for a string
    that is not JSON, for NaN or infinity and for too many keys."""
    if metadata is None or metadata == "":
        return {}
    if isinstance(metadata, str):  # the SDK reads a string as JSON (ValueError when it is not)
        return validate_metadata(json.loads(metadata))
    if not isinstance(metadata, dict):
        raise TypeError(f"Cannot parse {type(metadata)} as artifact metadata")
    copied = json.loads(json.dumps(metadata, allow_nan=False))
    if len(copied) > MAX_METADATA_KEYS:
        raise InvalidInputError(
            f"metadata has {len(copied)} keys; W&B allows at most {MAX_METADATA_KEYS}"
        )
    return copied


@dataclass(frozen=True)
class ArtifactPath:
    """``entity/project/name:alias`` with the parts a short form leaves out filled in."""

    entity: str
    project: str
    name: str
    alias: str = LATEST

    @classmethod
    def parse(cls, path: str, *, entity: str, project: str) -> ArtifactPath:
        if not isinstance(path, str) or not path:
            raise InvalidInputError("an artifact path must be a non-empty string")
        body, _, alias = path.partition(":")
        parts = body.split("/")
        if len(parts) > 3 or not all(parts):
            raise InvalidInputError(
                f"artifact path {path!r} must look like 'name', 'project/name' or "
                "'entity/project/name', with an optional ':alias'"
            )
        name = parts[-1]
        project = parts[-2] if len(parts) >= 2 else project
        entity = parts[-3] if len(parts) == 3 else entity
        return cls(entity, project, validate_name(name), alias or LATEST)

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}:{self.alias}"


def normalize_path(name: str) -> str:
    """An artifact path: forward slashes, no leading './' or '/'."""
    path = Path(name).as_posix() if os.sep != "/" else name
    path = path.lstrip("/")
    while path.startswith("./"):
        path = path[2:]
    if not path or any(part == ".." for part in path.split("/")):
        raise InvalidInputError(f"invalid artifact path {name!r}")
    return path
