"""Users, API keys and teams over GraphQL (see :mod:`..accounts`).

Invitations are accepted at once (there is no e-mail offline); ``generateApiKey`` makes a
key for the caller, as on W&B. The fields added to Query.viewer, User and Entity are bound
onto the schema by :func:`bind`.
"""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLSchema

from ...formats.names import NAME
from ..ids import encode_id
from ..store import NotFound, StoreError
from ..store.accounts import Accounts, PermissionDenied, Viewer
from .common import Context, check, positional_page
from .runs import EntityNode, ProjectNode


def _accounts(ctx: Context) -> Accounts:
    return Accounts(ctx.store, ctx.entity)


def _viewer(ctx: Context) -> Viewer:
    return getattr(ctx, "viewer", None) or _accounts(ctx).administrator()


def _require_admin(ctx: Context, what: str) -> None:
    if not _viewer(ctx).admin:
        raise PermissionDenied(f"permission denied: only an administrator may {what}")


class UserView:
    """A user as the ``User`` type shows it."""

    typename = "User"

    def __init__(self, ctx: Context, user: Viewer) -> None:
        self.ctx = ctx
        self.user = user
        self.id = encode_id("User", user.id)
        self.name = self.username = user.username
        self.entity = user.default_entity or user.username
        self.email = user.email
        self.admin = user.admin
        self.flags = "{}"
        self.deletedAt = None  # noqa: N815
        self.apiKeys = {"edges": []}  # noqa: N815 - keys are never served
        self.organizations: list[dict[str, Any]] = []

    def teams(self, info: Any, after: str | None = None, first: int | None = None) -> dict:
        names = sorted(self.user.entities - {self.user.username})
        rows = [self.ctx.store.find_entity(name) for name in names]
        return positional_page(
            [row for row in rows if row is not None],
            lambda row: EntityNode(self.ctx, row),
            after=after,
            first=first,
        )


class UserMutations:
    """Mutation fields of users and teams."""

    ctx: Context

    def users(
        self,
        info: Any,
        query: str | None = None,
        after: str | None = None,
        first: int | None = None,
    ) -> dict[str, Any]:
        accounts = _accounts(self.ctx)
        if _viewer(self.ctx).admin:
            found = accounts.find_users(query)
        else:
            # A plain user finds a user it names exactly (to add it to a registry), with no
            # error, and cannot list or search the others.
            exact = accounts.find_user(query) if query else None
            found = [exact] if exact is not None else []
        return positional_page(found, lambda u: UserView(self.ctx, u), after=after, first=first)

    def createUser(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        _require_admin(self.ctx, "create users")
        user = _accounts(self.ctx).create_user(input["email"], bool(input.get("admin")))
        return {"user": UserView(self.ctx, user)}

    def generateApiKey(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        viewer = _viewer(self.ctx)
        if viewer.id == 0:
            raise StoreError("the server administrator's key is ROOT/api-key: it has no others")
        key = _accounts(self.ctx).generate_key(viewer.id, input.get("description"))
        # W&B answers the new key, in clear this once, as the key's name.
        return {
            "apiKey": {
                "id": encode_id("ApiKey", viewer.id),
                "name": key,
                "description": input.get("description"),
            }
        }

    def createTeam(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        # W&B: an organization's administrators create its teams (so no user claims a team's
        # name before its owners do), naming the team's admin, by default themselves.
        _require_admin(self.ctx, "create teams")
        accounts = _accounts(self.ctx)
        name = check(NAME, input["teamName"], "team name")
        admin_name = input.get("teamAdminUserName")
        if admin_name:
            found = accounts.find_user(admin_name)
            if found is None:
                raise NotFound(f"no user named {admin_name!r}")
            admin_id = found.id
        else:
            admin_id = _viewer(self.ctx).id or None
        return {"entity": EntityNode(self.ctx, accounts.create_team(name, admin_id))}

    def createInvite(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        accounts = _accounts(self.ctx)
        team = self.ctx.store.find_entity(input["entityName"])
        if team is None or not accounts.is_team(team["id"]):
            raise NotFound(f"no team named {input['entityName']!r}")
        viewer = _viewer(self.ctx)
        if not viewer.admin and not accounts.is_team_admin(team["name"], viewer.id):
            raise PermissionDenied("permission denied: only a team admin may invite")
        who = input.get("username") or input.get("email") or ""
        user = accounts.find_user(who)
        if user is None:
            raise NotFound(f"no user {who!r}: create the user first")
        accounts.add_member(team["name"], user.id, bool(input.get("admin")))
        return {
            "invite": {
                "id": encode_id("Invite", user.id),
                "name": user.username,
                "email": user.email,
                "createdAt": None,
                "toUser": UserView(self.ctx, accounts.user(user.id)),
            }
        }


# Fields on other domains' types ----------------------------------------------------------------


def _viewer_field(root: Any, info: Any) -> Any:
    viewer = getattr(info.context, "viewer", None)
    if viewer is None or viewer.id == 0:
        return root.viewer(info)
    return UserView(info.context, _accounts(info.context).user(viewer.id))


def _members(entity: EntityNode, info: Any) -> list[dict[str, Any]]:
    members = _accounts(entity.ctx).members(entity.row["id"])
    return [
        {
            "id": encode_id("User", user.id),
            "admin": is_admin,
            "pending": False,
            "email": user.email,
            "username": user.username,
            "name": user.username,
            "photoUrl": None,
            "accountType": "MEMBER",
            "apiKey": None,
        }
        for user, is_admin in members
    ]


def _is_team(entity: EntityNode, info: Any) -> bool:
    return _accounts(entity.ctx).is_team(entity.row["id"])


def _constant(value: Any) -> Any:
    return lambda entity, info: value


def _viewer_projects(
    user: Any, info: Any, after: str | None = None, first: int | None = None
) -> dict[str, Any]:
    """The projects of every entity the viewer may use."""
    ctx: Context = info.context
    mine = ctx.access.readable_projects(ctx.store.all_projects())
    return positional_page(mine, lambda row: ProjectNode(ctx, row), after=after, first=first)


def bind(schema: GraphQLSchema) -> None:
    entity = schema.type_map["Entity"].fields  # type: ignore[union-attr]
    entity["members"].resolve = _members
    entity["isTeam"].resolve = _is_team
    for name, value in (
        ("available", False),
        ("readOnly", False),
        ("readOnlyAdmin", False),
        ("privateOnly", False),
        ("storageBytes", 0),
        ("codeSavingEnabled", False),
        ("defaultAccess", "PRIVATE"),
        ("isPaid", False),
        ("limits", json.dumps({})),
        ("photoUrl", None),
    ):
        entity[name].resolve = _constant(value)
    schema.query_type.fields["viewer"].resolve = _viewer_field  # type: ignore[union-attr]
    schema.type_map["User"].fields["projects"].resolve = _viewer_projects  # type: ignore[union-attr]
