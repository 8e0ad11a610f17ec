"""The automations' tables: integrations, team secrets, triggers and the webhook delivery log.

They live in the server's SQLite database next to the artifact tables and are created on
first use, so a database from before automations existed gains them in place.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .base import NotFound, StoreError, now
from .versions import Store

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS integrations (
    id INTEGER PRIMARY KEY, entity_id INTEGER NOT NULL REFERENCES entities(id),
    kind TEXT NOT NULL CHECK (kind IN ('GenericWebhookIntegration', 'SlackIntegration')),
    name TEXT NOT NULL, url TEXT NOT NULL, secret_ref TEXT, access_token_ref TEXT,
    team_name TEXT, channel_name TEXT, created_at TEXT NOT NULL,
    UNIQUE (entity_id, kind, name))""",
    """CREATE TABLE IF NOT EXISTS secrets (
    id INTEGER PRIMARY KEY, entity_id INTEGER NOT NULL REFERENCES entities(id),
    name TEXT NOT NULL, value TEXT NOT NULL, created_at TEXT NOT NULL,
    UNIQUE (entity_id, name))""",
    # AUTOINCREMENT: a deleted automation's ID never names another one.
    """CREATE TABLE IF NOT EXISTS triggers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, entity_id INTEGER NOT NULL REFERENCES entities(id),
    name TEXT NOT NULL, description TEXT, enabled INTEGER NOT NULL,
    scope_type TEXT NOT NULL, scope_id INTEGER NOT NULL, event_type TEXT NOT NULL,
    event_filter TEXT NOT NULL, action_type TEXT NOT NULL, action TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (entity_id, name))""",
    """CREATE TABLE IF NOT EXISTS trigger_deliveries (
    id INTEGER PRIMARY KEY, trigger_id INTEGER NOT NULL, event_type TEXT NOT NULL,
    url TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
    response_status INTEGER, error TEXT, created_at TEXT NOT NULL, finished_at TEXT)""",
)


class Conflict(StoreError):
    """W&B answers HTTP 409 when a name is taken; the SDK reads the status."""

    http_status = 409


class Missing(NotFound):
    """W&B answers HTTP 404 for an automation that does not exist."""

    http_status = 404


def create_tables(store: Store) -> None:
    with store.write() as db:
        for statement in _SCHEMA:
            db.execute(statement)


