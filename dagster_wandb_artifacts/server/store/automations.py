"""The automations' tables: integrations, team secrets, triggers and the webhook outbox.

They live in the server's SQLite database next to the artifact tables and are created on
first use, so a database from before automations existed gains them in place.

``trigger_deliveries`` is both the outbox and the delivery log: a row is written in the
transaction of the mutation that caused its event (so a crash loses no event), claimed by
one delivery worker at a time under a lease (a worker that dies releases it when the lease
ends), and ends ``delivered``, ``failed`` or ``refused`` with its attempts and last answer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable
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

#: Columns added since the first version of the tables (name, declaration).
_ADDED = (
    ("secrets", "encrypted", "INTEGER NOT NULL DEFAULT 0"),
    ("trigger_deliveries", "entity_id", "INTEGER"),
    # Deliveries to one target (host:port) are served one at a time, targets in turn.
    ("trigger_deliveries", "target", "TEXT NOT NULL DEFAULT ''"),
    # What to render at delivery time: the action and the event's variables (no secrets).
    ("trigger_deliveries", "request", "TEXT"),
    ("trigger_deliveries", "delivery_key", "TEXT"),
    ("trigger_deliveries", "next_attempt_at", "REAL NOT NULL DEFAULT 0"),
    ("trigger_deliveries", "lease_until", "REAL NOT NULL DEFAULT 0"),
    # The process (pid) holding the lease: one that died gives its leases back at once.
    ("trigger_deliveries", "lease_owner", "INTEGER"),
)

_INDEXES = (
    "CREATE INDEX IF NOT EXISTS deliveries_due ON trigger_deliveries (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS deliveries_of_trigger ON trigger_deliveries (trigger_id, id)",
)

#: Statuses of a delivery that still has to be made.
UNFINISHED = ("pending", "delivering")


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
        for table, column, declaration in _ADDED:
            existing = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
            if column not in existing:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        for statement in _INDEXES:
            db.execute(statement)
        # Deliveries queued in memory by servers from before the outbox cannot be resumed.
        db.execute(
            "UPDATE trigger_deliveries SET status = 'failed', error = 'lost: queued in memory "
            "by an older server' WHERE status = 'pending' AND request IS NULL"
        )


class AutomationTables:
    """Reads and writes of the automation tables (see :func:`create_tables`), on the server's
    :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # Roles -------------------------------------------------------------------------------------

    def entity_id(self, entity: str) -> int | None:
        row = self.store.one("SELECT id FROM entities WHERE name = ?", (entity,))
        return None if row is None else int(row[0])

    def is_entity_admin(self, viewer: Any, entity_id: int) -> bool:
        """Whether ``viewer`` administers the entity: the server's administrator (None or
        ``admin``) every entity, a user its personal entity, a team's admins their team."""
        if viewer is None or viewer.admin:
            return True
        found = self.store.one(
            "SELECT 1 FROM users WHERE id = ? AND entity_id = ? UNION ALL "
            "SELECT 1 FROM team_members WHERE user_id = ? AND entity_id = ? AND admin = 1",
            (viewer.id, entity_id, viewer.id, entity_id),
        )
        return found is not None

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

    def set_secret(self, entity_id: int, name: str, sealed: str) -> None:
        """Store a secret's value, already encrypted (``sealed``)."""
        with self.store.write() as db:
            db.execute(
                "INSERT INTO secrets (entity_id, name, value, encrypted, created_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (entity_id, name) DO UPDATE SET "
                "value = excluded.value, encrypted = 1",
                (entity_id, name, sealed, now()),
            )

    def sealed_secrets(self, entity_id: int, names: list[str]) -> dict[str, str]:
        """The encrypted values of the entity's secrets named ``names``."""
        rows = self.store.all(
            f"SELECT name, value FROM secrets WHERE entity_id = ? AND encrypted = 1 AND name IN "
            f"({','.join('?' * len(names))})",
            (entity_id, *names),
        )
        return {row["name"]: row["value"] for row in rows}

    def plaintext_secrets(self) -> list[sqlite3.Row]:
        """Secrets stored in clear by servers from before encryption (to migrate)."""
        return self.store.all("SELECT id, value FROM secrets WHERE encrypted = 0")

    def seal_secret(self, secret_id: int, sealed: str) -> None:
        # The clear value's bytes are overwritten, not left in a free page.
        self.store.db.execute("PRAGMA secure_delete = ON")
        with self.store.write() as db:
            db.execute(
                "UPDATE secrets SET value = ?, encrypted = 1 WHERE id = ? AND encrypted = 0",
                (sealed, secret_id),
            )

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

    def any_enabled(self, artifact_id: int | None = None) -> bool:
        """Whether any automation is enabled (in the entity of the version's logged
        collection, given ``artifact_id``)."""
        if artifact_id is None:
            found = self.store.one("SELECT 1 FROM triggers WHERE enabled = 1 LIMIT 1")
        else:
            found = self.store.one(
                "SELECT 1 FROM artifacts a JOIN collections c ON c.id = a.sequence_id "
                "JOIN projects p ON p.id = c.project_id JOIN triggers t "
                "ON t.entity_id = p.entity_id AND t.enabled = 1 WHERE a.id = ? LIMIT 1",
                (artifact_id,),
            )
        return found is not None

    def enabled_triggers(self, event_type: str, collection_id: int) -> list[sqlite3.Row]:
        """The enabled automations on ``event_type`` whose scope holds the collection: the
        collection itself, its project or its project's entity."""
        return self.store.all(
            "SELECT t.* FROM collections c JOIN projects p ON p.id = c.project_id "
            "JOIN triggers t ON t.enabled = 1 AND t.event_type = ? AND ("
            "(t.scope_type = 'ARTIFACT_COLLECTION' AND t.scope_id = c.id) OR "
            "(t.scope_type = 'PROJECT' AND t.scope_id = p.id) OR "
            "(t.scope_type = 'ENTITY' AND t.scope_id = p.entity_id)) "
            "WHERE c.id = ? ORDER BY t.id",
            (event_type, collection_id),
        )

    # What an event changed -------------------------------------------------------------------

    def version_places(self, artifact_id: int) -> tuple[dict[int, int], set[tuple[int, str]]]:
        """A committed version's collections (with its index in each) and its aliases there;
        nothing for a pending or missing one."""
        artifact = self.store.get("artifacts", artifact_id)
        if artifact is None or artifact["state"] != "COMMITTED":
            return {}, set()
        memberships = self.store.all(
            "SELECT collection_id, version_index FROM memberships WHERE artifact_id = ?",
            (artifact_id,),
        )
        aliases = self.store.all(
            "SELECT collection_id, alias FROM aliases WHERE artifact_id = ?", (artifact_id,)
        )
        return (
            {row[0]: row[1] for row in memberships},
            {(row[0], row[1]) for row in aliases},
        )

    def collection_named(self, entity: str, project: str, name: str) -> sqlite3.Row | None:
        return self.store.one(
            "SELECT c.* FROM collections c JOIN projects p ON p.id = c.project_id "
            "JOIN entities e ON e.id = p.entity_id "
            "WHERE e.name = ? AND p.name = ? AND c.name = ? AND c.state = 'READY'",
            (entity, project, name),
        )

    # The outbox and delivery log -------------------------------------------------------------

    def unfinished_of_entity(self, entity_id: int) -> int:
        row = self.store.one(
            "SELECT COUNT(*) FROM trigger_deliveries WHERE entity_id = ? AND status IN (?, ?)",
            (entity_id, *UNFINISHED),
        )
        return int(row[0])

    def enqueue(self, rows: Iterable[dict[str, Any]]) -> int:
        """Write deliveries to make (in the caller's transaction when there is one)."""
        stamp = now()
        with self.store.write() as db:
            cursor = db.executemany(
                "INSERT INTO trigger_deliveries (trigger_id, entity_id, event_type, url, target, "
                "payload, request, delivery_key, status, attempts, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                [
                    (
                        row["trigger_id"],
                        row["entity_id"],
                        row["event_type"],
                        row["url"],
                        row["target"],
                        row["payload"],
                        json.dumps(row["request"]),
                        row["delivery_key"],
                        row.get("status", "pending"),
                        stamp,
                    )
                    for row in rows
                ],
            )
        return cursor.rowcount

    def due_heads(self, at: float) -> list[sqlite3.Row]:
        """The oldest due delivery of each target (a lapsed lease makes a claimed one due)."""
        return self.store.all(
            "SELECT target, MIN(id) AS id FROM trigger_deliveries "
            "WHERE (status = 'pending' AND next_attempt_at <= ?) OR "
            "(status = 'delivering' AND lease_until < ?) GROUP BY target",
            (at, at),
        )

    def next_due_at(self) -> float | None:
        row = self.store.one(
            "SELECT MIN(CASE status WHEN 'pending' THEN next_attempt_at ELSE lease_until END) "
            "FROM trigger_deliveries WHERE status IN (?, ?)",
            UNFINISHED,
        )
        return None if row is None or row[0] is None else float(row[0])

    def claim(
        self, delivery_id: int, at: float, lease_until: float, owner: int
    ) -> sqlite3.Row | None:
        """The delivery, now leased to the caller; None when another worker took it first."""
        with self.store.write() as db:
            claimed = db.execute(
                "UPDATE trigger_deliveries SET status = 'delivering', lease_until = ?, "
                "lease_owner = ? WHERE id = ? AND ((status = 'pending' AND next_attempt_at <= ?) "
                "OR (status = 'delivering' AND lease_until < ?))",
                (lease_until, owner, delivery_id, at, at),
            ).rowcount
            return self.store.get("trigger_deliveries", delivery_id) if claimed else None

    def lease_owners(self) -> list[int]:
        rows = self.store.all(
            "SELECT DISTINCT lease_owner FROM trigger_deliveries "
            "WHERE status = 'delivering' AND lease_owner IS NOT NULL"
        )
        return [int(row[0]) for row in rows]

    def release_leases(self, owner: int) -> None:
        """Give back the leases of a process that is gone: its deliveries are due again."""
        with self.store.write() as db:
            db.execute(
                "UPDATE trigger_deliveries SET status = 'pending', lease_until = 0, "
                "lease_owner = NULL WHERE status = 'delivering' AND lease_owner = ?",
                (owner,),
            )

    def retry_later(
        self, delivery_id: int, attempts: int, at: float, status: int | None, error: str
    ) -> None:
        with self.store.write() as db:
            db.execute(
                "UPDATE trigger_deliveries SET status = 'pending', attempts = ?, "
                "next_attempt_at = ?, response_status = ?, error = ? WHERE id = ?",
                (attempts, at, status, error, delivery_id),
            )

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

    def unfinished(self) -> int:
        row = self.store.one(
            "SELECT COUNT(*) FROM trigger_deliveries WHERE status IN (?, ?)", UNFINISHED
        )
        return int(row[0])

    def deliveries(self, after_id: int = 0, limit: int = 100) -> list[sqlite3.Row]:
        return self.store.all(
            "SELECT * FROM trigger_deliveries WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )

    def deliveries_of(self, trigger_ids: Collection[int], limit: int) -> list[sqlite3.Row]:
        """The newest ``limit`` deliveries of the triggers, newest first."""
        if not trigger_ids:
            return []
        return self.store.all(
            f"SELECT * FROM trigger_deliveries WHERE trigger_id IN "
            f"({','.join('?' * len(trigger_ids))}) ORDER BY id DESC LIMIT ?",
            (*trigger_ids, limit),
        )
