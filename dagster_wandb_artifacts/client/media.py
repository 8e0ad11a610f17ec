"""W&B media in artifacts: ``Artifact.add(obj, name)`` and ``Artifact.get(name)``.

A pandas ``DataFrame`` or a :class:`Table` (columns and rows) is written as a W&B Table, in
W&B's own JSON (``<name>.table.json``: ``columns``, ``data``, ``column_types``...), without
importing ``wandb``: the SDK's ``artifact.get(name)`` reads it as a ``wandb.Table`` and W&B's UI
shows it as a table. Any ``wandb`` media object (``wandb.Table``, ``wandb.Image``...) is stored
by the SDK's own code when ``wandb`` is installed, so its files are exactly the SDK's.
``get(name)`` reads a table back as a ``DataFrame``; other media need ``wandb``.
"""

from __future__ import annotations

import datetime
import json
import math
import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..formats.manifest import ManifestEntry
    from .artifact import Artifact

TABLE_SUFFIX = ".table.json"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# W&B's names of the scalar types a table column holds (the SDK's ``wb_type``s).
_NONE, _BOOLEAN, _NUMBER, _STRING, _TIMESTAMP, _ANY = (
    "none",
    "boolean",
    "number",
    "string",
    "timestamp",
    "any",
)


class Table:
    """Columns and rows to store as a W&B Table, made as ``wandb.Table`` is:
    ``Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])`` or ``Table(dataframe=frame)``.

    Example::

        artifact.add(Table(columns=["id", "label"], data=rows), "labels")
        logged.get("labels")  # a pandas DataFrame
    """

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Iterable[Sequence[Any]] | None = None,
        dataframe: Any = None,
    ) -> None:
        if dataframe is not None:
            columns = [str(column) for column in dataframe.columns]
            data = dataframe.itertuples(index=False, name=None)
        self.data = [list(row) for row in data or []]
        if columns is None:
            width = len(self.data[0]) if self.data else 0
            columns = [f"Column {index + 1}" for index in range(width)]
        self.columns = [str(column) for column in columns]
        for number, row in enumerate(self.data):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"row {number} has {len(row)} values for {len(self.columns)} columns"
                )

    def to_json(self) -> dict[str, Any]:
        """The table in W&B's JSON (what ``<name>.table.json`` holds)."""
        kinds = [
            _column_kinds(self.columns[i], [row[i] for row in self.data])
            for i in range(len(self.columns))
        ]
        rows = [[_json_value(value) for value in row] for row in self.data]
        return {
            "_type": "table",
            "columns": self.columns,
            "data": rows,
            "ncols": len(self.columns),
            "nrows": len(rows),
            "column_types": {
                "wb_type": "typedDict",
                "params": {
                    "type_map": {
                        column: _type_json(found)
                        for column, found in zip(self.columns, kinds, strict=True)
                    }
                },
            },
            "log_mode": "IMMUTABLE",
        }

    @classmethod
    def from_json(cls, table: dict[str, Any]) -> Table:
        """The table in W&B's JSON, timestamps as ``datetime`` (UTC)."""
        if table.get("log_mode") == "INCREMENTAL":
            raise ValueError("an incremental W&B Table is read with the wandb SDK")
        columns = [str(column) for column in table["columns"]]
        type_map = ((table.get("column_types") or {}).get("params") or {}).get("type_map") or {}
        stamped = [i for i, column in enumerate(columns) if _TIMESTAMP in _kinds(type_map, column)]
        rows = [list(row) for row in table["data"]]
        for row in rows:
            for index in stamped:
                if isinstance(row[index], numbers.Number):
                    row[index] = _EPOCH + datetime.timedelta(milliseconds=row[index])
        return cls(columns, rows)

    def get_dataframe(self) -> Any:
        """The table as a pandas ``DataFrame`` (as ``wandb.Table.get_dataframe``)."""
        import pandas

        return pandas.DataFrame(self.data, columns=self.columns)