class AutomationTables:
    """Reads and writes of the automation tables (see :func:`create_tables`), on the server's
    :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # Integrations and secrets ------------------------------------------------------------------

    def add_integration(self, entity: str, kind: str, name: str, url: str, **extra: Any) -> int:
        entity_id = self.store.ensure_entity(entity)["id"]
        columns = {"secret_ref": None, "access_token_ref": None, "team_name": None}
        columns.update(extra)
        try:
            with self.store.write() as db:
                cursor = db.execute(
                    "INSERT INTO integrations (entity_id, kind, name, url, secret_ref, "
                    "access_token_ref, team_name, channel_name, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        entity_id,
                        kind,
                        name,
                        url,
                        columns["secret_ref"],
                        columns["access_token_ref"],
                        columns["team_name"],
                        columns.get("channel_name"),
                        now(),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"an integration named {name!r} exists in {entity!r}") from exc
        return int(cursor.lastrowid or 0)

    def integrations(self, entity: str) -> list[sqlite3.Row]:
        return self.store.all(
            "SELECT i.* FROM integrations i JOIN entities e ON e.id = i.entity_id "
            "WHERE e.name = ? ORDER BY i.id",
            (entity,),
        )

    def integration(self, integration_id: int) -> sqlite3.Row:
        row = self.store.get("integrations", integration_id)
        if row is None:
            raise NotFound(f"no integration with ID {integration_id}")
        return row

    def set_secret(self, entity: str, name: str, value: str) -> None:
        entity_id = self.store.ensure_entity(entity)["id"]
        with self.store.write() as db:
            db.execute(
                "INSERT INTO secrets (entity_id, name, value, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (entity_id, name) DO UPDATE SET value = excluded.value",
                (entity_id, name, value, now()),
            )

    def secrets(self, entity_id: int, names: list[str]) -> dict[str, str]:
        rows = self.store.all(
            f"SELECT name, value FROM secrets WHERE entity_id = ? AND name IN "
            f"({','.join('?' * len(names))})",
            (entity_id, *names),
        )
        return {row["name"]: row["value"] for row in rows}

    # Triggers --------------------------------------------------------------------------------

    def create_trigger(self, entity_id: int, fields: dict[str, Any]) -> sqlite3.Row:
        stamp = now()
        try:
            with self.store.write() as db:
                cursor = db.execute(
                    "INSERT INTO triggers (entity_id, name, description, enabled, scope_type, "
                    "scope_id, event_type, event_filter, action_type, action, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        entity_id,
                        fields["name"],
                        fields.get("description"),
                        int(fields["enabled"]),
                        fields["scope_type"],
                        fields["scope_id"],
                        fields["event_type"],
                        fields["event_filter"],
                        fields["action_type"],
                        json.dumps(fields["action"]),
                        stamp,
                        stamp,
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"an automation named {fields['name']!r} exists") from exc
        return self.trigger(int(cursor.lastrowid or 0))

    def update_trigger(self, trigger_id: int, fields: dict[str, Any]) -> sqlite3.Row:
        self.trigger(trigger_id)
        if "action" in fields:
            fields = {**fields, "action": json.dumps(fields["action"])}
        if "enabled" in fields:
            fields = {**fields, "enabled": int(fields["enabled"])}
        assignments = ", ".join(f"{column} = ?" for column in fields)
        try:
            with self.store.write() as db:
                db.execute(
                    f"UPDATE triggers SET {assignments}, updated_at = ? WHERE id = ?",
                    (*fields.values(), now(), trigger_id),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"an automation named {fields.get('name')!r} exists") from exc
        return self.trigger(trigger_id)

    def delete_trigger(self, trigger_id: int) -> None:
        self.trigger(trigger_id)
        with self.store.write() as db:
            db.execute("DELETE FROM triggers WHERE id = ?", (trigger_id,))

    def trigger(self, trigger_id: int) -> sqlite3.Row:
        row = self.store.get("triggers", trigger_id)
        if row is None:
            raise Missing(f"no automation with ID {trigger_id}")
        return row

    def triggers_of_entity(self, entity: str) -> list[sqlite3.Row]:
        return self.store.all(
            "SELECT t.* FROM triggers t JOIN entities e ON e.id = t.entity_id "
            "WHERE e.name = ? ORDER BY t.id",
            (entity,),
        )

    def triggers_of_project(self, project_id: int) -> list[sqlite3.Row]:
        """The project's own automations and those of its collections."""
        return self.store.all(
            "SELECT * FROM triggers WHERE (scope_type = 'PROJECT' AND scope_id = ?) OR "
            "(scope_type = 'ARTIFACT_COLLECTION' AND scope_id IN "
            "(SELECT id FROM collections WHERE project_id = ?)) ORDER BY id",
            (project_id, project_id),
        )

    def enabled_triggers(self, event_type: str, project_id: int, collection_id: int) -> list:
        return self.store.all(
            "SELECT * FROM triggers WHERE enabled = 1 AND event_type = ? AND ("
            "(scope_type = 'PROJECT' AND scope_id = ?) OR "
            "(scope_type = 'ARTIFACT_COLLECTION' AND scope_id = ?)) ORDER BY id",
            (event_type, project_id, collection_id),
        )

    # Delivery log ----------------------------------------------------------------------------

    def log_delivery(self, trigger_id: int, event_type: str, url: str, payload: str) -> int:
        with self.store.write() as db:
            cursor = db.execute(
                "INSERT INTO trigger_deliveries (trigger_id, event_type, url, payload, status, "
                "attempts, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?)",
                (trigger_id, event_type, url, payload, now()),
            )
        return int(cursor.lastrowid or 0)

    def finish_delivery(
        self,
        delivery_id: int,
        *,
        status: str,
        attempts: int,
        response_status: int | None,
        error: str | None,
    ) -> None:
        with self.store.write() as db:
            db.execute(
                "UPDATE trigger_deliveries SET status = ?, attempts = ?, response_status = ?, "
                "error = ?, finished_at = ? WHERE id = ?",
                (status, attempts, response_status, error, now(), delivery_id),
            )

    def deliveries(self, after_id: int = 0, limit: int = 100) -> list[sqlite3.Row]:
        return self.store.all(
            "SELECT * FROM trigger_deliveries WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )
