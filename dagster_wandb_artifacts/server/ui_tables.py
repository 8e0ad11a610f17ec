"""Tables as tables: one page of rows of a W&B Table (``.table.json``), Parquet, Arrow or
CSV/TSV file, with its columns' types.

A page reads only what it shows where the format allows: Parquet's row groups before the
page are skipped by their metadata and the page's group read batch by batch; an Arrow IPC
file's record batches are reached by index. CSV has no index: rows before the page are read
and dropped (bounded by :data:`SCAN_BYTES`). A W&B Table is one JSON document, read whole up
to :data:`JSON_BYTES`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from . import blobs

#: Rows on one page.
PAGE_ROWS = 50
#: A W&B Table larger than this is not parsed.
JSON_BYTES = 16 * 1024 * 1024
#: Bytes of a CSV file read to reach a page at most.
SCAN_BYTES = 64 * 1024 * 1024
#: Rows of a Parquet batch decoded at a time while reaching a page.
_SKIP_BATCH = 8192
#: Characters of a cell shown.
CELL_CHARS = 300
_SUFFIXES = (".table.json", ".parquet", ".arrow", ".feather", ".ipc", ".csv", ".tsv")


@dataclass
class TablePage:
    """``columns``: (name, type) pairs; ``total``: rows in all, when the format says."""

    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    offset: int = 0
    total: int | None = None
    has_next: bool = False
    note: str = ""

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.rows)


def is_table(name: str) -> bool:
    return name.lower().endswith(_SUFFIXES)


def offset_of(raw: str | None) -> int:
    if raw is None or not raw.isdigit():
        return 0
    return min(int(raw), 10**15) // PAGE_ROWS * PAGE_ROWS


def table_page(store: blobs.BlobStore, md5_hex: str, name: str, offset: int) -> TablePage:
    key = blobs.object_key(md5_hex)
    if not store.exists(key):
        return TablePage(note="the file's bytes are missing from the storage")
    lower = name.lower()
    with store.open(key) as file:
        try:
            if lower.endswith(".table.json"):
                return _wandb_table(file, offset)
            if lower.endswith(".parquet"):
                return _parquet(file, offset)
            if lower.endswith((".arrow", ".feather", ".ipc")):
                return _arrow(file, offset)
            return _csv(file, "\t" if lower.endswith(".tsv") else ",", offset)
        except ImportError:
            return TablePage(note="install pyarrow to read this kind of table")
        except Exception as exc:  # noqa: BLE001 (a damaged file is shown, not raised)
            return TablePage(note=f"not a readable table: {type(exc).__name__}: {exc}"[:300])


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "…"


def _cells(rows: Iterable[Iterable[Any]]) -> list[list[str]]:
    return [[_cell(value) for value in row] for row in rows]


def _arrow_columns(schema: Any) -> list[tuple[str, str]]:
    return [(f.name, str(f.type)) for f in schema]


def _arrow_rows(batches: Iterable[Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for batch in batches:
        columns = [column.to_pylist() for column in batch.columns]
        rows.extend(_cells(zip(*columns, strict=True)))
    return rows


def _parquet(file: Any, offset: int) -> TablePage:
    import pyarrow.parquet as pq  # noqa: PLC0415 (optional: installed with the test extras)

    parquet = pq.ParquetFile(file)
    meta = parquet.metadata
    start = 0
    for group in range(meta.num_row_groups):
        rows_here = meta.row_group(group).num_rows
        if start + rows_here > offset:
            break
        start += rows_here
    else:
        group = meta.num_row_groups
    page = TablePage(_arrow_columns(parquet.schema_arrow), offset=offset, total=meta.num_rows)
    if group < meta.num_row_groups:
        # Batches from the group that holds the page's first row (and the next ones, if the
        # page spans groups); batches before the page are passed over undecoded to Python.
        groups = list(range(group, meta.num_row_groups))
        batches = parquet.iter_batches(batch_size=_SKIP_BATCH, row_groups=groups)
        page.rows = list(islice(_arrow_rows_each(_from_row(batches, offset - start)), PAGE_ROWS))
    page.has_next = offset + len(page.rows) < meta.num_rows
    return page


def _from_row(batches: Iterable[Any], skip: int) -> Iterator[Any]:
    """The batches from row ``skip`` on: whole batches before it are dropped as they are."""
    for batch in batches:
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        yield batch.slice(skip, PAGE_ROWS + 1)
        skip = 0


def _arrow_rows_each(batches: Iterable[Any]) -> Iterator[list[str]]:
    for batch in batches:
        yield from _arrow_rows([batch])


def _arrow(file: Any, offset: int) -> TablePage:
    import pyarrow as pa  # noqa: PLC0415

    try:
        reader = pa.ipc.open_file(file)
    except pa.ArrowInvalid:
        file.seek(0)
        stream = pa.ipc.open_stream(file)
        page = TablePage(_arrow_columns(stream.schema), offset=offset)
        rows = list(islice(_arrow_rows_each(_from_row(stream, offset)), PAGE_ROWS + 1))
    else:
        page = TablePage(_arrow_columns(reader.schema), offset=offset)
        batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        rows = list(islice(_arrow_rows_each(_from_row(batches, offset)), PAGE_ROWS + 1))
    page.rows, page.has_next = rows[:PAGE_ROWS], len(rows) > PAGE_ROWS
    return page


def _infer(rows: list[list[str]], width: int) -> list[str]:
    """Each column's type as the shown rows suggest it (CSV carries none)."""
    kinds = []
    for index in range(width):
        cells = [row[index] for row in rows if index < len(row) and row[index] != ""]
        kind = "int" if cells else "string"
        for cell in cells:
            try:
                int(cell)
            except ValueError:
                try:
                    float(cell)
                    kind = "float"
                except ValueError:
                    kind = "string"
                    break
        kinds.append(kind)
    return kinds


