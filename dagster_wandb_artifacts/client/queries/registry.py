"""GraphQL documents of links, organizations and the Registry."""

from __future__ import annotations

from .fragments import (
    ARTIFACT_FRAGMENT,
    COLLECTION_FRAGMENT,
    COLLECTION_PAGE,
    PAGE_INFO_FRAGMENT,
    PROJECT_INFO_FRAGMENT,
)

LINK_ARTIFACT = """
mutation LinkArtifact($artifactPortfolioName: String!, $entityName: String!,
    $projectName: String!, $aliases: [ArtifactAliasInput!], $artifactId: ID) {
  linkArtifact(input: {artifactPortfolioName: $artifactPortfolioName, entityName: $entityName,
      projectName: $projectName, aliases: $aliases, artifactID: $artifactId}) {
    versionIndex
  }
}
"""

UNLINK_ARTIFACT = """
mutation UnlinkArtifact($input: UnlinkArtifactInput!) {
  result: unlinkArtifact(input: $input) {
    success
  }
}
"""

FETCH_ORG_INFO = """
query FetchOrgInfoFromEntity($entity: String!) {
  entity(name: $entity) {
    organization {
      name
      orgEntity {
        name
      }
    }
    user {
      organizations {
        name
        orgEntity {
          name
        }
      }
    }
  }
}
"""

FETCH_LINKED_ARTIFACTS = (
    """
query FetchLinkedArtifacts($artifactID: ID!) {
  artifact(id: $artifactID) {
    artifactMemberships {
      edges {
        node {
          versionIndex
          createdAt
          artifactCollection {
            __typename
            name
            project {
              ...ProjectInfoFragment
            }
          }
        }
      }
    }
  }
}
"""
    + PROJECT_INFO_FRAGMENT
)

FETCH_ORGANIZATION = """
query FetchOrganization($org: String!) {
  organization(name: $org) {
    id
    name
    orgEntity {
      __typename
      id
      name
    }
  }
}
"""

_REGISTRY = """
fragment RegistryFragment on Project {
  __typename
  id
  internalId
  name
  entity {
    name
    organization {
      name
    }
  }
  description
  createdAt
  updatedAt
  access
  allowAllArtifactTypes: allowAllArtifactTypesInRegistry
  artifactTypes(includeAll: true) {
    edges {
      node {
        name
      }
    }
  }
}
"""

FETCH_REGISTRIES = (
    """
query FetchRegistries($organization: String!, $filters: JSONString, $cursor: String,
    $perPage: Int, $order: String) {
  organization(name: $organization) {
    orgEntity {
      projects(filters: $filters, after: $cursor, first: $perPage, order: $order) {
        pageInfo {
          ...PageInfoFragment
        }
        edges {
          node {
            ...RegistryFragment
          }
        }
      }
    }
  }
}
"""
    + _REGISTRY
    + PAGE_INFO_FRAGMENT
)

FETCH_REGISTRY = (
    """
query FetchRegistry($name: String, $entity: String) {
  entity(name: $entity) {
    project(name: $name) {
      ...RegistryFragment
    }
  }
}
"""
    + _REGISTRY
)

UPSERT_REGISTRY = (
    """
mutation UpsertRegistry($input: UpsertModelInput!) {
  upsertModel(input: $input) {
    inserted
    project {
      ...RegistryFragment
    }
  }
}
"""
    + _REGISTRY
)

RENAME_REGISTRY = (
    """
mutation RenameRegistry($input: RenameProjectInput!) {
  renameProject(input: $input) {
    inserted
    project {
      ...RegistryFragment
    }
  }
}
"""
    + _REGISTRY
)

DELETE_REGISTRY = """
mutation DeleteRegistry($id: String!) {
  deleteModel(input: {id: $id}) {
    success
  }
}
"""

REGISTRY_COLLECTIONS = (
    """
query RegistryCollections($organization: String!, $registryFilter: JSONString,
    $collectionFilter: JSONString, $collectionTypes: [ArtifactCollectionType!] = [PORTFOLIO],
    $cursor: String, $perPage: Int, $order: String) {
  organization(name: $organization) {
    orgEntity {
      name
      artifactCollections(
        projectFilters: $registryFilter
        filters: $collectionFilter
        collectionTypes: $collectionTypes
        after: $cursor
        first: $perPage
        order: $order
      ) """
    + COLLECTION_PAGE
    + """
    }
  }
}
"""
    + COLLECTION_FRAGMENT
    + PAGE_INFO_FRAGMENT
)

REGISTRY_VERSIONS = (
    """
query RegistryVersions($organization: String!, $registryFilter: JSONString,
    $collectionFilter: JSONString, $artifactFilter: JSONString, $cursor: String, $perPage: Int,
    $order: String) {
  organization(name: $organization) {
    orgEntity {
      name
      artifactMemberships(
        projectFilters: $registryFilter
        collectionFilters: $collectionFilter
        filters: $artifactFilter
        after: $cursor
        first: $perPage
        order: $order
      ) {
        pageInfo {
          ...PageInfoFragment
        }
        edges {
          node {
            __typename
            id
            versionIndex
            createdAt
            aliases {
              __typename
              id
              alias
            }
            artifactCollection {
              __typename
              name
              project {
                ...ProjectInfoFragment
              }
            }
            artifact {
              ...ArtifactFragment
            }
          }
        }
      }
    }
  }
}
"""
    + ARTIFACT_FRAGMENT
    + PAGE_INFO_FRAGMENT
)
