"""``dagster/column_schema`` and ``dagster/row_count`` of tables, as Dagster's own I/O
managers report them: pandas and polars DataFrames, Arrow tables, W&B Tables."""

from __future__ import annotations

from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema

from .base import type_names

_FRAMES = {"pandas.DataFrame", "polars.DataFrame", "pyarrow.Table"}
_WANDB_TABLES = {"wandb.Table", "dagster_wandb_artifacts.Table"}


def _schema(columns: list[tuple[str, str]]) -> MetadataValue:
    return MetadataValue.table_schema(
        TableSchema(columns=[TableColumn(name=name, type=kind) for name, kind in columns])
    )


def _cell_types(values: list[Any]) -> str:
    """A W&B Table column's type: the Python types of its cells (they carry no dtype)."""
    kinds = sorted({type(value).__name__ for value in values if value is not None})
    return " | ".join(kinds) or "none"


def table_metadata(value: Any) -> dict[str, Any]:
    """The column schema and row count of a table value; empty for anything else."""
    names = type_names(type(value))
    if not names.isdisjoint(_FRAMES):
        if "pyarrow.Table" in names:
            columns = [(field.name, str(field.type)) for field in value.schema]
            rows = value.num_rows
        else:
            columns = [(str(c), str(t)) for c, t in zip(value.columns, value.dtypes, strict=True)]
            rows = len(value)
    elif not names.isdisjoint(_WANDB_TABLES):
        data = [list(row) for row in value.data]
        columns = [
            (str(column), _cell_types([row[index] for row in data]))
            for index, column in enumerate(value.columns)
        ]
        rows = len(data)
    else:
        return {}
    return {"dagster/column_schema": _schema(columns), "dagster/row_count": MetadataValue.int(rows)}


def human_size(size: int) -> str:
    """A byte count as people read it: ``1.5 MB (1,572,864 bytes)``."""
    amount, unit = float(size), "bytes"
    for next_unit in ("kB", "MB", "GB", "TB"):
        if amount < 1000:
            break
        amount, unit = amount / 1000, next_unit
    shown = f"{int(amount)} {unit}" if unit == "bytes" else f"{amount:.1f} {unit}"
    return shown if unit == "bytes" else f"{shown} ({size:,} bytes)"
