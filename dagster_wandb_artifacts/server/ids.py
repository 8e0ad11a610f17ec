"""Relay-style global IDs and opaque pagination cursors, as W&B encodes them.

W&B IDs are ``base64("<TypeName>:<integer>")`` (the SDK never looks inside them, but real
servers emit this form and traces show it, so ours does too).
"""

from __future__ import annotations

import base64
import binascii

#: The largest row id SQLite stores (a signed 64-bit integer).
MAX_ROW_ID = 2**63 - 1


class BadIdError(ValueError):
    """An ID or cursor that this server did not issue."""


def encode_id(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def decode_id(global_id: str, *type_names: str) -> int:
    """The row id inside ``global_id``, which must name one of ``type_names``."""
    try:
        type_name, _, number = base64.b64decode(global_id, validate=True).decode().partition(":")
        row_id = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadIdError(f"malformed ID {global_id!r}") from exc
    if not 0 <= row_id <= MAX_ROW_ID:
        raise BadIdError(f"ID {global_id!r} holds {row_id}, outside SQLite's integer range")
    if type_names and type_name not in type_names:
        raise BadIdError(
            f"ID {global_id!r} names a {type_name}, expected {' or '.join(type_names)}"
        )
    return row_id


def encode_cursor(row_id: int) -> str:
    return encode_id("cursor", row_id)


def decode_cursor(cursor: str | None) -> int | None:
    return None if cursor is None else decode_id(cursor, "cursor")
