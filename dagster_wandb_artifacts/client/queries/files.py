"""GraphQL documents of manifests and files: upload and download URLs of an artifact's bytes."""

from __future__ import annotations

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
