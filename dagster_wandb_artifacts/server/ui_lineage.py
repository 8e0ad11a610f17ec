"""The lineage graph of a version, laid out in layers for a server-side SVG.

From the version, upstream: the run that logged it, the versions that run used, the runs
that logged those, ...; downstream: the runs that used it, what they logged, ... up to
``DEPTH`` steps each way, each node's neighbours capped at ``FAN_OUT`` (the rest counted).
Layers are the signed distance from the version; within a layer nodes are ordered by the
mean position of their neighbours nearer the version (the barycenter heuristic, which keeps
edges from crossing), and networkx's ``multipartite_layout`` places them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .store import Store

#: Steps (version to run, or run to version) followed each way.
DEPTH = 4
#: Neighbours drawn per node and direction; the others are counted on the node.
FAN_OUT = 8

NODE_WIDTH = 250
NODE_HEIGHT = 48
_LAYER_GAP = 60
_ROW_GAP = 22
_MARGIN = 12


@dataclass
class Node:
    """A version (``kind`` "artifact") or a run of the graph, with its place once laid out."""

    kind: str
    id: int
    layer: int
    hidden_neighbours: int = 0
    x: float = 0.0
    y: float = 0.0


@dataclass
class Graph:
    nodes: dict[tuple[str, int], Node] = field(default_factory=dict)
    edges: set[tuple[tuple[str, int], tuple[str, int]]] = field(default_factory=set)
    width: float = 0.0
    height: float = 0.0

    def ids(self, kind: str) -> list[int]:
        return [node.id for node in self.nodes.values() if node.kind == kind]


def _producer(store: Store, artifact_id: int) -> list[int]:
    row = store.one(
        "SELECT created_by_run_id FROM artifacts WHERE id = ? AND created_by_run_id IS NOT NULL",
        (artifact_id,),
    )
    return [row[0]] if row else []


def _neighbours(
    store: Store, key: tuple[str, int], upstream: bool
) -> tuple[list[tuple[str, int]], int]:
    """Up to ``FAN_OUT`` neighbours of a node, and how many it has."""
    kind, node_id = key
    if kind == "artifact" and upstream:
        found = [("run", run_id) for run_id in _producer(store, node_id)]
        return found, len(found)
    if kind == "artifact":
        neighbour = "run"
        sql = "SELECT run_id, COUNT(*) OVER () FROM artifact_uses WHERE artifact_id = ? ORDER BY id"
    elif upstream:
        neighbour = "artifact"
        sql = (
            "SELECT u.artifact_id, COUNT(*) OVER () FROM artifact_uses u "
            "JOIN artifacts a ON a.id = u.artifact_id "
            "WHERE u.run_id = ? AND a.state = 'COMMITTED' ORDER BY u.id"
        )
    else:
        neighbour = "artifact"
        sql = (
            "SELECT id, COUNT(*) OVER () FROM artifacts "
            "WHERE created_by_run_id = ? AND state = 'COMMITTED' ORDER BY id"
        )
    rows = store.all(f"{sql} LIMIT ?", (node_id, FAN_OUT))
    return [(neighbour, row[0]) for row in rows], rows[0][1] if rows else 0


def lineage(store: Store, artifact_id: int) -> Graph:
    """The graph around a version, laid out."""
    graph = Graph()
    focus = ("artifact", artifact_id)
    graph.nodes[focus] = Node("artifact", artifact_id, 0)
    for upstream in (True, False):
        step = -1 if upstream else 1
        frontier = [focus]
        for distance in range(1, DEPTH + 1):
            reached = []
            for key in frontier:
                found, total = _neighbours(store, key, upstream)
                graph.nodes[key].hidden_neighbours += total - len(found)
                for neighbour in found:
                    graph.edges.add((neighbour, key) if upstream else (key, neighbour))
                    if neighbour not in graph.nodes:
                        graph.nodes[neighbour] = Node(*neighbour, layer=step * distance)
                        reached.append(neighbour)
            frontier = reached
    _lay_out(graph)
    return graph


def _ordered_layers(graph: Graph) -> dict[int, list[tuple[str, int]]]:
    """Nodes by layer, each layer ordered by the barycenter of its neighbours nearer layer 0."""
    layers: dict[int, list[tuple[str, int]]] = {}
    for key, node in graph.nodes.items():
        layers.setdefault(node.layer, []).append(key)
    neighbours: dict[tuple[str, int], list[tuple[str, int]]] = {key: [] for key in graph.nodes}
    for source, target in sorted(graph.edges):
        neighbours[source].append(target)
        neighbours[target].append(source)
    rank: dict[tuple[str, int], float] = {key: 0 for key in layers[0]}
    for layer in sorted(layers, key=abs)[1:]:  # layer 0 is the version alone
        inner = layer - 1 if layer > 0 else layer + 1

        def barycenter(key: tuple[str, int], inner: int = inner) -> float:
            placed = [rank[n] for n in neighbours[key] if graph.nodes[n].layer == inner]
            return sum(placed) / len(placed) if placed else float("inf")

        layers[layer].sort(key=lambda key: (barycenter(key), key))
        rank.update({key: index for index, key in enumerate(layers[layer])})
    return dict(sorted(layers.items()))


def _lay_out(graph: Graph) -> None:
    import networkx  # noqa: PLC0415 (costs ~0.15 s; only a lineage page needs it)

    layers = _ordered_layers(graph)
    shape = networkx.DiGraph()
    shape.add_nodes_from(graph.nodes)
    shape.add_edges_from(graph.edges)
    if len(graph.nodes) == 1:
        positions = {key: (0.0, 0.0) for key in graph.nodes}
    else:
        positions = networkx.multipartite_layout(shape, subset_key=layers, align="vertical")
    # The layout is in [-1, 1], one scale for both axes: one unit is the distance between
    # two layers, and between two nodes of a layer.
    xs = [float(p[0]) for p in positions.values()]
    ys = [float(p[1]) for p in positions.values()]
    unit = (max(xs) - min(xs)) / (len(layers) - 1) if len(layers) > 1 else 1.0
    for key, (x, y) in positions.items():
        node = graph.nodes[key]
        node.x = _MARGIN + (float(x) - min(xs)) / unit * (NODE_WIDTH + _LAYER_GAP)
        node.y = _MARGIN + (float(y) - min(ys)) / unit * (NODE_HEIGHT + _ROW_GAP)
    graph.width = max(node.x for node in graph.nodes.values()) + NODE_WIDTH + _MARGIN
    graph.height = max(node.y for node in graph.nodes.values()) + NODE_HEIGHT + _MARGIN
