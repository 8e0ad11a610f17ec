"""GraphQL documents of artifact versions: logging, reading, aliases, lineage and listings."""

from __future__ import annotations

from .fragments import ARTIFACT_FRAGMENT, PAGE_INFO_FRAGMENT, PROJECT_INFO_FRAGMENT

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
    + ARTIFACT_FRAGMENT
)

ARTIFACT_BY_ID = (
    """
query ArtifactByID($id: ID!) {
  artifact(id: $id) {
    ...ArtifactFragment
  }
}
"""
    + ARTIFACT_FRAGMENT
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
    + ARTIFACT_FRAGMENT
)

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
    + ARTIFACT_FRAGMENT
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
    + PROJECT_INFO_FRAGMENT
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
    + ARTIFACT_FRAGMENT
    + PAGE_INFO_FRAGMENT
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
        + ARTIFACT_FRAGMENT
        + PAGE_INFO_FRAGMENT
    )


RUN_OUTPUT_ARTIFACTS = _run_artifacts("RunOutputArtifacts", "outputArtifacts")

RUN_INPUT_ARTIFACTS = _run_artifacts("RunInputArtifacts", "inputArtifacts")
