"""``WandbArtifactPath``: the ``UPath`` of ``wandb-artifact://`` URLs (needs
``universal-pathlib``), registered through its entry point so UPath knows the protocol and
has no fallback to warn about."""

from __future__ import annotations

import fsspec
from upath import UPath

from .fs import PROTOCOL, WandbArtifactFileSystem

__all__ = ["WandbArtifactPath"]

# UPath takes a path's flavour from the imported fsspec class; without it, it warns.
fsspec.register_implementation(PROTOCOL, WandbArtifactFileSystem, clobber=True)


class WandbArtifactPath(UPath):
    """A lazy path into a logged artifact version: ``entity/project/name:alias/file``;
    reading a file fetches that file only (see :mod:`.fs`)."""

    __slots__ = ()
