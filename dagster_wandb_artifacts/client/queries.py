"""The GraphQL documents the client sends.

Every type and field selected here also appears in a document the ``wandb`` SDK ships or in
the recorded traces (a test checks this), so the client asks a real W&B server nothing it
does not already answer for the SDK.
"""

from __future__ import annotations

_PROJECT_INFO = """
fragment ProjectInfoFragment on Project {
  id
  internalId
  name
  entity {
    name
  }
}
"""

_ARTIFACT = (
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
    + _PROJECT_INFO
)

VIEWER = """
query Viewer {
  viewer {
    id
    entity
    username
    email
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

UPSERT_RUN = """
mutation UpsertBucket($name: String, $project: String, $entity: String, $groupName: String,
    $displayName: String, $config: JSONString, $jobType: String, $tags: [String!]) {
  upsertBucket(input: {name: $name, modelName: $project, entityName: $entity,
      groupName: $groupName, displayName: $displayName, config: $config, jobType: $jobType,
      tags: $tags}) {
    bucket {
      id
      name
      displayName
      config
      project {
        id
        name
        entity {
          id
          name
        }
      }
    }
    inserted
  }
}
"""

RUN = """
query Run($project: String!, $entity: String!, $name: String!) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      id
      name
      displayName
      state
      config
      group
      jobType
      tags
      createdAt
      summaryMetrics
    }
  }
}
"""

PROJECT = (
    """
query Project($entity: String!, $project: String!) {
  project(entityName: $entity, name: $project) {
    ...ProjectInfoFragment
  }
}
"""
    + _PROJECT_INFO
)

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

ARTIFACT_BY_NAME = (
    """
