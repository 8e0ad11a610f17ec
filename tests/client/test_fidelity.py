"""Every field our client asks for is one the real W&B API answers for the wandb SDK.

The documents the SDK ships (its generated operations, the query strings of its public API,
the GraphQL texts inside ``wandb-core``) and the recorded traces are the reference; a
(type, field) pair that our client selects and none of them does is a guess, and fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from graphql import TypeInfo, TypeInfoVisitor, Visitor, get_named_type, parse, visit
from graphql.error import GraphQLSyntaxError

from dagster_wandb_artifacts.client import queries
from dagster_wandb_artifacts.server.resolvers import load_schema

SHARED = Path(__file__).parents[3] / "shared" / "wandb-protocol"
SCHEMA = load_schema()


def selected_fields(document: str) -> set[tuple[str, str]]:
    """(parent type, field) for every field the document selects that our schema knows."""
    found: set[tuple[str, str]] = set()
    info = TypeInfo(SCHEMA)

    class Collect(Visitor):
        def enter_field(self, node, *_):
            parent = info.get_parent_type()
            if parent is not None and info.get_field_def() is not None:
                found.add((get_named_type(parent).name, node.name.value))

    visit(parse(document), TypeInfoVisitor(info, Collect()))
    return found


def _python_documents(root: Path) -> list[str]:
    documents = []
    for path in root.rglob("*.py"):
        for text in re.findall(r'"""(.*?)"""', path.read_text(errors="ignore"), re.S):
            if not re.search(r"\b(query|mutation|fragment)\b\s*\w*\s*[({]", text):
                continue
            # Undo Python string formatting: {{{x}}} -> {}, {{ -> {, {x} -> nothing.
            text = re.sub(r"\{\{\{[^{}]*\}\}\}", "{}", text)
            text = text.replace("{{", "\x00").replace("}}", "\x01")
            if "\x00" in text:
                text = re.sub(r"(\.\.\.)?\{[^{}]*\}", "", text)  # {fragment}, ...{name}
            documents.append(text.replace("\x00", "{").replace("\x01", "}"))
    return documents


def _core_documents(binary: Path) -> list[str]:
    """The GraphQL texts inside wandb-core, closed where the binary's strings cut them short."""
    lines = subprocess.run(
        ["strings", "-n", "4", str(binary)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    documents = []
    for index, line in enumerate(lines):
        if not re.match(r"^(query|mutation) \w+", line):
            continue
        body = [line]
        for following in lines[index + 1 : index + 200]:
            if not following.startswith("\t"):
                break
            body.append(following)
        text = "\n".join(body)
        text += "}" * (text.count("{") - text.count("}"))
        documents.append(text)
    return documents


def reference_fields() -> set[tuple[str, str]]:
    import wandb

    package = Path(wandb.__file__).parent
    documents = _python_documents(package / "apis") + _python_documents(package / "sdk")
    documents += _core_documents(package / "bin" / "wandb-core")
    for trace in SHARED.glob("trace-*.jsonl"):
        for line in trace.read_text().splitlines():
            record = json.loads(line)
            if record.get("query"):
                documents.append(record["query"])
    fields: set[tuple[str, str]] = set()
    for document in documents:
        try:
            fields |= selected_fields(document)
        except GraphQLSyntaxError:
            continue
    return fields


def test_client_documents_select_only_fields_the_sdk_uses():
    reference = reference_fields()
    ours = {
        name: getattr(queries, name)
        for name in dir(queries)
        if name.isupper() and not name.startswith("_") and isinstance(getattr(queries, name), str)
    }
    assert len(ours) >= 20
    guesses = {
        name: sorted(selected_fields(document) - reference) for name, document in ours.items()
    }
    assert {name: g for name, g in guesses.items() if g} == {}


def test_every_client_document_validates_against_the_server_schema():
    from graphql import validate

    for name in dir(queries):
        document = getattr(queries, name)
        if name.isupper() and not name.startswith("_") and isinstance(document, str):
            assert validate(SCHEMA, parse(document)) == [], name


def test_client_imports_neither_wandb_nor_dagster():
    code = (
        "import sys, dagster_wandb_artifacts.client;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('wandb', 'dagster')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
