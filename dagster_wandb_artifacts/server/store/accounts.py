"""Users, their API keys and teams: who a request's key is, and which entities it may use.

The server's own key (``ROOT/api-key`` or ``--api-key``) is its administrator, whose entity
is the default entity (the organization's). Other users are created by the administrator;
each gets a personal entity of its username, and keys of its own (stored as SHA-256 digests,
never in clear). A team is an entity with members. A non-administrator reads and writes the
projects of its own entity and of its teams, and the organization's registries; nothing else.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass

from ...formats.names import REGISTRY_PREFIX
from .base import NotFound, StoreError, now
from .versions import Store

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT UNIQUE,
    admin INTEGER NOT NULL DEFAULT 0, entity_id INTEGER NOT NULL REFERENCES entities(id),
    created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id),
    key_sha256 TEXT NOT NULL UNIQUE, description TEXT, created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS teams (
    entity_id INTEGER PRIMARY KEY REFERENCES entities(id), created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS team_members (
    entity_id INTEGER NOT NULL REFERENCES teams(entity_id),
    user_id INTEGER NOT NULL REFERENCES users(id), admin INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity_id, user_id))""",
)

_USERNAME = re.compile(r"[^a-z0-9_-]+")


class PermissionDenied(StoreError):
    """The key's user may not use this entity or project."""


@dataclass(frozen=True)
class Viewer:
    """The user a request's key belongs to."""

    id: int
    username: str
    email: str | None
    admin: bool
    #: Its own entity and its teams', by name.
    entities: frozenset[str]
    #: Where its runs go when a request names no entity: its own, or one it chose
    #: (``updateUser``).
    default_entity: str = ""

    def may_use(self, entity: str, project: str | None, org_entity: str) -> bool:
        if self.admin or entity in self.entities:
            return True
        # The organization's registries are every member's.
        return entity == org_entity and project is not None and project.startswith(REGISTRY_PREFIX)


def _sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return f"local-{secrets.token_hex(24)}"


def create_tables(store: Store) -> None:
    with store.write() as db:
        for statement in _SCHEMA:
            db.execute(statement)


class Accounts:
    """Reads and writes of the account tables (see :func:`create_tables`)."""

    def __init__(self, store: Store, admin_entity: str) -> None:
        self.store = store
        self.admin_entity = admin_entity

    def administrator(self) -> Viewer:
        return Viewer(
            0, self.admin_entity, None, True, frozenset({self.admin_entity}), self.admin_entity
        )

    def viewer_for_key(self, key: str) -> Viewer | None:
        row = self.store.one(
            "SELECT u.* FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_sha256 = ?",
            (_sha256(key),),
        )
        return None if row is None else self._viewer(row)

    def _viewer(self, row: sqlite3.Row) -> Viewer:
        entities = self.store.all(
            "SELECT e.name FROM entities e WHERE e.id = ? UNION "
            "SELECT e.name FROM team_members m JOIN entities e ON e.id = m.entity_id "
            "WHERE m.user_id = ?",
            (row["entity_id"], row["id"]),
        )
        return Viewer(
            row["id"],
            row["username"],
            row["email"],
            bool(row["admin"]),
            frozenset(e[0] for e in entities),
            self.store.default_entity(row["id"]) or row["username"],
        )

    def create_user(self, email: str, admin: bool = False, username: str | None = None) -> Viewer:
        if "@" not in email or len(email) > 254:
            raise StoreError(f"{email!r} is not an email address")
        base = username or _USERNAME.sub("-", email.split("@")[0].lower()).strip("-") or "user"
        with self.store.write() as db:
            if db.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
                raise StoreError(f"a user with email {email!r} exists")
            name, suffix = base, 1
            while db.execute("SELECT 1 FROM entities WHERE name = ?", (name,)).fetchone():
                suffix += 1
                name = f"{base}{suffix}"
            entity_id = self.store.ensure_entity(name)["id"]
            cursor = db.execute(
                "INSERT INTO users (username, email, admin, entity_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, email, int(admin), entity_id, now()),
            )
        return self.user(int(cursor.lastrowid or 0))

    def user(self, user_id: int) -> Viewer:
        row = self.store.get("users", user_id)
        if row is None:
            raise NotFound(f"no user with ID {user_id}")
        return self._viewer(row)

    def find_users(self, query: str | None) -> list[Viewer]:
        """Users whose username or email starts or ends with ``query`` (all without one)."""
        rows = self.store.all("SELECT * FROM users ORDER BY id")
        q = (query or "").lower()
        return [
            self._viewer(row)
            for row in rows
            if not q
            or any(
                value and (value.lower().startswith(q) or value.lower().endswith(q))
                for value in (row["username"], row["email"])
            )
        ]

    def find_user(self, username_or_email: str) -> Viewer | None:
        row = self.store.one(
            "SELECT * FROM users WHERE username = ? OR email = ?",
            (username_or_email, username_or_email),
        )
        return None if row is None else self._viewer(row)

    def generate_key(self, user_id: int, description: str | None = None) -> str:
        """A new key for the user, returned in clear this once."""
        key = new_key()
        with self.store.write() as db:
            db.execute(
                "INSERT INTO api_keys (user_id, key_sha256, description, created_at) "
                "VALUES (?, ?, ?, ?)",
                (user_id, _sha256(key), description, now()),
            )
        return key

    def create_team(self, name: str, admin_user_id: int | None) -> sqlite3.Row:
        with self.store.write() as db:
            if db.execute("SELECT 1 FROM entities WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"the entity name {name!r} is taken")
            entity = self.store.ensure_entity(name)
            db.execute(
                "INSERT INTO teams (entity_id, created_at) VALUES (?, ?)", (entity["id"], now())
            )
            if admin_user_id:
                self.add_member(name, admin_user_id, admin=True)
        return entity

    def is_team(self, entity_id: int) -> bool:
        return self.store.one("SELECT 1 FROM teams WHERE entity_id = ?", (entity_id,)) is not None

    def add_member(self, team: str, user_id: int, admin: bool = False) -> None:
        with self.store.write() as db:
            found = db.execute(
                "SELECT t.entity_id FROM teams t JOIN entities e ON e.id = t.entity_id "
                "WHERE e.name = ?",
                (team,),
            ).fetchone()
            if found is None:
                raise NotFound(f"no team named {team!r}")
            db.execute(
                "INSERT INTO team_members (entity_id, user_id, admin) VALUES (?, ?, ?) "
                "ON CONFLICT DO UPDATE SET admin = excluded.admin",
                (found[0], user_id, int(admin)),
            )

    def is_team_admin(self, team: str, user_id: int) -> bool:
        """Whether the user administers the team named ``team`` (False for any other entity)."""
        found = self.store.one(
            "SELECT 1 FROM team_members m JOIN entities e ON e.id = m.entity_id "
            "WHERE e.name = ? AND m.user_id = ? AND m.admin = 1",
            (team, user_id),
        )
        return found is not None

    def members(self, entity_id: int) -> list[tuple[Viewer, bool]]:
        rows = self.store.all(
            "SELECT u.*, m.admin AS team_admin FROM team_members m "
            "JOIN users u ON u.id = m.user_id WHERE m.entity_id = ? ORDER BY u.id",
            (entity_id,),
        )
        return [(self._viewer(row), bool(row["team_admin"])) for row in rows]
