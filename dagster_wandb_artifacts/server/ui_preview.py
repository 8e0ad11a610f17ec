"""Previews of a version's files for the web UI: the head of a text, JSON, CSV, Parquet or
NumPy file, or an image shown inline. Each reads a bounded number of bytes or rows, so a
preview of a large file costs what the head costs."""

from __future__ import annotations

import csv
import json
import posixpath
from dataclasses import dataclass, field
from typing import Any

from . import blobs

#: Bytes of a text file shown.
TEXT_BYTES = 64 * 1024
#: A JSON file up to this size is parsed and pretty-printed; a larger one shown as text.
JSON_BYTES = 1024 * 1024
#: Rows of a table shown.
TABLE_ROWS = 50
#: Images up to this size are shown inline (the page's image is read whole).
IMAGE_BYTES = 16 * 1024 * 1024
#: Images shown inline, with the type they are served as (never SVG: it can carry script).
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_TEXT = {".txt", ".md", ".log", ".py", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".sql", ".sh"}


@dataclass
class Preview:
    """What the page shows: ``kind`` is text, table, image, or none (``note`` says why)."""

    kind: str
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


def extension(name: str) -> str:
    return posixpath.splitext(name)[1].lower()


def previewable(name: str) -> bool:
    return extension(name) in {*_TEXT, *IMAGE_TYPES, ".json", ".csv", ".tsv", ".parquet", ".npy"}


def preview(store: blobs.BlobStore, md5_hex: str | None, name: str, size: int) -> Preview:
    """The preview of one stored file (``md5_hex`` None: a reference, not stored here)."""
    suffix = extension(name)
    if md5_hex is None:
        return Preview("none", note="a reference: its bytes are not stored on this server")
    if not previewable(name):
        return Preview("none", note="no preview for this kind of file: download it")
    if suffix in IMAGE_TYPES:
        if size > IMAGE_BYTES:
            return Preview("none", note="too large to show inline: download it")
        return Preview("image")
    key = blobs.object_key(md5_hex)
    if not store.exists(key):
        return Preview("none", note="the file's bytes are missing from the storage")
    with store.open(key) as file:
        if suffix == ".parquet":
            return _parquet(file)
        if suffix == ".npy":
            return _numpy(file)
        if suffix == ".json" and size <= JSON_BYTES:
            return _json(file.read(JSON_BYTES))
        head = file.read(TEXT_BYTES)
    if suffix in (".csv", ".tsv"):
        return _csv(head, "\t" if suffix == ".tsv" else ",", size > TEXT_BYTES)
    return _text(head, size)


def _text(head: bytes, size: int) -> Preview:
    note = f"the first {len(head):,} of {size:,} bytes" if size > len(head) else ""
    return Preview("text", text=head.decode("utf-8", errors="replace"), note=note)


def _json(body: bytes) -> Preview:
    try:
        return Preview("text", text=json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    except ValueError:
        return _text(body, len(body))


def _csv(head: bytes, delimiter: str, truncated: bool) -> Preview:
    lines = head.decode("utf-8", errors="replace").splitlines()
    if truncated and lines:
        lines = lines[:-1]  # the last line may be cut
    rows = list(csv.reader(lines[: TABLE_ROWS + 1], delimiter=delimiter))
    if not rows:
        return Preview("none", note="an empty table")
    return Preview("table", columns=rows[0], rows=rows[1:], note=f"the first {len(rows) - 1} rows")


def _parquet(file: Any) -> Preview:
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415 (optional: installed with the test extras)
    except ImportError:
        return Preview("none", note="install pyarrow to preview Parquet files")
    try:
        parquet = pq.ParquetFile(file)
        batch = next(parquet.iter_batches(batch_size=TABLE_ROWS), None)
    except Exception as exc:  # noqa: BLE001 (a damaged file is shown, not raised)
        return Preview("none", note=f"not a readable Parquet file: {type(exc).__name__}")
    columns = parquet.schema_arrow.names
    rows = [] if batch is None else [list(row.values()) for row in batch.to_pylist()]
    total = parquet.metadata.num_rows
    note = f"the first {len(rows)} of {total:,} rows"
    return Preview("table", columns=columns, rows=rows, note=note)


def _numpy(file: Any) -> Preview:
    try:
        import numpy  # noqa: PLC0415
    except ImportError:
        return Preview("none", note="install numpy to preview .npy files")
    try:
        version = numpy.lib.format.read_magic(file)
        header = (
            numpy.lib.format.read_array_header_1_0
            if version == (1, 0)
            else numpy.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = header(file)
    except (ValueError, AttributeError) as exc:
        return Preview("none", note=f"not a readable .npy file: {exc}")
    note = f"shape {shape}, dtype {dtype}"
    if dtype.hasobject or fortran or not shape:
        return Preview("none", note=note)
    per_row = int(numpy.prod(shape[1:], dtype=int)) if len(shape) > 1 else 1
    count = min(shape[0], TABLE_ROWS) * per_row
    values = numpy.frombuffer(file.read(count * dtype.itemsize), dtype=dtype, count=count)
    rows = values.reshape(-1, per_row).tolist()
    columns = [str(i) for i in range(per_row)]
    return Preview("table", columns=columns, rows=rows, note=f"{note}; the first {len(rows)} rows")
