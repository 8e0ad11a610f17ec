"""How asset values become artifact files and back.

Each :class:`Serializer` writes a value into one file and reads it back; the IO manager
records which one it used in the version's metadata (``dagster/serializer``), so loading
never guesses. Users add their own (``WandbArtifactsIOManager(serializers=[...])``), tried
before the built-ins. Metadata is not proof of who wrote a version (any W&B client can write
it), so a serializer that is not ``trusted`` (the picklers) only reads back the exact version
this Dagster deployment recorded for the upstream materialization, or on ``allow_pickle``.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .base import SERIALIZER_KEY, SerializationError, Serializer, type_names
from .builtin import BUILTINS, WandbTable
from .picklers import PICKLE_MODULES, Pickler
from .tables import human_size, table_metadata

__all__ = [
    "BUILTINS",
    "PICKLE_MODULES",
    "SERIALIZER_KEY",
    "WANDB_TABLE",
    "Pickler",
    "SerializationError",
    "Serializer",
    "Serializers",
    "human_size",
    "path_kind",
    "table_metadata",
    "type_names",
]

#: The file of the ``wandb-table`` serializer: the table ``artifact.get("table")`` reads.
WANDB_TABLE = WandbTable.file_name
#: Files written by ``dagster-wandb`` for pickled outputs (read for migration, on opt-in), and
#: the metadata key naming the module that wrote them.
LEGACY_PICKLE = "output.pickle"
LEGACY_MODULE_KEY = "source_serialization_module"


class Serializers:
    """The serializers an IO manager uses: the user's first, in order, then the built-ins;
    the picklers take what none of them handles."""

    def __init__(self, user: Iterable[Serializer] = ()) -> None:
        self.user = tuple(user)
        for serializer in self.user:
            if not isinstance(serializer, Serializer):
                raise SerializationError(
                    f"{serializer!r} is not a Serializer: subclass "
                    "dagster_wandb_artifacts.serializers.Serializer"
                )
        self._by_name: dict[str, Serializer] = {}
        for serializer in (*BUILTINS, *(Pickler(m) for m in PICKLE_MODULES), *self.user):
            self._by_name[serializer.name] = serializer  # the user's win a name clash

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)

    def named(self, name: str) -> Serializer:
        if name not in self._by_name:
            close = difflib.get_close_matches(name, self.names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SerializationError(
                f"unknown serializer {name!r}: {hint}choose one of {self.names}"
            )
        return self._by_name[name]

    def choose(self, value: Any, name: str | None, pickler: Pickler) -> Serializer:
        """The serializer named in config, else the first that handles the value's type,
        else ``pickler``."""
        if name is not None:
            serializer = pickler if name == pickler.name else self.named(name)
            if not serializer.handles(value):
                raise SerializationError(
                    f"serializer {name!r} cannot write a {type(value).__name__}"
                )
            return serializer
        for serializer in (*self.user, *BUILTINS):
            if serializer.automatic and serializer.handles(value):
                return serializer
        return pickler

    def read_entry(
        self, path: Path, entry: str, metadata: Mapping[str, Any], *, allow_pickle: bool
    ) -> Any:
        """The value in one downloaded entry: by the serializer the version's metadata names
        when ``entry`` is its file, else the file's bytes."""
        serializer = self._by_name.get(metadata.get(SERIALIZER_KEY))
        if serializer is None or serializer.file_name != entry:
            return path.read_bytes()
        _check_trust(serializer, allow_pickle)
        return serializer.read(path)

    def read(self, folder: Path, metadata: Mapping[str, Any], *, allow_pickle: bool) -> Any:
        """The value stored in a downloaded version, by the serializer its metadata names;
        ``allow_pickle``: the version is trusted to hold a pickle (recorded by this Dagster
        deployment, or an input's opt-in)."""
        name = metadata.get(SERIALIZER_KEY)
        if name in self._by_name:
            serializer = self._by_name[name]
            _check_trust(serializer, allow_pickle)
            return serializer.read(folder / serializer.file_name)
        legacy = folder / LEGACY_PICKLE
        if legacy.is_file():
            if not allow_pickle:
                raise SerializationError(
                    "this version holds a dagster-wandb pickle (output.pickle): set "
                    "allow_pickle=True on the input to load it, only if you trust its writer"
                )
            return Pickler(metadata.get(LEGACY_MODULE_KEY) or "pickle").read(legacy)
        files = [p for p in folder.rglob("*") if p.is_file()]
        if len(files) == 1 and files[0].suffix == ".json":
            return json.loads(files[0].read_text())
        raise SerializationError(
            "this version was not written by the Dagster IO manager: annotate the input as "
            "pathlib.Path (its files) or Artifact, name one entry with get or get_path, or set "
            "load_as in the input's wandb_artifact metadata"
        )


def _check_trust(serializer: Serializer, allow_pickle: bool) -> None:
    if serializer.trusted or allow_pickle:
        return
    raise SerializationError(
        f"this version says it holds a {serializer.name} pickle, but it is not the version "
        "this Dagster deployment recorded for the upstream materialization (metadata proves "
        "nothing about its writer): set allow_pickle=True on the input only if you trust "
        "whoever can log to its collection"
    )


def path_kind(path: os.PathLike) -> str:
    return "file" if Path(path).is_file() else "dir"
