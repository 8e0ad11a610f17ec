"""A run's history, summary and config, as the SDK's public ``Run`` reads and writes them."""

from __future__ import annotations

RUN_FULL_HISTORY = """
query RunFullHistory($project: String!, $entity: String!, $name: String!, $samples: Int) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      history(samples: $samples)
    }
  }
}
"""

RUN_SAMPLED_HISTORY = """
query RunSampledHistory($project: String!, $entity: String!, $name: String!,
    $specs: [JSONString!]!) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      sampledHistory(specs: $specs)
    }
  }
}
"""

HISTORY_PAGE = """
query HistoryPage($entity: String!, $project: String!, $run: String!, $minStep: Int64!,
    $maxStep: Int64!, $pageSize: Int!) {
  project(name: $project, entityName: $entity) {
    run(name: $run) {
      history(minStep: $minStep, maxStep: $maxStep, samples: $pageSize)
    }
  }
}
"""

UPSERT_SUMMARY = """
mutation UpsertBucket($id: String, $summaryMetrics: JSONString) {
  upsertBucket(input: {id: $id, summaryMetrics: $summaryMetrics}) {
    bucket {
      id
    }
  }
}
"""

UPSERT_CONFIG = """
mutation UpsertBucket($id: String, $config: JSONString) {
  upsertBucket(input: {id: $id, config: $config}) {
    bucket {
      id
    }
  }
}
"""
