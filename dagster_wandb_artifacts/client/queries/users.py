"""GraphQL documents of users, API keys and teams, as W&B's API names them."""

from __future__ import annotations

_USER = """
fragment UserFields on User {
  id
  username
  email
  admin
  entity
  teams { edges { node { name } } }
}
"""

SEARCH_USERS = (
    """
query SearchUsers($query: String) {
  users(query: $query) { edges { node { ...UserFields } } }
}
"""
    + _USER
)

CREATE_USER = (
    """
mutation CreateUserFromAdmin($email: String!, $admin: Boolean) {
  result: createUser(input: {email: $email, admin: $admin}) { user { ...UserFields } }
}
"""
    + _USER
)

GENERATE_API_KEY = """
mutation GenerateApiKey($description: String) {
  result: generateApiKey(input: {description: $description}) { apiKey { id name } }
}
"""

CREATE_TEAM = """
mutation CreateTeam($teamName: String!, $teamAdminUserName: String) {
  result: createTeam(input: {teamName: $teamName, teamAdminUserName: $teamAdminUserName}) {
    entity { id name }
  }
}
"""

TEAM = """
query GetTeamEntity($name: String!) {
  entity(name: $name) { id name isTeam members { id admin email username } }
}
"""

CREATE_INVITE = """
mutation CreateInvite($entity: String!, $email: String, $username: String, $admin: Boolean) {
  result: createInvite(
    input: {entityName: $entity, email: $email, username: $username, admin: $admin}
  ) { invite { id } }
}
"""
