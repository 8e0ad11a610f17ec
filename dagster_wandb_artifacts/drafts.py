"""What an asset returns, as an artifact draft: a draft ``Artifact`` (this package's or the
``wandb`` SDK's), files or folders (a ``Path`` or ``UPath``), or a value a serializer writes;
plus the files the asset's ``wandb_artifact`` metadata adds beside it."""

from __future__ import annotations

import os
import pathlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from upath import UPath

from . import serializers
from .client import Artifact, InvalidInputError
from .config import WandbArtifactConfig
from .formats.manifest import ManifestEntry
from .serializers import Pickler, Serializer, Serializers

#: ``dagster/serializer`` of outputs that are files (a Path) and drafts (an Artifact).
PATH, ARTIFACT = "path", "artifact"
#: Types already warned about being pickled, in this process (the warning is once per type).
_pickled_types: set[str] = set()
_pickled_lock = threading.Lock()


@dataclass
class Draft:
    """The draft to log, how it was written, the Dagster metadata its serializer adds (a
    table's column schema and row count), and the aliases and tags a ``wandb.Artifact`` draft
    carried (added to those of the asset's metadata)."""

    artifact: Artifact
    serializer: str
    metadata: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def is_sdk_artifact(obj: Any) -> bool:
    """A ``wandb.Artifact``, recognised without importing ``wandb``."""
    return "wandb.Artifact" in serializers.type_names(type(obj))


@dataclass(frozen=True)
class Target:
    """Where and how an output is written: the collection's name and type (for values and
    files), the staging folder, the serializers and pickler, who hears the pickling
    warning, and the storage options of references from config."""

    name: str
    artifact_type: str
    staging: pathlib.Path
    serializers: Serializers
    pickler: Pickler
    warn: Callable[[str], None]
    storage_options: dict | None = None


def draft_for(obj: Any, config: WandbArtifactConfig, target: Target) -> Draft:
    """The draft for ``obj``, with the files from config added."""
    draft = _draft(obj, config, target)
    add_config_files(draft.artifact, config, target.storage_options)
    return draft


def _draft(obj: Any, config: WandbArtifactConfig, target: Target) -> Draft:
    staging = target.staging
    if isinstance(obj, Artifact):
        if not obj.is_draft():
            raise InvalidInputError("return a draft Artifact (not a logged one) from the asset")
        return Draft(obj, ARTIFACT)
    if is_sdk_artifact(obj):
        return from_sdk_artifact(obj)
    artifact = Artifact(target.name, target.artifact_type, description=config.description)
    if isinstance(obj, UPath) and obj.protocol not in ("", "file", "local"):
        # Remote files are copied in once; to track them without a copy, return a draft
        # Artifact with add_reference instead (or list them in add_references).
        obj.fs.get(obj.path, str(staging / obj.name), recursive=True)
        obj = staging / obj.name
    if isinstance(obj, os.PathLike) and not isinstance(obj, (str, bytes)):
        path = pathlib.Path(os.fspath(obj))
        # Logged synchronously, so the files need no staging copy.
        if path.is_dir():
            artifact.add_dir(path, policy="immutable")
        elif path.is_file():
            artifact.add_file(path, policy="immutable")
        else:
            raise InvalidInputError(f"the asset returned {path}, which does not exist")
        artifact.metadata = {"dagster/path_kind": serializers.path_kind(path)}
        return Draft(artifact, PATH)
    pickler = target.pickler
    serializer = target.serializers.choose(obj, config.serializer, pickler)
    chose_pickler = config.serializer is not None or config.serialization_module is not None
    if serializer is pickler and not chose_pickler:
        _warn_pickled_once(obj, pickler, target.warn)
    serializer.write(obj, staging / serializer.file_name)
    artifact.add_dir(staging, policy="immutable")
    return Draft(artifact, serializer.name, metadata=dict(serializer.metadata(obj)))


def _warn_pickled_once(obj: Any, pickler: Serializer, warn: Callable[[str], None]) -> None:
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    with _pickled_lock:
        if kind in _pickled_types:
            return
        _pickled_types.add(kind)
    warn(
        f"no serializer handles {kind}: it is stored with {pickler.name} "
        f"({pickler.file_name}), which only Python with the same classes can read back. To "
        "store it otherwise, return files (a Path) or a wandb.Artifact, name a serializer in "
        "metadata={'wandb_artifact': {'serializer': ...}}, choose a pickler with "
        "'serialization_module', or pass your own to WandbArtifactsIOManager(serializers=[...])"
    )


def from_sdk_artifact(sdk: Any) -> Draft:
    """A ``wandb.Artifact`` draft as this package's: its files (the SDK's staged copies),
    references (with the digests the SDK computed), description, metadata, TTL and type.
    No pickle, and ``wandb`` is used only through the object itself."""
    if sdk.state != "PENDING":
        raise InvalidInputError(
            f"the asset returned the logged wandb.Artifact {sdk.name}: return a draft "
            "(wandb.Artifact(name, type) with its files), which the IO manager logs"
        )
    artifact = Artifact(
        sdk.name.split(":")[0], sdk.type, description=sdk.description, metadata=dict(sdk.metadata)
    )
    for path, entry in sdk.manifest.entries.items():
        if entry.ref is not None:
            artifact._add_entry(  # noqa: SLF001 - the SDK already hashed the reference
                ManifestEntry(
                    path=path,
                    digest=entry.digest,
                    size=entry.size,
                    ref=entry.ref,
                    extra=dict(entry.extra or {}),
                ),
                overwrite=True,
            )
        else:
            artifact.add_file(entry.local_path, path, policy="immutable")
    ttl = getattr(sdk, "_ttl_duration_seconds", None)
    if ttl is not None and ttl > 0:
        artifact.ttl = timedelta(seconds=ttl)
    # SDK 0.31 refuses aliases and tags on a draft (their properties need a logged version),
    # so they come from the asset's metadata; a draft that holds some anyway (another SDK
    # version, or set on its private fields) has them added to the metadata's.
    aliases = list(getattr(sdk, "_aliases", None) or [])
    tags = list(getattr(sdk, "_tags", None) or [])
    return Draft(artifact, ARTIFACT, aliases=aliases, tags=tags)


def add_config_files(
    artifact: Artifact, config: WandbArtifactConfig, storage_options: dict | None = None
) -> None:
    """The ``add_dirs``, ``add_files`` and ``add_references`` of the asset's metadata: their
    fields are the arguments of the ``Artifact`` methods of the same names."""
    for folder in config.add_dirs:
        artifact.add_dir(**folder.model_dump())
    for file in config.add_files:
        artifact.add_file(**file.model_dump())
    for reference in config.add_references:
        artifact.add_reference(**reference.model_dump(), storage_options=storage_options)
