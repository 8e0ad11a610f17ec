"""``User`` (the SDK's: ``Api.viewer``, ``Api.user``) and ``Api``'s users and teams, named as in
``wandb.Api`` (``create_user``, ``user``, ``users``, ``create_team``, ``team``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .attrs import Attrs
from .errors import AuthenticationError, InvalidInputError, NotFoundError, ServerError
from .queries import users as queries

if TYPE_CHECKING:
    from .transport import GraphQLClient


class User(Attrs):
    """A user: ``id``, ``name``, ``username``, ``email``, ``entity``, ``admin``, ``teams`` and
    the names of its ``api_keys`` (never a key itself). ``generate_api_key`` works with the
    caller's own key, as on W&B."""

    def __init__(self, attrs: Mapping[str, Any], client: GraphQLClient | None = None) -> None:
        super().__init__(attrs)
        self._client = client

    @classmethod
    def from_node(cls, node: dict[str, Any], client: GraphQLClient) -> User:
        return cls(node, client)

    @property
    def admin(self) -> bool:
        return bool(self._attrs.get("admin"))

    @property
    def api_keys(self) -> list[str]:
        keys = self._attrs.get("apiKeys") or {}
        return [edge["node"]["name"] for edge in keys.get("edges", [])]

    @property
    def teams(self) -> list[str]:
        teams = self._attrs.get("teams") or {}
        return [edge["node"]["name"] for edge in teams.get("edges", [])]

    def generate_api_key(self, description: str | None = None) -> str:
        """A new API key of the calling user, in clear this once."""
        if self._client is None:
            raise ValueError("this User was made without a client; fetch it through an Api")
        reply = self._client.execute(queries.GENERATE_API_KEY, {"description": description})
        return reply["result"]["apiKey"]["name"]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self._attrs.get("id") == other._attrs.get("id")

    def __hash__(self) -> int:
        return hash(self._attrs.get("id"))

    def __repr__(self) -> str:
        for key in ("email", "username", "id"):
            if self._attrs.get(key):
                return f"<User {self._attrs[key]}>"
        return f"<User {self._attrs.get('name')!r}>"


@dataclass(frozen=True)
class Member:
    username: str
    email: str | None
    admin: bool


@dataclass(repr=False)
class Team:
    """A team entity and its members; ``invite`` adds a user at once on the embedded server."""

    name: str
    members: list[Member]
    _client: Any = field(default=None, repr=False, compare=False)

    def invite(self, username_or_email: str, admin: bool = False) -> bool:
        """True once the user is a member; False when the server refuses (no such user or
        team, a member already, not the team's admin), as the SDK's."""
        key = "email" if "@" in username_or_email else "username"
        try:
            self._client.execute(
                queries.CREATE_INVITE,
                {"entity": self.name, key: username_or_email, "admin": admin},
            )
        except (NotFoundError, AuthenticationError, InvalidInputError, ServerError):
            return False
        return True

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class UserMethods:
    """Mixed into ``Api``."""

    client: GraphQLClient

    def create_user(self, email: str, admin: bool | None = False) -> User:
        """A new user (administrators only); it gets the entity of its username."""
        reply = self.client.execute(queries.CREATE_USER, {"email": email, "admin": bool(admin)})
        return User.from_node(reply["result"]["user"], self.client)

    def users(self, username_or_email: str) -> list[User]:
        """Users whose username or email starts or ends with the text (administrators only)."""
        reply = self.client.execute(queries.SEARCH_USERS, {"query": username_or_email})
        return [User.from_node(e["node"], self.client) for e in reply["users"]["edges"]]

    def user(self, username_or_email: str) -> User | None:
        """The user with this username or email, or None."""
        found = [
            user
            for user in self.users(username_or_email)
            if username_or_email in (user.username, user.email)
        ]
        return found[0] if found else None

    def create_team(self, team: str, admin_username: str | None = None) -> Team:
        """A new team entity administered by ``admin_username`` (by default, the caller)."""
        self.client.execute(
            queries.CREATE_TEAM, {"teamName": team, "teamAdminUserName": admin_username}
        )
        return self.team(team)

    def team(self, team: str) -> Team:
        """The team of this name, as the SDK's: a name no team has gives a ``Team`` too, with
        no members (its ``invite`` then returns False)."""
        node = self.client.execute(queries.TEAM, {"name": team})["entity"] or {}
        members = [
            Member(m["username"], m.get("email"), bool(m["admin"]))
            for m in node.get("members") or []
        ]
        return Team(team, members, self.client)
