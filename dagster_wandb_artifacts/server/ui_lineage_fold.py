"""Lineage that fits: repeated runs of one job and partition folded into one node.

Re-materializing a partition makes another run of the same job that uses the same inputs,
and another version of the same output: drawn one node each, ten retries of a day's
partition fill the page with identical boxes. Within a layer, nodes with the same label (a
run's job type and the partitions it logged; a version's collection and partition) that
hang off the same nodes nearer the focus are folded into the first of them, which counts
the others; the page's "expand" link draws the graph unfolded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .store import Store
from .store.browse import run_names
from .ui_lineage import Graph, Node

NodeKey = tuple[str, int]
#: Metadata key of the Dagster partition a version holds (as the IO manager writes it).
PARTITION_KEY = "dagster/partition_key"


@dataclass
class Labels:
    """What the page writes on each node besides its name: the partition (of a version, or
    the partitions a run logged), and how many nodes were folded into it."""

    partitions: dict[NodeKey, str] = field(default_factory=dict)
    folded: dict[NodeKey, int] = field(default_factory=dict)


def _partition(store: Store, artifact_id: int) -> str | None:
    row = store.get("artifacts", artifact_id)
    try:
        value = json.loads(row["metadata"] or "{}").get(PARTITION_KEY) if row else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def label_nodes(store: Store, graph: Graph) -> Labels:
    """Each version's partition, and each run's: the partitions of the versions it logged."""
    labels = Labels()
    for key, node in graph.nodes.items():
        if node.kind == "artifact" and (partition := _partition(store, node.id)):
            labels.partitions[key] = partition
    for source, target in graph.edges:
        if source[0] == "run" and target in labels.partitions:
            logged = {*labels.partitions.get(source, "").split(", "), labels.partitions[target]}
            labels.partitions[source] = ", ".join(sorted(p for p in logged if p))
    return labels


def folder(store: Store, labels: Labels) -> Callable[[Graph], None]:
    """The ``fold`` step for :func:`.ui_lineage.lineage`, filling ``labels``."""

    def fold(graph: Graph) -> None:
        labels.partitions.update(label_nodes(store, graph).partitions)
        runs = run_names(store, graph.ids("run"))
        versions = {node_id: store.get("artifacts", node_id) for node_id in graph.ids("artifact")}

        def name_of(key: NodeKey, node: Node) -> Any:
            if node.layer == 0:
                return None  # the focus stays alone
            if node.kind == "run":
                row = runs.get(node.id)
                return ("run", row["job_type"] if row else None, labels.partitions.get(key))
            row = versions.get(node.id)
            collection = row["sequence_id"] if row else None
            return ("artifact", collection, labels.partitions.get(key))

        _fold(graph, name_of, labels.folded)

    return fold


def _fold(
    graph: Graph, name_of: Callable[[NodeKey, Node], Any], folded: dict[NodeKey, int]
) -> None:
    neighbours: dict[NodeKey, set[NodeKey]] = {key: set() for key in graph.nodes}
    for source, target in graph.edges:
        neighbours[source].add(target)
        neighbours[target].add(source)
    merged_into: dict[NodeKey, NodeKey] = {}
    for layer in sorted({node.layer for node in graph.nodes.values()}, key=abs):
        inner = layer - 1 if layer > 0 else layer + 1
        groups: dict[Any, list[NodeKey]] = {}
        for key in sorted(k for k, node in graph.nodes.items() if node.layer == layer):
            name = name_of(key, graph.nodes[key])
            if name is None:
                continue
            anchors = frozenset(
                merged_into.get(n, n) for n in neighbours[key] if graph.nodes[n].layer == inner
            )
            groups.setdefault((name, anchors), []).append(key)
        for keep, *rest in groups.values():
            if rest:
                folded[keep] = folded.get(keep, 0) + len(rest)
                merged_into.update((key, keep) for key in rest)
    if not merged_into:
        return
    graph.edges = {
        (merged_into.get(s, s), merged_into.get(t, t))
        for s, t in graph.edges
        if merged_into.get(s, s) != merged_into.get(t, t)
    }
    for key in merged_into:
        del graph.nodes[key]