query ArtifactMembershipByName($entity: String!, $project: String!, $name: String!) {
  project(name: $project, entityName: $entity) {
    artifactCollectionMembership(name: $name) {
      __typename
      id
      versionIndex
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
"""
    + _ARTIFACT
)

ARTIFACT_BY_ID = (
    """
query ArtifactByID($id: ID!) {
  artifact(id: $id) {
    ...ArtifactFragment
  }
}
"""
    + _ARTIFACT
)

CREATE_ARTIFACT = """
mutation CreateArtifact($input: CreateArtifactInput!) {
  createArtifact(input: $input) {
    artifact {
      id
      state
      artifactSequence {
        id
        latestArtifact {
          id
          versionIndex
        }
      }
    }
  }
}
"""

CREATE_MANIFEST = """
mutation CreateArtifactManifest($artifactID: ID!, $baseArtifactID: ID, $name: String!,
    $digest: String!, $entityName: String!, $projectName: String!, $runName: String!,
    $manifestType: ArtifactManifestType!, $includeUpload: Boolean!) {
  createArtifactManifest(input: {artifactID: $artifactID, baseArtifactID: $baseArtifactID,
      name: $name, digest: $digest, entityName: $entityName, projectName: $projectName,
      runName: $runName, type: $manifestType}) {
    artifactManifest {
      id
      file {
        id
        uploadUrl @include(if: $includeUpload)
        uploadHeaders @include(if: $includeUpload)
      }
    }
  }
}
"""

CREATE_FILES = """
mutation CreateArtifactFiles($input: CreateArtifactFilesInput!) {
  createArtifactFiles(input: $input) {
    files {
      edges {
        node {
          storagePath
          uploadUrl
          uploadHeaders
          uploadMultipartUrls {
            uploadID
            uploadUrlParts {
              partNumber
              uploadUrl
            }
          }
          artifact {
            id
          }
        }
      }
    }
  }
}
"""

COMPLETE_MULTIPART = """
mutation CompleteMultipartUploadArtifact($completeMultipartAction: CompleteMultipartAction!,
    $completedParts: [UploadPartsInput!]!, $artifactID: ID!, $storagePath: String!,
    $uploadID: String!) {
  completeMultipartUploadArtifact(input: {completeMultipartAction: $completeMultipartAction,
      completedParts: $completedParts, artifactID: $artifactID, storagePath: $storagePath,
      uploadID: $uploadID}) {
    digest
  }
}
"""

COMMIT_ARTIFACT = """
mutation CommitArtifact($artifactID: ID!) {
  commitArtifact(input: {artifactID: $artifactID}) {
    artifact {
      id
      digest
    }
  }
}
"""

FETCH_MANIFEST = """
query FetchArtifactManifest($id: ID!) {
  artifact(id: $id) {
    currentManifest {
      file {
        directUrl
      }
    }
  }
}
"""

FILE_URLS = """
query GetArtifactMembershipFileUrls($entity: String!, $project: String!, $collection: String!,
    $alias: String!, $cursor: String, $perPage: Int) {
  project(name: $project, entityName: $entity) {
    artifactCollection(name: $collection) {
      __typename
      artifactMembership(aliasName: $alias) {
        files(after: $cursor, first: $perPage) {
          pageInfo {
            __typename
            endCursor
            hasNextPage
          }
          edges {
            node {
              __typename
              name
              directUrl
            }
          }
        }
      }
    }
  }
}
"""

FILES = """
query ArtifactMembershipFiles($entity: String!, $project: String!, $collection: String!,
    $alias: String!, $fileNames: [String!], $cursor: String, $perPage: Int = 50) {
  project(name: $project, entityName: $entity) {
    artifactCollection(name: $collection) {
      __typename
      artifactMembership(aliasName: $alias) {
        files(names: $fileNames, after: $cursor, first: $perPage) {
          pageInfo {
            __typename
            endCursor
            hasNextPage
          }
          edges {
            node {
              __typename
              id
              name: displayName
              url
              sizeBytes
              storagePath
              mimetype
              updatedAt
              digest
              md5
              directUrl
            }
          }
        }
      }
    }
  }
}
"""

USE_ARTIFACT = """
mutation UseArtifact($entityName: String!, $projectName: String!, $runName: String!,
    $artifactID: ID!, $usedAs: String) {
  useArtifact(input: {entityName: $entityName, projectName: $projectName, runName: $runName,
      artifactID: $artifactID, usedAs: $usedAs}) {
    artifact {
      id
      digest
    }
  }
}
"""

ADD_ALIASES = """
mutation AddAliases($input: AddAliasesInput!) {
  result: addAliases(input: $input) {
    success
  }
}
"""

DELETE_ALIASES = """
mutation DeleteAliases($input: DeleteAliasesInput!) {
  result: deleteAliases(input: $input) {
    success
  }
}
"""

UPDATE_ARTIFACT = (
    """
mutation UpdateArtifact($input: UpdateArtifactInput!) {
  result: updateArtifact(input: $input) {
    artifact {
      ...ArtifactFragment
    }
  }
}
"""
    + _ARTIFACT
)

DELETE_ARTIFACT = """
mutation DeleteArtifact($input: DeleteArtifactInput!) {
  result: deleteArtifact(input: $input) {
    artifact {
      id
    }
  }
}
"""

_RUN_INFO = (
    """
fragment RunInfoFragment on Run {
  __typename
  id
  name
  project {
    ...ProjectInfoFragment
  }
}
"""
    + _PROJECT_INFO
)

ARTIFACT_USED_BY = (
    """
query ArtifactUsedBy($id: ID!) {
  artifact(id: $id) {
    usedBy {
      edges {
        node {
          ...RunInfoFragment
        }
      }
    }
  }
}
"""
    + _RUN_INFO
)

ARTIFACT_CREATED_BY = (
    """
query ArtifactCreatedBy($id: ID!) {
  artifact(id: $id) {
    createdBy {
      __typename
      ... on Run {
        ...RunInfoFragment
      }
    }
  }
}
"""
    + _RUN_INFO
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
