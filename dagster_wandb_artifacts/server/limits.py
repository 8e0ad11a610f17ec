"""What one request may cost the server: body sizes, GraphQL query tokens, depth, aliases
and estimated cost, and time.

A query text is bounded before it is parsed: :func:`check_tokens` lexes it once, stopping at
the first bound passed (tokens, then aliases and depth as written), so a megabyte of aliases
costs a few hundred tokens of work, not a parse and a validation.

A query's shape (depth, aliases, fields once fragments are expanded, and the page sizes that
multiply each field) is measured once per query text, when it is parsed; its estimated cost,
the number of fields it can resolve (each field counted once per node of every page around
it), needs the request's variables (``first: $perPage``) and is summed per request from the
shape. Over a limit, the request is refused before any resolver runs, naming the limit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    parse,
)
from graphql.language import Lexer, Source, TokenKind

from .resolvers.common import DEFAULT_PAGE, MAX_PAGE


def _limit(default: float, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Limits:
    """The bounds of one request; every one can be raised or lowered per server (with
    :func:`limits_from` from ``name=value`` settings, as the command line's ``--limit``)."""

    graphql_body_bytes: int = _limit(
        16 << 20, "bytes of a /graphql request body (the SDK sends file lists well below)"
    )
    metadata_bytes: int = _limit(1 << 20, "bytes of one version's metadata JSON")
    manifest_bytes: int = _limit(1 << 30, "bytes of one uploaded manifest (~150 per file)")
    file_stream_bytes: int = _limit(16 << 20, "bytes of a file_stream body")
    max_tokens: int = _limit(
        20_000, "lexical tokens of one query text (the SDK's largest have about 2,000)"
    )
    max_depth: int = _limit(20, "nested selections of one query")
    max_aliases: int = _limit(100, "aliased fields of one query")
    max_fields: int = _limit(
        5_000, "fields of one query once its fragments are expanded (each spread counts)"
    )
    max_cost: int = _limit(
        2_000_000,
        "fields one query may resolve, each counted once per node of every page around it "
        "(first, else the default page of 100)",
    )
    query_seconds: float = _limit(60.0, "seconds of resolver work one query may take")


def limits_from(settings: Mapping[str, object]) -> Limits:
    """:class:`Limits` with ``settings`` (``name: value``; a value may be a string, as on the
    command line) over the defaults; raises ValueError naming a bad name or value."""
    known = {limit.name: limit for limit in fields(Limits)}
    values: dict[str, int | float] = {}
    for name, value in settings.items():
        if name not in known:
            raise ValueError(f"unknown limit {name!r}; the limits are: {', '.join(known)}")
        integer = known[name].type in (int, "int")
        number = _number(value, integer)
        if number is None or not 0 < number < math.inf:
            raise ValueError(
                f"limit {name} must be a positive {'integer' if integer else 'number'}, "
                f"not {value!r}"
            )
        values[name] = number
    return Limits(**values)


def _number(value: object, integer: bool) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if integer and isinstance(value, float):
        return int(value) if value.is_integer() else None
    try:
        return int(value) if integer else float(value)
    except ValueError:
        return None


class LimitExceeded(Exception):
    """A request over one of its :class:`Limits`; the message names the limit."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


#: A page size: a literal ``first``, a variable's name, or None (the default page).
_Factor = int | str | None


@dataclass(frozen=True)
class Shape:
    """What a query text asks for, before its variables are known."""

    depth: int
    aliases: int
    fields: int
    #: (page sizes around a field, number of such fields)
    terms: tuple[tuple[tuple[_Factor, ...], int], ...]

    def cost(self, variables: dict[str, Any]) -> int:
        total = 0
        for factors, count in self.terms:
            total += count * math.prod(_page_size(factor, variables) for factor in factors)
        return total


def _page_size(factor: _Factor, variables: dict[str, Any]) -> int:
    value = variables.get(factor) if isinstance(factor, str) else factor
    if not isinstance(value, int) or isinstance(value, bool):
        return DEFAULT_PAGE
    return max(0, min(value, MAX_PAGE))


def paged_fields(schema: GraphQLSchema) -> frozenset[str]:
    """Names of the fields that return a page (they take a ``first`` argument)."""
    return frozenset(
        name
        for type_ in schema.type_map.values()
        for name, definition in (getattr(type_, "fields", None) or {}).items()
        if "first" in (getattr(definition, "args", None) or {})
    )


class _Walk:
    def __init__(self, document: DocumentNode, paged: frozenset[str], limits: Limits) -> None:
        self.fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        self.paged = paged
        self.limits = limits
        self.depth = self.aliases = self.fields = 0
        self.terms: Counter[tuple[_Factor, ...]] = Counter()

    def selections(self, node: SelectionSetNode | None, factors: tuple, depth: int) -> None:
        if node is None:
            return
        self.depth = max(self.depth, depth)
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, factors, depth)
            elif isinstance(selection, InlineFragmentNode):
                self.selections(selection.selection_set, factors, depth)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    self.selections(fragment.selection_set, factors, depth)

    def field(self, node: FieldNode, factors: tuple, depth: int) -> None:
        self.fields += 1
        self.aliases += node.alias is not None
        if self.aliases > self.limits.max_aliases:
            raise _too_many_aliases(self.limits)
        if self.fields > self.limits.max_fields:
            raise LimitExceeded(
                f"the query has more than {self.limits.max_fields} fields once its fragments "
                "are expanded (limit max_fields)"
            )
        self.terms[factors] += 1
        if node.name.value in self.paged:
            factors = (*factors, _first(node))
        self.selections(node.selection_set, factors, depth + 1)


def _first(node: FieldNode) -> _Factor:
    for argument in node.arguments:
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                return value.name.value
    return None


def _too_many_aliases(limits: Limits) -> LimitExceeded:
    return LimitExceeded(
        f"the query has more than {limits.max_aliases} aliases (limit max_aliases)"
    )


def _too_deep(depth: int | str, limits: Limits) -> LimitExceeded:
    return LimitExceeded(
        f"the query nests {depth} levels deep; at most {limits.max_depth} (limit max_depth)"
    )


def check_tokens(query: str, limits: Limits) -> None:
    """Bound a query text before it is parsed, in one lexer pass that stops at the first
    bound passed: at most ``max_tokens`` tokens, ``max_aliases`` aliases and ``max_depth``
    nested selection sets as written. Fragments are not expanded here (:func:`shape_of`
    counts them once parsed), so a valid query's written counts are at most its expanded
    ones: nothing the full check accepts is refused here. Raises :class:`LimitExceeded`, or
    graphql-core's syntax error for a text that does not lex."""
    lexer = Lexer(Source(query))
    tokens = aliases = depth = parentheses = 0
    previous = TokenKind.SOF
    while (kind := lexer.advance().kind) is not TokenKind.EOF:
        tokens += 1
        if tokens > limits.max_tokens:
            raise LimitExceeded(
                f"the query has more than {limits.max_tokens} tokens (limit max_tokens)"
            )
        if kind is TokenKind.PAREN_L:
            parentheses += 1
        elif kind is TokenKind.PAREN_R:
            parentheses -= 1
        elif parentheses:
            pass  # arguments and variables: their braces are values, their colons no aliases
        elif kind is TokenKind.BRACE_L:
            depth += 1
            if depth > limits.max_depth:
                raise _too_deep(f"more than {limits.max_depth}", limits)
        elif kind is TokenKind.BRACE_R:
            depth -= 1
        elif kind is TokenKind.COLON and previous is TokenKind.NAME:
            aliases += 1
            if aliases > limits.max_aliases:
                raise _too_many_aliases(limits)
        previous = kind


def parse_bounded(query: str, limits: Limits) -> DocumentNode:
    """The parsed query, once :func:`check_tokens` let it through; raises
    :class:`LimitExceeded` or graphql-core's ``GraphQLError``."""
    check_tokens(query, limits)
    return parse(query, max_tokens=limits.max_tokens)


def shape_of(document: DocumentNode, paged: frozenset[str], limits: Limits) -> Shape:
    """The query's shape; raises :class:`LimitExceeded` when it is over a limit that does
    not depend on its variables."""
    walk = _Walk(document, paged, limits)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk.selections(definition.selection_set, (), 1)
    if walk.depth > limits.max_depth:
        raise _too_deep(walk.depth, limits)
    return Shape(walk.depth, walk.aliases, walk.fields, tuple(walk.terms.items()))


def check_cost(shape: Shape, variables: dict[str, Any], limits: Limits) -> None:
    cost = shape.cost(variables)
    if cost > limits.max_cost:
        raise LimitExceeded(
            f"the query could resolve {cost} fields (each counted once per node of the pages "
            f"around it); at most {limits.max_cost} (limit max_cost): ask for smaller pages "
            "(first) or fewer nested lists"
        )
