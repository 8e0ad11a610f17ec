"""W&B's account model beyond teams: the members of a project (a registry's users and teams,
each with a role) and each user's default entity.

A registry's members are managed by its admins (a user member with role ``admin``, or a
member of a team that is an ``admin`` member) and by the server's administrators; the
callers decide who asks, these rows say who may (:meth:`MemberRows.project_role`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ...formats.names import REGISTRY_PREFIX
from .base import NotFound, StoreBase, StoreError, now

#: The roles of a project member, as W&B names them (the SDK's ``MemberRole``).
ROLES = ("admin", "member", "viewer", "restricted_viewer")
#: A role's rank: a user's role in a project is the highest it holds, itself or by a team.
_RANK = {role: rank for rank, role in enumerate(reversed(ROLES))}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


class MemberRows(StoreBase):
    def is_registry(self, project: sqlite3.Row, org_entity: str) -> bool:
        """Whether the project is a registry: ``wandb-registry-*`` of the organization."""
        entity = self.get("entities", project["entity_id"])
        return (
            entity is not None
            and entity["name"] == org_entity
            and project["name"].startswith(REGISTRY_PREFIX)
        )

    def project_created(self, project: sqlite3.Row, creator_id: int, org_entity: str) -> None:
        """Whoever creates a registry becomes its first admin (W&B's rule); ``creator_id`` 0
        is the server's own key, no user."""
        if creator_id and self.is_registry(project, org_entity):
            self.add_project_members(project["id"], [creator_id], [], role="admin")

    def project_user_members(self, project_id: int) -> list[sqlite3.Row]:
        """The project's user members: each a ``users`` row with its ``role``."""
        return self.all(
            "SELECT u.*, m.role FROM project_user_members m JOIN users u ON u.id = m.user_id "
            "WHERE m.project_id = ? ORDER BY m.created_at, u.id",
            (project_id,),
        )

    def project_team_members(self, project_id: int) -> list[sqlite3.Row]:
        """The project's team members: each an ``entities`` row with its ``role``."""
        return self.all(
            "SELECT e.*, m.role FROM project_team_members m JOIN entities e ON e.id = m.entity_id "
            "WHERE m.project_id = ? ORDER BY m.created_at, e.id",
            (project_id,),
        )

    def project_role(self, project_id: int, user_id: int) -> str | None:
        """The user's highest role in the project, as a member itself or through a team."""
        rows = self.all(
            "SELECT role FROM project_user_members WHERE project_id = ? AND user_id = ? "
            "UNION SELECT p.role FROM project_team_members p JOIN team_members t "
            "ON t.entity_id = p.entity_id WHERE p.project_id = ? AND t.user_id = ?",
            (project_id, user_id, project_id, user_id),
        )
        roles = [row["role"] for row in rows if row["role"] in _RANK]
        return max(roles, key=_RANK.__getitem__) if roles else None

    def _check_members(
        self, db: sqlite3.Connection, user_ids: Sequence[int], team_ids: Sequence[int]
    ) -> None:
        for user_id in user_ids:
            if db.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
                raise NotFound(f"no user with ID {user_id}")
        for team_id in team_ids:
            if db.execute("SELECT 1 FROM teams WHERE entity_id = ?", (team_id,)).fetchone() is None:
                raise NotFound(f"no team with ID {team_id}")

    def add_project_members(
        self,
        project_id: int,
        user_ids: Sequence[int],
        team_ids: Sequence[int],
        role: str = "member",
    ) -> None:
        """Add users and teams with ``role``; one already a member keeps its role."""
        check_role(role)
        with self.write() as db:
            self._check_members(db, user_ids, team_ids)
            db.executemany(
                "INSERT INTO project_user_members (project_id, user_id, role, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(project_id, user_id, role, now()) for user_id in user_ids],
            )
            db.executemany(
                "INSERT INTO project_team_members (project_id, entity_id, role, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(project_id, team_id, role, now()) for team_id in team_ids],
            )

    def remove_project_members(
        self, project_id: int, user_ids: Sequence[int], team_ids: Sequence[int]
    ) -> None:
        """Remove users and teams; removing a non-member does nothing."""
        with self.write() as db:
            db.executemany(
                "DELETE FROM project_user_members WHERE project_id = ? AND user_id = ?",
                [(project_id, user_id) for user_id in user_ids],
            )
            db.executemany(
                "DELETE FROM project_team_members WHERE project_id = ? AND entity_id = ?",
                [(project_id, team_id) for team_id in team_ids],
            )

    def set_project_member_role(
        self, project_id: int, role: str, *, user_id: int | None = None, team_id: int | None = None
    ) -> None:
        check_role(role)
        table, column, member = (
            ("project_user_members", "user_id", user_id)
            if user_id is not None
            else ("project_team_members", "entity_id", team_id)
        )
        with self.write() as db:
            changed = db.execute(
                f"UPDATE {table} SET role = ? WHERE project_id = ? AND {column} = ?",
                (role, project_id, member),
            ).rowcount
        if not changed:
            raise NotFound("not a member of the project: add it before changing its role")

    def default_entity(self, user_id: int) -> str | None:
        """The entity a user set as its default (``updateUser``), if any."""
        row = self.one(
            "SELECT e.name FROM user_default_entities d JOIN entities e ON e.id = d.entity_id "
            "WHERE d.user_id = ?",
            (user_id,),
        )
        return None if row is None else row["name"]

    def set_default_entity(self, user_id: int, entity_id: int) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO user_default_entities (user_id, entity_id) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET entity_id = excluded.entity_id",
                (user_id, entity_id),
            )
