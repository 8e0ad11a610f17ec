"""One entry of a version, for an input's ``get`` (the object) or ``get_path`` (its local
path), as ``dagster-wandb``'s options of the same names: only that entry is downloaded."""

from __future__ import annotations

import pathlib
from typing import Any

from .client import Artifact, NotFoundError, media
from .serializers import Serializers

_LISTED_ENTRIES = 10


def entry_path(artifact: Artifact, name: str, root: pathlib.Path) -> pathlib.Path:
    """The entry ``name`` of ``artifact`` downloaded alone under ``root``."""
    try:
        entry = artifact.get_entry(name)
    except KeyError:
        paths = sorted(artifact.manifest.entries)
        listed = ", ".join(paths[:_LISTED_ENTRIES])
        listed += " ..." if len(paths) > _LISTED_ENTRIES else ""
        raise NotFoundError(
            f"{artifact.qualified_name} has no entry {name!r} (get / get_path name a file of "
            f"the version, or a W&B object added with add(obj, name)); its entries: {listed}"
        ) from None
    return pathlib.Path(entry.download(root))


def entry_value(
    artifact: Artifact,
    name: str,
    root: pathlib.Path,
    chosen: Serializers,
    *,
    allow_pickle: bool,
) -> Any:
    """The object at ``name``: a W&B object added with ``add(obj, name)``, by that name or
    its entry (a table as a DataFrame, media as the ``wandb`` object with its files), else the
    file ``name`` read by the serializer that wrote it, else its bytes."""
    if artifact.manifest.get(name) is None or media.object_log_type(name):
        found = artifact.get(name)
        if found is not None:
            return found
    path = entry_path(artifact, name, root)
    return chosen.read_entry(path, name, artifact.metadata, allow_pickle=allow_pickle)
