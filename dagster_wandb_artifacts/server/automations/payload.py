"""W&B's webhook payload templates: ``${variable}`` placeholders in a JSON document.

A string value that is exactly one placeholder becomes the variable's JSON value (so
``"${artifact_version}"`` is an object); a placeholder inside a longer string is replaced by
the variable's text. A template that is not JSON is a form (``a=${x}&b=${y}``): each value
is percent-encoded, so a value (an artifact's metadata) cannot add fields of its own.
Secrets (``${NAME}`` of a team secret the integration may read, and ``${ACCESS_TOKEN}``) are
filled in the body that is sent and masked in the body that is logged.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")
_WHOLE = re.compile(r"^\$\{([A-Za-z_][\w.]*)\}$")
MASK = "***"


def _lookup(variables: dict[str, Any], name: str) -> Any:
    """A variable's value; ``artifact_metadata.<key>`` reaches into the metadata."""
    if name in variables:
        return variables[name]
    head, _, key = name.partition(".")
    container = variables.get(head)
    if key and isinstance(container, dict) and key in container:
        return container[key]
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _fill(node: Any, variables: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, variables) for value in node]
    if isinstance(node, str):
        whole = _WHOLE.match(node)
        if whole:
            return _lookup(variables, whole.group(1))
        return _PLACEHOLDER.sub(lambda m: _as_text(_lookup(variables, m.group(1))), node)
    return node


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def content_type(template: str | None) -> str:
    """How a template's body is sent: JSON, or a form when the template is not JSON."""
    if not template:
        return JSON
    try:
        json.loads(template)
    except ValueError:
        return FORM
    return JSON


def render(template: str | None, variables: dict[str, Any]) -> str:
    """The request body for ``template`` (the whole event when there is none)."""
    if not template:
        return json.dumps(variables)
    if content_type(template) == FORM:
        return _PLACEHOLDER.sub(
            lambda m: quote(_as_text(_lookup(variables, m.group(1))), safe=""), template
        )
    return json.dumps(_fill(json.loads(template), variables))


def render_both(
    template: str | None, variables: dict[str, Any], secrets: dict[str, str]
) -> tuple[str, str]:
    """The body to send (secrets filled in) and the body to log (secrets masked)."""
    sent = render(template, {**variables, **secrets})
    logged = render(template, {**variables, **{name: MASK for name in secrets}})
    return sent, logged
