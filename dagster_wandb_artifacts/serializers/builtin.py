"""The built-in serializers, written against the public :class:`~.base.Serializer` interface."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..client.media import MEDIA_LOG_TYPES, Table, read_folder_object, table_path
from .base import SerializationError, Serializer
from .tables import table_metadata


class _TableMetadata(Serializer):
    """Reports the column schema and row count of the tables it writes."""

    def metadata(self, value: Any) -> dict[str, Any]:
        return table_metadata(value)


class PandasParquet(_TableMetadata):
    name = "pandas-parquet"
    file_name = "data.parquet"
    types = ("pandas.DataFrame",)

    def write(self, value: Any, path: Path) -> None:
        value.to_parquet(path)

    def read(self, path: Path) -> Any:
        import pandas

        return pandas.read_parquet(path)


class PolarsParquet(_TableMetadata):
    name = "polars-parquet"
    file_name = "data.parquet"
    types = ("polars.DataFrame",)

    def write(self, value: Any, path: Path) -> None:
        value.write_parquet(path)

    def read(self, path: Path) -> Any:
        import polars

        return polars.read_parquet(path)


class ArrowParquet(_TableMetadata):
    name = "arrow-parquet"
    file_name = "data.parquet"
    types = ("pyarrow.Table",)

    def write(self, value: Any, path: Path) -> None:
        import pyarrow.parquet

        pyarrow.parquet.write_table(value, path)

    def read(self, path: Path) -> Any:
        import pyarrow.parquet

        return pyarrow.parquet.read_table(path)


class Numpy(Serializer):
    name = "numpy"
    file_name = "array.npy"
    types = ("numpy.ndarray",)

    def write(self, value: Any, path: Path) -> None:
        import numpy

        numpy.save(path, value, allow_pickle=False)

    def read(self, path: Path) -> Any:
        import numpy

        return numpy.load(path, allow_pickle=False)


class Bytes(Serializer):
    name = "bytes"
    file_name = "value.bin"
    types = (bytes, bytearray)

    def write(self, value: Any, path: Path) -> None:
        path.write_bytes(bytes(value))

    def read(self, path: Path) -> Any:
        return path.read_bytes()


class Text(Serializer):
    name = "text"
    file_name = "value.txt"
    types = (str,)

    def write(self, value: Any, path: Path) -> None:
        path.write_text(value, encoding="utf-8")

    def read(self, path: Path) -> Any:
        return path.read_text(encoding="utf-8")


class Json(Serializer):
    """Dicts, lists and scalars that JSON holds exactly (no NaN, string keys)."""

    name = "json"
    file_name = "value.json"

    def handles(self, value: Any) -> bool:
        if not isinstance(value, (dict, list, int, float, bool)) and value is not None:
            return False
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return False
        return True

    def write(self, value: Any, path: Path) -> None:
        path.write_text(json.dumps(value, allow_nan=False))

    def read(self, path: Path) -> Any:
        return json.loads(path.read_text())


class WandbTable(_TableMetadata):
    """A W&B Table the UI shows and the SDK reads with ``artifact.get("table")``; loaded back
    as a pandas DataFrame. Chosen for ``wandb.Table`` (written by the SDK's own code, media
    cells included) and this package's ``Table``; a pandas DataFrame only when named."""

    name = "wandb-table"
    file_name = table_path("table")
    types = ("wandb.Table", Table)

    def handles(self, value: Any) -> bool:
        return super().handles(value) or PandasParquet().handles(value)

    def write(self, value: Any, path: Path) -> None:
        if isinstance(value, Table) or PandasParquet().handles(value):
            table = value if isinstance(value, Table) else Table(dataframe=value)
            path.write_text(json.dumps(table.to_json(), sort_keys=True))
            return
        _write_with_sdk(value, "table", path.parent)

    def read(self, path: Path) -> Any:
        return Table.from_json(json.loads(path.read_text())).get_dataframe()


class WandbMedia(Serializer):
    """A ``wandb`` media object (``wandb.Image``, ``wandb.Audio``...) stored as the SDK's
    ``artifact.add(obj, entry)`` stores it: ``<entry>.<log type>.json`` and, beside it, the
    media file(s) it names (``media/images/<hash>.png``). Read back as the ``wandb`` object,
    by this package and by the SDK's ``artifact.get(entry)``; ``entry`` is the class name in
    lower case (``image``, ``audio``, ``object3d``)."""

    def __init__(self, kind: str) -> None:
        self.entry = kind.lower()
        self.name = f"wandb-{self.entry}"
        self.file_name = f"{self.entry}.{MEDIA_LOG_TYPES[kind]}.json"
        self.types = (f"wandb.{kind}",)

    def write(self, value: Any, path: Path) -> None:
        _write_with_sdk(value, self.entry, path.parent)

    def read(self, path: Path) -> Any:
        return read_folder_object(path.parent, path.name)


def _write_with_sdk(value: Any, name: str, folder: Path) -> None:
    """Files the ``wandb`` SDK writes for a media object at ``name``, copied into ``folder``
    under their artifact paths (a table's media cells, an image's file)."""
    import wandb

    # An object read with the SDK's artifact.get keeps its source, and the SDK would store a
    # reference to it (resolved through W&B) instead of its files.
    if getattr(value, "_artifact_source", None) is not None:
        raise SerializationError(
            f"this wandb.{type(value).__name__} was read from another artifact, which the SDK "
            "stores as a reference, not as files: return a new object of its data, or a "
            "wandb.Artifact draft with artifact.add(obj, name)"
        )
    staging = wandb.Artifact("media", "media")
    staging.add(value, name, overwrite=True)
    for artifact_path, entry in staging.manifest.entries.items():
        target = folder / artifact_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.local_path, target)


BUILTINS: tuple[Serializer, ...] = (
    PandasParquet(),
    PolarsParquet(),
    ArrowParquet(),
    Numpy(),
    Bytes(),
    Text(),
    Json(),
    WandbTable(),
    *(WandbMedia(kind) for kind in MEDIA_LOG_TYPES),
)
