"""A registry's members (users and teams, each with a role) and a user's default entity, over
GraphQL (see :mod:`..store.members`).

Who may change a registry's members: the server's administrators and the registry's admins
(a user member with role ``admin``, or a member of an ``admin`` team). Whoever creates a
registry becomes its first admin. A user changes its own default entity, to its own entity
or one of its teams'; an administrator may change anyone's.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from graphql import GraphQLSchema

from ..ids import decode_id, encode_id
from ..store import NotFound, StoreError
from ..store.accounts import Accounts, PermissionDenied, Viewer
from ..store.members import ROLES
from .common import Context
from .runs import EntityNode, ProjectNode
from .users import UserView


def _viewer(ctx: Context) -> Viewer:
    return getattr(ctx, "viewer", None) or Accounts(ctx.store, ctx.entity).administrator()


def _role(name: str) -> dict[str, Any]:
    return {"ID": encode_id("Role", ROLES.index(name)), "name": name}


def _ids(values: list[str] | None, type_name: str) -> list[int]:
    return [decode_id(value, type_name) for value in values or []]


class MemberMutations:
    """Mutation fields of registry members and of users' settings."""

    ctx: Context

    def _managed_registry(self, project_id: str) -> sqlite3.Row:
        """The registry named by ``project_id``, once the caller may manage its members."""
        project = self.ctx.access.project(decode_id(project_id, "Project"))
        if project is None:  # missing, or one the caller may not see: told the same
            raise NotFound("project not found")
        if not self.ctx.store.is_registry(project, self.ctx.entity):
            raise StoreError("members can be added to a registry only")
        viewer = _viewer(self.ctx)
        if not viewer.admin and self.ctx.store.project_role(project["id"], viewer.id) != "admin":
            raise PermissionDenied(
                "permission denied: only the registry's admins may change its members"
            )
        return project

    def createProjectMembers(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project = self._managed_registry(input["projectId"])
        self.ctx.store.add_project_members(
            project["id"], _ids(input.get("userIds"), "User"), _ids(input.get("teamIds"), "Entity")
        )
        return {"success": True}

    def deleteProjectMembers(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project = self._managed_registry(input["projectId"])
        self.ctx.store.remove_project_members(
            project["id"], _ids(input.get("userIds"), "User"), _ids(input.get("teamIds"), "Entity")
        )
        return {"success": True}

    def updateProjectMember(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project = self._managed_registry(input["projectId"])
        self.ctx.store.set_project_member_role(
            project["id"], input["userProjectRole"], user_id=decode_id(input["userId"], "User")
        )
        return {"success": True}

    def updateProjectTeamMember(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        project = self._managed_registry(input["projectId"])
        self.ctx.store.set_project_member_role(
            project["id"], input["teamProjectRole"], team_id=decode_id(input["teamId"], "Entity")
        )
        return {"success": True}

    def updateUser(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        viewer = _viewer(self.ctx)
        user_id = decode_id(input["id"], "User") if input.get("id") else viewer.id
        if user_id != viewer.id and not viewer.admin:
            raise PermissionDenied("permission denied: a user changes its own settings only")
        if not user_id:
            raise StoreError("the server administrator's key is no user: it has no settings")
        accounts = Accounts(self.ctx.store, self.ctx.entity)
        user = accounts.user(user_id)
        name = input.get("defaultEntity")
        if name is not None:
            if name not in user.entities:
                raise StoreError(
                    f"{user.username} may not use entity {name!r}: its default entity is its "
                    "own or one of its teams'"
                )
            self.ctx.store.set_default_entity(user.id, self.ctx.store.ensure_entity(name)["id"])
        return {"user": UserView(self.ctx, accounts.user(user.id))}


# Fields on Project -----------------------------------------------------------------------------


def _user_members(project: ProjectNode, info: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": encode_id("User", row["id"]),
            "name": row["username"],
            "username": row["username"],
            "email": row["email"],
            "photoUrl": None,
            "role": _role(row["role"]),
        }
        for row in project.ctx.store.project_user_members(project.row["id"])
    ]


def _team_members(project: ProjectNode, info: Any) -> list[dict[str, Any]]:
    return [
        {"team": EntityNode(project.ctx, row), "role": _role(row["role"])}
        for row in project.ctx.store.project_team_members(project.row["id"])
    ]


def bind(schema: GraphQLSchema) -> None:
    project = schema.type_map["Project"].fields  # type: ignore[union-attr]
    project["members"].resolve = _user_members
    project["teamMembers"].resolve = _team_members
