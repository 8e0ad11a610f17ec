"""GraphQL documents of the viewer, server features, projects and runs."""

from __future__ import annotations

from .fragments import PAGE_INFO_FRAGMENT, RUN_FRAGMENT

VIEWER = """
query Viewer {
  viewer {
    id
    name
    username
    email
    admin
    flags
    entity
    deletedAt
    teams {
      edges {
        node {
          name
        }
      }
    }
  }
}
"""

SERVER_FEATURES = """
query ServerFeaturesQuery {
  serverInfo {
    features {
      name
      isEnabled
    }
  }
}
"""

UPSERT_RUN = (
    """
mutation UpsertBucket($name: String, $project: String, $entity: String, $groupName: String,
    $displayName: String, $config: JSONString, $jobType: String, $tags: [String!]) {
  upsertBucket(input: {name: $name, modelName: $project, entityName: $entity,
      groupName: $groupName, displayName: $displayName, config: $config, jobType: $jobType,
      tags: $tags}) {
    bucket {
      ...RunFragment
    }
    inserted
  }
}
"""
    + RUN_FRAGMENT
)

RUN = (
    """
query Run($project: String!, $entity: String!, $name: String!) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      ...RunFragment
    }
  }
}
"""
    + RUN_FRAGMENT
)

PROJECT_DETAILS = """
query GetProject($name: String!, $entity: String!) {
  project(name: $name, entityName: $entity) {
    id
    name
    entityName
    createdAt
    isBenchmark
    description
    user {
      id
      name
      username
      email
      entity
    }
  }
}
"""

CREATE_PROJECT = """
mutation CreateProject($input: UpsertModelInput!) {
  result: upsertModel(input: $input) {
    project {
      id
      name
      entityName
      description
    }
    inserted
  }
}
"""

RUNS = (
    """
query Runs($project: String!, $entity: String!, $cursor: String, $perPage: Int = 50,
    $order: String, $filters: JSONString) {
  project(name: $project, entityName: $entity) {
    runCount(filters: $filters)
    runs(filters: $filters, after: $cursor, first: $perPage, order: $order) {
      edges {
        node {
          ...RunFragment
        }
        cursor
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
}
"""
    + RUN_FRAGMENT
)

PROJECTS = (
    """
query GetProjects($entity: String, $cursor: String, $perPage: Int = 50) {
  models(entityName: $entity, after: $cursor, first: $perPage) {
    pageInfo {
      ...PageInfoFragment
    }
    edges {
      node {
        __typename
        id
        name
        entityName
        createdAt
      }
    }
  }
}
"""
    + PAGE_INFO_FRAGMENT
)