def _kinds(type_map: dict[str, Any], column: str) -> set[str]:
    declared = type_map.get(column) or {}
    if declared.get("wb_type") == "union":
        return {t.get("wb_type") for t in declared["params"]["allowed_types"]}
    return {declared.get("wb_type")}


def _kind(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _NONE
    if type(value).__name__ in ("NaTType", "NAType"):
        return _NONE
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return _BOOLEAN
    if isinstance(value, numbers.Number):
        return _NUMBER
    if isinstance(value, str):
        return _STRING
    if isinstance(value, datetime.datetime) or type(value).__name__ == "datetime64":
        return _TIMESTAMP
    if isinstance(value, list | tuple | dict):
        return _ANY
    raise TypeError(
        f"a W&B Table holds numbers, strings, booleans, timestamps, lists and dicts, not "
        f"{type(value).__name__}"
    )


def _column_kinds(column: str, values: list[Any]) -> set[str]:
    try:
        return {_kind(value) for value in values} | {_NONE}
    except TypeError as error:
        raise TypeError(f"column {column!r}: {error}") from None


def _type_json(kinds: set[str]) -> dict[str, Any]:
    if _ANY in kinds:
        return {"wb_type": _ANY}
    return {
        "wb_type": "union",
        "params": {"allowed_types": [{"wb_type": kind} for kind in sorted(kinds)]},
    }


def _json_value(value: Any) -> Any:
    kind = _kind(value)
    if kind == _NONE:
        return None
    if kind == _TIMESTAMP:
        stamp = value
        if not isinstance(stamp, datetime.datetime):  # numpy.datetime64
            stamp = stamp.astype("datetime64[us]").item()
        if hasattr(stamp, "to_pydatetime"):  # pandas.Timestamp
            stamp = stamp.to_pydatetime()
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=datetime.UTC)
        return (stamp - _EPOCH) // datetime.timedelta(milliseconds=1)
    if hasattr(value, "item") and not isinstance(value, list | tuple | dict):
        return value.item()  # numpy scalars
    return value


def table_path(name: str) -> str:
    """Where ``add(table, name)`` puts a table: ``name.table.json``, as the SDK names it."""
    return name if name.endswith(TABLE_SUFFIX) else name + TABLE_SUFFIX


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and type(obj).__module__.startswith("pandas")


