"""GraphQL fragments and selections shared by the documents of several domains."""

from __future__ import annotations

PROJECT_INFO_FRAGMENT = """
fragment ProjectInfoFragment on Project {
  id
  internalId
  name
  entity {
    name
  }
}
"""

ARTIFACT_FRAGMENT = (
    """
fragment ArtifactFragment on Artifact {
  __typename
  id
  artifactSequence {
    __typename
    name
    project {
      ...ProjectInfoFragment
    }
  }
  versionIndex
  artifactType {
    name
  }
  description
  metadata
  ttlDurationSeconds
  ttlIsInherited
  tags {
    __typename
    id
    name
  }
  historyStep
  state
  size
  digest
  commitHash
  fileCount
  createdAt
  updatedAt
  aliases {
    artifactCollection {
      __typename
      name
      project {
        ...ProjectInfoFragment
      }
    }
    __typename
    id
    alias
  }
}
"""
    + PROJECT_INFO_FRAGMENT
)

RUN_FRAGMENT = """
fragment RunFragment on Run {
  id
  name
  displayName
  state
  config
  group
  jobType
  tags
  createdAt
  heartbeatAt
  description
  notes
  sweepName
  commit
  readOnly
  historyLineCount
  historyKeys
  summaryMetrics
  projectId
  user {
    name
    username
  }
}
"""

PAGE_INFO_FRAGMENT = """
fragment PageInfoFragment on PageInfo {
  __typename
  endCursor
  hasNextPage
}
"""

COLLECTION_FRAGMENT = (
    """
fragment ArtifactCollectionFragment on ArtifactCollection {
  __typename
  id
  name
  description
  createdAt
  updatedAt
  project {
    ...ProjectInfoFragment
  }
  type: defaultArtifactType {
    name
  }
  tags {
    edges {
      node {
        __typename
        id
        name
      }
    }
  }
}
"""
    + PROJECT_INFO_FRAGMENT
)

# One page of collections with their total: the selection of every collection listing.
COLLECTION_PAGE = """{
  totalCount
  pageInfo {
    ...PageInfoFragment
  }
  edges {
    node {
      __typename
      ...ArtifactCollectionFragment
    }
  }
}
"""
