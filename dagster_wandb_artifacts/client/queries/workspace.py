"""GraphQL documents of sweeps, reports, custom charts and Launch queues, as W&B's API names
them."""

from __future__ import annotations

SWEEP = """
query GetSweep($name: String!, $project: String, $entity: String) {
  project(name: $project, entityName: $entity) {
    sweep(sweepName: $name) {
      id name displayName method state description bestLoss config createdAt updatedAt runCount
    }
  }
}
"""

REPORTS = """
query ProjectViews($project: String!, $entity: String!, $reportCursor: String,
    $reportLimit: Int!, $viewType: String = "runs", $viewName: String) {
  project(name: $project, entityName: $entity) {
    allViews(viewType: $viewType, viewName: $viewName, first: $reportLimit,
        after: $reportCursor) {
      edges { node { id name displayName description spec updatedAt createdAt } cursor }
      pageInfo { endCursor hasNextPage }
    }
  }
}
"""

CREATE_CUSTOM_CHART = """
mutation CreateCustomChart($entity: String!, $chartName: String!, $displayName: String!,
    $chartType: String!, $access: String!, $spec: JSONString!) {
  createCustomChart(input: {entity: $entity, name: $chartName, displayName: $displayName,
      type: $chartType, access: $access, spec: $spec}) {
    chart { id }
  }
}
"""

DELETE_FROM_RUN_QUEUE = """
mutation DeleteFromRunQueue($queueID: ID!, $runQueueItemId: ID!) {
  deleteFromRunQueue(input: {queueID: $queueID, runQueueItemId: $runQueueItemId}) { success }
}
"""

CREATE_DEFAULT_RESOURCE_CONFIG = """
mutation CreateDefaultResourceConfig($entityName: String!, $resource: String!,
    $config: JSONString!, $templateVariables: JSONString) {
  createDefaultResourceConfig(input: {entityName: $entityName, resource: $resource,
      config: $config, templateVariables: $templateVariables}) {
    defaultResourceConfigID
    success
  }
}
"""

CREATE_RUN_QUEUE = """
mutation CreateRunQueue($entity: String!, $project: String!, $queueName: String!,
    $access: RunQueueAccessType!, $prioritizationMode: RunQueuePrioritizationMode,
    $defaultResourceConfigID: ID) {
  createRunQueue(input: {entityName: $entity, projectName: $project, queueName: $queueName,
      access: $access, prioritizationMode: $prioritizationMode,
      defaultResourceConfigID: $defaultResourceConfigID}) {
    success
    queueID
  }
}
"""

UPSERT_RUN_QUEUE = """
mutation UpsertRunQueue($entityName: String!, $projectName: String!, $queueName: String!,
    $resourceType: String!, $resourceConfig: JSONString!, $templateVariables: JSONString,
    $prioritizationMode: RunQueuePrioritizationMode, $externalLinks: JSONString) {
  upsertRunQueue(input: {entityName: $entityName, projectName: $projectName,
      queueName: $queueName, resourceType: $resourceType, resourceConfig: $resourceConfig,
      templateVariables: $templateVariables, prioritizationMode: $prioritizationMode,
      externalLinks: $externalLinks}) {
    success
    configSchemaValidationErrors
  }
}
"""

RUN_QUEUE = """
query GetRunQueueMetadata($projectName: String!, $entityName: String!, $runQueue: String!) {
  project(name: $projectName, entityName: $entityName) {
    runQueue(name: $runQueue) {
      id access defaultResourceConfigID prioritizationMode externalLinks
      runQueueItems(first: 100) { edges { node { id state associatedRunId } } }
    }
  }
}
"""

DEFAULT_RESOURCE_CONFIG = """
query GetDefaultResourceConfig($entityName: String!, $id: ID!) {
  entity(name: $entityName) {
    defaultResourceConfig(id: $id) { config resource templateVariables { name schema } }
  }
}
"""

JOBS = """
query ArtifactOfType($entityName: String!, $projectName: String!, $artifactTypeName: String!) {
  project(name: $projectName, entityName: $entityName) {
    artifactType(name: $artifactTypeName) {
      artifactCollections {
        edges { node { artifacts { edges { node {
          id state aliases { alias } artifactSequence { name }
        } } } } }
      }
    }
  }
}
"""