def _is_wandb_media(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "wandb"


def add(artifact: Artifact, obj: Any, name: str, overwrite: bool = False) -> ManifestEntry:
    """Store ``obj`` at ``name`` in the draft ``artifact``; the entry it made."""
    if _is_wandb_media(obj):
        return _add_with_sdk(artifact, obj, name, overwrite)
    if _is_dataframe(obj):
        obj = Table(dataframe=obj)
    if not isinstance(obj, Table):
        raise TypeError(
            f"Artifact.add takes a pandas DataFrame, a Table or a wandb media object, not "
            f"{type(obj).__name__} (add_file and add_dir add files)"
        )
    path = table_path(name)
    existing = artifact.manifest.get(path)
    if existing is not None and not overwrite:
        return existing
    with artifact.new_file(path, mode="w" if overwrite else "x") as handle:
        json.dump(obj.to_json(), handle, sort_keys=True)
    return artifact.manifest.get(path)


def _add_with_sdk(artifact: Artifact, obj: Any, name: str, overwrite: bool) -> ManifestEntry:
    """The SDK writes the object (and every file it refers to) into an artifact of its own;
    those files are added here under the same paths."""
    import wandb

    staging = wandb.Artifact("media", "media")
    written = staging.add(obj, name, overwrite=True)
    for path, entry in staging.manifest.entries.items():
        if entry.ref is not None:
            artifact.add_reference(entry.ref, path, checksum=False)
        elif artifact.manifest.get(path) is None or overwrite:
            artifact.add_file(entry.local_path, path, overwrite=overwrite)
    return artifact.manifest.get(written.path)


#: W&B media ``Artifact.add`` takes, by ``wandb`` class: its log type (the SDK's ``_log_type``,
#: the middle of the entry ``<name>.<log type>.json``), known here without importing ``wandb``.
MEDIA_LOG_TYPES = {
    "Image": "image-file",
    "Audio": "audio-file",
    "Video": "video-file",
    "Html": "html-file",
    "Object3D": "object3D-file",
    "Molecule": "molecule-file",
    "Bokeh": "bokeh-file",
}


def object_log_type(path: str) -> str | None:
    """The log type of an entry a W&B object was stored as (``image.image-file.json``:
    ``image-file``), None for other files."""
    stem, dot, suffix = path.rpartition(".")
    if not dot or suffix != "json" or "." not in stem.rpartition("/")[2]:
        return None
    log_type = stem.rpartition(".")[2]
    return log_type if log_type in ("table", *MEDIA_LOG_TYPES.values()) else None


def get(artifact: Artifact, name: str) -> Any:
    """The object at ``name`` (as added, or its entry path) of a logged ``artifact``: a table
    as a ``DataFrame``, other W&B media as the ``wandb`` object (``wandb`` needed); None when
    there is none (as the SDK)."""
    if artifact.manifest.get(table_path(name)) is not None:
        stored = _read_json(artifact, table_path(name))
        return Table.from_json(stored).get_dataframe()
    prefix = name + "."
    media = [
        path
        for path in artifact.manifest.entries
        if path.startswith(prefix) and path.endswith(".json") and path.count(".", len(name)) == 2
    ]
    if artifact.manifest.get(name) is not None and object_log_type(name):
        media = [name]
    if not media:
        return None
    return _from_json(media[0], _read_json(artifact, media[0]), artifact)


def _from_json(path: str, stored: dict[str, Any], source: Any) -> Any:
    """The ``wandb`` object of the JSON stored at ``path``; ``source`` gives the files it
    names (``get_entry(path).download()``, as the SDK's ``from_json`` reads an artifact)."""
    log_type = path[: -len(".json")].rpartition(".")[2]
    try:
        from wandb.sdk.data_types.base_types.wb_value import WBValue
    except ImportError:
        raise ImportError(
            f"{path} is a W&B {log_type!r}: install wandb to read it (tables need nothing)"
        ) from None
    media_class = WBValue.type_mapping().get(log_type)
    if media_class is None:
        return None
    return media_class.from_json(stored, source)


def read_folder_object(folder: Path, path: str) -> Any:
    """The ``wandb`` object stored at entry ``path`` of a version downloaded into ``folder``
    (its media files beside it), as the SDK's ``artifact.get`` reads it."""
    source = _FolderSource(folder)
    stored = json.loads(source.get_entry(path).path.read_text(encoding="utf-8"))
    return _from_json(path, stored, source)


class _FolderEntry:
    def __init__(self, path: Path) -> None:
        self.path = path

    def download(self, root: Any = None, skip_cache: Any = None) -> str:
        return str(self.path)


class _FolderSource:
    """A downloaded version as the SDK's ``from_json`` reads an artifact: ``get_entry(path)
    .download()`` for a file, ``get(path)`` for a nested object (an image's classes). The
    paths come from stored JSON: each must stay inside the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()

    def get_entry(self, path: str) -> _FolderEntry:
        target = (self.folder / path).resolve()
        if not target.is_relative_to(self.folder) or not target.is_file():
            raise KeyError(f"the version has no file {path!r}")
        return _FolderEntry(target)

    def get(self, path: str) -> Any:
        return read_folder_object(self.folder, path)


def _read_json(artifact: Artifact, path: str) -> dict[str, Any]:
    local = artifact.get_entry(path).download()
    return json.loads(Path(local).read_text(encoding="utf-8"))
