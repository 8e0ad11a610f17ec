"""GraphQL documents of artifact types and collections (sequences and portfolios)."""

from __future__ import annotations

from .fragments import COLLECTION_FRAGMENT, COLLECTION_PAGE, PAGE_INFO_FRAGMENT

_ARTIFACT_TYPE = """
fragment ArtifactTypeFragment on ArtifactType {
  __typename
  id
  name
  description
  createdAt
}
"""

PROJECT_ARTIFACT_TYPES = (
    """
query ProjectArtifactTypes($entity: String!, $project: String!, $cursor: String, $perPage: Int) {
  project(name: $project, entityName: $entity) {
    artifactTypes(after: $cursor, first: $perPage) {
      edges {
        node {
          ...ArtifactTypeFragment
        }
      }
      pageInfo {
        ...PageInfoFragment
      }
    }
  }
}
"""
    + _ARTIFACT_TYPE
    + PAGE_INFO_FRAGMENT
)

PROJECT_ARTIFACT_TYPE = (
    """
query ProjectArtifactType($entity: String!, $project: String!, $type: String!) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {
      ...ArtifactTypeFragment
    }
  }
}
"""
    + _ARTIFACT_TYPE
)

# A project's or a type's collections, one page.
_COLLECTIONS_PAGE = (
    """
artifactCollections(after: $cursor, first: $perPage, filters: $filters, order: $order) """
    + COLLECTION_PAGE
)

TYPE_ARTIFACT_COLLECTIONS = (
    """
query ArtifactTypeArtifactCollections($entity: String!, $project: String!, $type: String!,
    $cursor: String, $perPage: Int, $filters: JSONString, $order: String) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {"""
    + _COLLECTIONS_PAGE
    + """}
  }
}
"""
    + COLLECTION_FRAGMENT
    + PAGE_INFO_FRAGMENT
)

PROJECT_ARTIFACT_COLLECTIONS = (
    """
query ProjectArtifactCollections($entity: String!, $project: String!, $cursor: String,
    $perPage: Int, $filters: JSONString, $order: String) {
  project(entityName: $entity, name: $project) {"""
    + _COLLECTIONS_PAGE
    + """}
}
"""
    + COLLECTION_FRAGMENT
    + PAGE_INFO_FRAGMENT
)

PROJECT_ARTIFACT_COLLECTION = (
    """
query ProjectArtifactCollection($entity: String!, $project: String!, $type: String!,
    $name: String!) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {
      artifactCollection(name: $name) {
        __typename
        ...ArtifactCollectionFragment
      }
    }
  }
}
"""
    + COLLECTION_FRAGMENT
)

COLLECTION_ALIASES = (
    """
query ArtifactCollectionAliases($id: ID!, $cursor: String, $perPage: Int = 1000) {
  artifactCollection(id: $id) {
    __typename
    aliases(after: $cursor, first: $perPage) {
      pageInfo {
        ...PageInfoFragment
      }
      edges {
        node {
          __typename
          id
          alias
        }
      }
    }
  }
}
"""
    + PAGE_INFO_FRAGMENT
)

UPDATE_COLLECTION = (
    """
mutation UpdateArtifactSequence($input: UpdateArtifactSequenceInput!) {
  result: updateArtifactSequence(input: $input) {
    artifactCollection {
      __typename
      ...ArtifactCollectionFragment
    }
  }
}
"""
    + COLLECTION_FRAGMENT
)

UPDATE_PORTFOLIO = (
    """
mutation UpdateArtifactPortfolio($input: UpdateArtifactPortfolioInput!) {
  result: updateArtifactPortfolio(input: $input) {
    artifactCollection {
      __typename
      ...ArtifactCollectionFragment
    }
  }
}
"""
    + COLLECTION_FRAGMENT
)

MOVE_COLLECTION = (
    """
mutation UpdateArtifactSequenceType($input: MoveArtifactSequenceInput!) {
  result: moveArtifactSequence(input: $input) {
    artifactCollection {
      __typename
      ...ArtifactCollectionFragment
    }
  }
}
"""
    + COLLECTION_FRAGMENT
)

DELETE_PORTFOLIO = """
mutation DeleteArtifactPortfolio($id: ID!) {
  result: deleteArtifactPortfolio(input: {artifactPortfolioID: $id}) {
    artifactCollection {
      __typename
      state
    }
  }
}
"""

DELETE_COLLECTION = """
mutation DeleteArtifactSequence($id: ID!) {
  result: deleteArtifactSequence(input: {artifactSequenceID: $id}) {
    artifactCollection {
      __typename
      state
    }
  }
}
"""

ADD_COLLECTION_TAGS = """
mutation AddArtifactCollectionTags($input: CreateArtifactCollectionTagAssignmentsInput!) {
  result: createArtifactCollectionTagAssignments(input: $input) {
    tags {
      __typename
      id
      name
    }
  }
}
"""

DELETE_COLLECTION_TAGS = """
mutation DeleteArtifactCollectionTags($input: DeleteArtifactCollectionTagAssignmentsInput!) {
  result: deleteArtifactCollectionTagAssignments(input: $input) {
    success
  }
}
"""
