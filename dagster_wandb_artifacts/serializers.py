"""How asset values become artifact files and back.

Each serializer writes a value into a folder of files and reads it back; the IO manager
records which one it used in the version's metadata (``dagster/serializer``), so loading
never guesses. Metadata is not proof of who wrote a version (any W&B client can write it), so
a pickle is only read back from the exact version this Dagster deployment recorded for the
upstream materialization, or when an input opts in with ``allow_pickle``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import InvalidInputError
from .client.media import Table, table_path

SERIALIZER_KEY = "dagster/serializer"
#: The file of the ``wandb-table`` serializer: the table ``artifact.get("table")`` reads.
WANDB_TABLE = table_path("table")


class SerializationError(InvalidInputError):
    """A value no serializer can write, or files no serializer can read."""


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _is_json(value: Any) -> bool:
    if not isinstance(value, (dict, list, int, float, bool)) and value is not None:
        return False
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _is_pandas(value: Any) -> bool:
    return type(value).__module__.startswith("pandas") and type(value).__name__ == "DataFrame"


def _is_polars(value: Any) -> bool:
    return type(value).__module__.startswith("polars") and type(value).__name__ == "DataFrame"


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ == "ndarray"


def _write_pickle(value: Any, folder: Path) -> None:
    dumps = pickle.dumps
    if _has("cloudpickle"):
        import cloudpickle

        dumps = cloudpickle.dumps
    try:
        data = dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise SerializationError(
            f"cannot store a {type(value).__name__}: it cannot be pickled ({exc}); return "
            "data (a DataFrame, an array, JSON, bytes) or a Path, or choose a serializer"
        ) from exc
    (folder / "value.pickle").write_bytes(data)


def _read_pickle(folder: Path) -> Any:
    return pickle.loads((folder / "value.pickle").read_bytes())  # noqa: S301 - opt-in only


def _write_parquet(value: Any, folder: Path) -> None:
    path = folder / "data.parquet"
    if _is_polars(value):
        value.write_parquet(path)
    else:
        value.to_parquet(path)


def _read_pandas(folder: Path) -> Any:
    import pandas

    return pandas.read_parquet(folder / "data.parquet")


def _read_polars(folder: Path) -> Any:
    import polars

    return polars.read_parquet(folder / "data.parquet")


def _write_numpy(value: Any, folder: Path) -> None:
    import numpy

    numpy.save(folder / "array.npy", value, allow_pickle=False)


def _read_numpy(folder: Path) -> Any:
    import numpy

    return numpy.load(folder / "array.npy", allow_pickle=False)


def _is_table(value: Any) -> bool:
    return _is_pandas(value) or isinstance(value, Table)


def _write_wandb_table(value: Any, folder: Path) -> None:
    table = value if isinstance(value, Table) else Table(dataframe=value)
    (folder / WANDB_TABLE).write_text(json.dumps(table.to_json(), sort_keys=True))


def _read_wandb_table(folder: Path) -> Any:
    return Table.from_json(json.loads((folder / WANDB_TABLE).read_text())).get_dataframe()


@dataclass(frozen=True)
class Serializer:
    """A named way to store values of some types as files."""

    name: str
    handles: Callable[[Any], bool]
    write: Callable[[Any, Path], None]
    read: Callable[[Path], Any]


SERIALIZERS: dict[str, Serializer] = {
    s.name: s
    for s in [
        Serializer("pandas-parquet", _is_pandas, _write_parquet, _read_pandas),
        Serializer("polars-parquet", _is_polars, _write_parquet, _read_polars),
        Serializer("numpy", _is_numpy, _write_numpy, _read_numpy),
        Serializer(
            "bytes",
            lambda v: isinstance(v, (bytes, bytearray)),
            lambda v, f: (f / "value.bin").write_bytes(bytes(v)),
            lambda f: (f / "value.bin").read_bytes(),
        ),
        Serializer(
            "text",
            lambda v: isinstance(v, str),
            lambda v, f: (f / "value.txt").write_text(v, encoding="utf-8"),
            lambda f: (f / "value.txt").read_text(encoding="utf-8"),
        ),
        Serializer(
            "json",
            _is_json,
            lambda v, f: (f / "value.json").write_text(json.dumps(v, allow_nan=False)),
            lambda f: json.loads((f / "value.json").read_text()),
        ),
        Serializer("pickle", lambda v: True, _write_pickle, _read_pickle),
        # Opt-in only (after pickle, which takes anything): a W&B Table the UI shows and the
        # SDK reads with ``artifact.get("table")``, loaded back as a pandas DataFrame.
        Serializer("wandb-table", _is_table, _write_wandb_table, _read_wandb_table),
    ]
}

#: Files written by ``dagster-wandb`` for pickled outputs (read for migration, on opt-in).
LEGACY_PICKLE = "output.pickle"


def choose(value: Any, name: str | None) -> Serializer:
    """The serializer named in config, else the first one that handles the value's type."""
    if name is not None:
        if name not in SERIALIZERS:
            raise SerializationError(
                f"unknown serializer {name!r}: choose one of {sorted(SERIALIZERS)}"
            )
        serializer = SERIALIZERS[name]
        if not serializer.handles(value):
            raise SerializationError(f"serializer {name!r} cannot write a {type(value).__name__}")
        return serializer
    return next(s for s in SERIALIZERS.values() if s.handles(value))


def read(folder: Path, metadata: dict[str, Any], *, allow_pickle: bool) -> Any:
    """The value stored in a downloaded version, by the serializer its metadata names;
    ``allow_pickle``: the version is trusted to hold a pickle (recorded by this Dagster
    deployment, or an input's opt-in)."""
    name = metadata.get(SERIALIZER_KEY)
    if name == "pickle" and not allow_pickle:
        raise SerializationError(
            "this version says it holds a pickle, but it is not the version this Dagster "
            "deployment recorded for the upstream materialization (metadata proves nothing "
            "about its writer): set allow_pickle=True on the input only if you trust whoever "
            "can log to its collection"
        )
    if name in SERIALIZERS:
        return SERIALIZERS[name].read(folder)
    legacy = folder / LEGACY_PICKLE
    if legacy.is_file():
        if not allow_pickle:
            raise SerializationError(
                "this version holds a dagster-wandb pickle (output.pickle): set "
                "allow_pickle=True on the input to load it, only if you trust its writer"
            )
        return pickle.loads(legacy.read_bytes())  # noqa: S301 - explicit opt-in
    files = [p for p in folder.rglob("*") if p.is_file()]
    if len(files) == 1 and files[0].suffix == ".json":
        return json.loads(files[0].read_text())
    raise SerializationError(
        "this version was not written by the Dagster IO manager: annotate the input as "
        "pathlib.Path (its files) or Artifact, or set load_as in the input's wandb_artifact "
        "metadata"
    )


def path_kind(path: os.PathLike) -> str:
    return "file" if Path(path).is_file() else "dir"
