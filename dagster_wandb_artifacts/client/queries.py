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

_RUN_FIELDS = """
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
    + _RUN_FIELDS
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
    + _RUN_FIELDS
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

# With the manifest's URL, so a download needs no ``FetchArtifactManifest`` first.
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
        currentManifest {
          file {
            directUrl
          }
        }
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

# The committed version comes back whole, so logging needs no ``ArtifactByID`` afterwards.
COMMIT_ARTIFACT = (
    """
mutation CommitArtifact($artifactID: ID!) {
  commitArtifact(input: {artifactID: $artifactID}) {
    artifact {
      ...ArtifactFragment
    }
  }
}
"""
    + _ARTIFACT
)

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

FILES = """
query ArtifactMembershipFiles($entity: String!, $project: String!, $collection: String!,
    $alias: String!, $fileNames: [String!], $cursor: String, $perPage: Int = 50) {
  project(name: $project, entityName: $entity) {
    artifactCollection(name: $collection) {
      __typename
      artifactMembership(aliasName: $alias) {
        files(names: $fileNames, after: $cursor, first: $perPage) {
          totalCount
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

_PAGE_INFO = """
fragment PageInfoFragment on PageInfo {
  __typename
  endCursor
  hasNextPage
}
"""

_COLLECTION = (
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
    + _PROJECT_INFO
)

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
    + _PAGE_INFO
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

# One page of collections with their total: the selection of every collection listing.
_COLLECTION_PAGE = """{
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

# A project's or a type's collections, one page.
_COLLECTIONS_PAGE = (
    """
artifactCollections(after: $cursor, first: $perPage, filters: $filters, order: $order) """
    + _COLLECTION_PAGE
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
    + _COLLECTION
    + _PAGE_INFO
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
    + _COLLECTION
    + _PAGE_INFO
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
    + _COLLECTION
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
    + _PAGE_INFO
)

PROJECT_ARTIFACTS = (
    """
query ProjectArtifacts($entity: String!, $project: String!, $type: String!,
    $collection: String!, $cursor: String, $perPage: Int = 50, $order: String,
    $filters: JSONString) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {
      artifactCollection(name: $collection) {
        __typename
        artifacts(after: $cursor, first: $perPage, order: $order, filters: $filters) {
          totalCount
          pageInfo {
            ...PageInfoFragment
          }
          edges {
            version
            node {
              ...ArtifactFragment
            }
          }
        }
      }
    }
  }
}
"""
    + _ARTIFACT
    + _PAGE_INFO
)


def _run_artifacts(operation: str, field: str) -> str:
    return (
        f"""
query {operation}($entity: String!, $project: String!, $run: String!, $cursor: String,
    $perPage: Int) {{
  project(entityName: $entity, name: $project) {{
    run(name: $run) {{
      artifacts: {field}(after: $cursor, first: $perPage) {{
        totalCount
        pageInfo {{
          ...PageInfoFragment
        }}
        edges {{
          node {{
            ...ArtifactFragment
          }}
        }}
      }}
    }}
  }}
}}
"""
        + _ARTIFACT
        + _PAGE_INFO
    )


RUN_OUTPUT_ARTIFACTS = _run_artifacts("RunOutputArtifacts", "outputArtifacts")
RUN_INPUT_ARTIFACTS = _run_artifacts("RunInputArtifacts", "inputArtifacts")

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
    + _RUN_FIELDS
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
    + _PAGE_INFO
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
    + _COLLECTION
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
    + _COLLECTION
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
    + _COLLECTION
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
    + _PROJECT_INFO
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
    + _PAGE_INFO
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
    + _COLLECTION_PAGE
    + """
    }
  }
}
"""
    + _COLLECTION
    + _PAGE_INFO
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
    + _ARTIFACT
    + _PAGE_INFO
)