class _Bounded(io.RawIOBase):
    """A file read at most ``limit`` bytes far."""

    def __init__(self, file: Any, limit: int) -> None:
        self._file, self._left = file, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._file.read(min(len(buffer), self._left))
        self._left -= len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _csv(file: Any, delimiter: str, offset: int) -> TablePage:
    text = io.TextIOWrapper(
        io.BufferedReader(_Bounded(file, SCAN_BYTES)), encoding="utf-8", errors="replace"
    )
    reader = csv.reader(text, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return TablePage(note="an empty table")
    rows = [row for row in islice(reader, offset, offset + PAGE_ROWS + 1)]
    page = TablePage(offset=offset, rows=_cells(rows[:PAGE_ROWS]), has_next=len(rows) > PAGE_ROWS)
    page.columns = list(zip(header, _infer(page.rows, len(header)), strict=True))
    return page


def _wandb_table(file: Any, offset: int) -> TablePage:
    body = file.read(JSON_BYTES + 1)
    if len(body) > JSON_BYTES:
        return TablePage(note=f"a W&B Table over {JSON_BYTES // 2**20} MB: download it")
    table = json.loads(body)
    columns = [str(c) for c in table.get("columns") or []]
    data = table.get("data") or []
    types = _wandb_types(table.get("column_types"), columns) or _json_types(data, len(columns))
    page = TablePage(list(zip(columns, types, strict=True)), offset=offset, total=len(data))
    page.rows = _cells(data[offset : offset + PAGE_ROWS])
    page.has_next = offset + PAGE_ROWS < len(data)
    return page


def _wandb_types(declared: Any, columns: list[str]) -> list[str] | None:
    """The types a W&B Table declares (``column_types.params.type_map``), by column."""
    try:
        type_map = declared["params"]["type_map"]
        return [_wandb_type_name(type_map.get(column)) for column in columns]
    except (TypeError, KeyError, AttributeError):
        return None


def _wandb_type_name(declared: Any) -> str:
    if not isinstance(declared, dict):
        return "unknown"
    name = str(declared.get("wb_type", "unknown"))
    if name == "union":
        allowed = declared.get("params", {}).get("allowed_types", [])
        return " | ".join(_wandb_type_name(t) for t in allowed) or name
    return name


def _json_types(data: list[Any], width: int) -> list[str]:
    kinds = []
    for index in range(width):
        seen = {
            type(row[index]).__name__
            for row in data[:PAGE_ROWS]
            if isinstance(row, list) and index < len(row) and row[index] is not None
        }
        kinds.append(" | ".join(sorted(seen)) or "null")
    return kinds
