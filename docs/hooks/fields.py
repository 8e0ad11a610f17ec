"""MkDocs hook: ``<!-- fields: module.Class -->`` in a page becomes the table of that
configuration class's fields (name, type, default, description), read from the class itself,
so that the reference lists every field as the code declares it. (mkdocstrings shows the
docstrings; it does not read the ``Field(description=...)`` of Dagster's config classes.)"""

from __future__ import annotations

import importlib
import re
from typing import Any

_MARKER = re.compile(r"<!-- fields: ([\w.]+) -->")


def _default(field: Any) -> str:
    if field.default_factory is not None:
        return "computed"
    if field.is_required():
        return "required"
    return f"`{field.default!r}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
    return text.replace(" | ", " or ")  # a pipe would end the table's cell


def _table(path: str) -> str:
    module, _, name = path.rpartition(".")
    model = getattr(importlib.import_module(module), name)
    rows = [
        f"| `{field_name}` | `{_type(field.annotation)}` | {_default(field)} | "
        f"{_cell(field.description or '')} |"
        for field_name, field in model.model_fields.items()
    ]
    return "\n".join(["| field | type | default | meaning |", "|---|---|---|---|", *rows])


def on_page_markdown(markdown: str, **_: Any) -> str:
    return _MARKER.sub(lambda match: _table(match.group(1)), markdown)
