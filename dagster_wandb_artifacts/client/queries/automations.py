"""GraphQL documents of automations and integrations, as W&B's API names them."""

from __future__ import annotations

_INTEGRATION = """
fragment IntegrationFields on Integration {
  __typename
  ... on SlackIntegration { id teamName channelName }
  ... on GenericWebhookIntegration { id name urlEndpoint }
}
"""

_TRIGGER = (
    """
fragment TriggerFields on Trigger {
  id
  createdAt
  updatedAt
  name
  description
  enabled
  scope {
    __typename
    ... on Project { id name }
    ... on ArtifactSequence { id name }
    ... on ArtifactPortfolio { id name }
    ... on Entity { id name }
  }
  triggeringCondition {
    ... on FilterEventTriggeringCondition { eventType filter }
  }
  triggeredAction {
    __typename
    ... on GenericWebhookTriggeredAction { integration { ...IntegrationFields } requestPayload }
    ... on NotificationTriggeredAction {
      integration { ...IntegrationFields }
      title
      message
      severity
    }
    ... on NoOpTriggeredAction { noOp }
  }
}
"""
    + _INTEGRATION
)

ENTITY_AUTOMATIONS = (
    """
query GetEntityAutomations($entity: String!, $cursor: String, $perPage: Int,
    $filters: JSONString) {
  entity(name: $entity) {
    triggers(after: $cursor, first: $perPage, filters: $filters) {
      totalCount
      pageInfo { endCursor hasNextPage }
      edges { node { ...TriggerFields } }
    }
  }
}
"""
    + _TRIGGER
)

CREATE_AUTOMATION = (
    """
mutation CreateAutomation($input: CreateFilterTriggerInput!) {
  result: createFilterTrigger(input: $input) { trigger { ...TriggerFields } }
}
"""
    + _TRIGGER
)

UPDATE_AUTOMATION = (
    """
mutation UpdateAutomation($input: UpdateFilterTriggerInput!) {
  result: updateFilterTrigger(input: $input) { trigger { ...TriggerFields } }
}
"""
    + _TRIGGER
)

DELETE_AUTOMATION = """
mutation DeleteAutomation($id: ID!) {
  result: deleteTrigger(input: {triggerID: $id}) { success }
}
"""

INTEGRATIONS = (
    """
query IntegrationsByEntity($entity: String!, $cursor: String, $perPage: Int) {
  entity(name: $entity) {
    integrations(after: $cursor, first: $perPage) {
      totalCount
      pageInfo { endCursor hasNextPage }
      edges { node { ...IntegrationFields } }
    }
  }
}
"""
    + _INTEGRATION
)

CREATE_WEBHOOK_INTEGRATION = (
    """
mutation CreateGenericWebhookIntegration($input: CreateGenericWebhookIntegrationInput!) {
  result: createGenericWebhookIntegration(input: $input) {
    integration { ...IntegrationFields }
  }
}
"""
    + _INTEGRATION
)

INSERT_SECRET = """
mutation InsertSecret($input: InsertSecretInput!) {
  insertSecret(input: $input) { success }
}
"""
