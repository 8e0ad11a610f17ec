"""The lineage graph of a version, laid out in layers for a server-side SVG.

From the version, upstream: the run that logged it, the versions that run used, the runs
that logged those, ...; downstream: the runs that used it, what they logged, ... up to
``DEPTH`` steps each way, each node's neighbours capped at ``FAN_OUT`` (the rest counted).
Only runs and versions of projects the viewer may use are followed or counted (a version by
the project it was logged into).
Layers are the signed distance from the version; within a layer nodes are ordered by the
mean position of their neighbours nearer the version (the barycenter heuristic, which keeps
edges from crossing), and networkx's ``multipartite_layout`` places them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .store import Store
from .store.browse import Usable, lineage_neighbours

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


def lineage(
    store: Store, artifact_id: int, usable: Usable, fold: Callable[[Graph], None] | None = None
) -> Graph:
    """The graph around a version, laid out (after ``fold`` merged what it merges)."""
    graph = Graph()
    focus = ("artifact", artifact_id)
    graph.nodes[focus] = Node("artifact", artifact_id, 0)
    for upstream in (True, False):
        step = -1 if upstream else 1
        frontier = [focus]
        for distance in range(1, DEPTH + 1):
            reached = []
            for key in frontier:
                found, total = lineage_neighbours(store, key, upstream, usable, FAN_OUT)
                graph.nodes[key].hidden_neighbours += total - len(found)
                for neighbour in found:
                    graph.edges.add((neighbour, key) if upstream else (key, neighbour))
                    if neighbour not in graph.nodes:
                        graph.nodes[neighbour] = Node(*neighbour, layer=step * distance)
                        reached.append(neighbour)
            frontier = reached
    if fold is not None:
        fold(graph)
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
