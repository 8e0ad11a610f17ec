"""Small HTML pages at W&B's UI paths, so links written into Dagster metadata open.

``/{entity}/{project}/artifacts/{type}/{name}/{version}`` and
``/{entity}/{project}/runs/{run}``; a browser is asked for basic auth (user ``api``,
password the API key), as every other request.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

if TYPE_CHECKING:
    from .app import ServerState

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 12px;text-align:left}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""
_MAX_FILES = 1000


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body))


def _challenge() -> Response:
    return Response(
        "sign in with user 'api' and your API key as password",
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="wandb-artifacts"'},
    )


def artifact_page(state: ServerState, request: Request) -> Response:
    if not state.authenticated(request):
        return _challenge()
    p = request.path_params
    store = state.store
    project = store.find_project(p["entity"], p["project"])
    collection = project and store.find_collection(project["id"], p["name"])
    artifact = collection and store.resolve_alias(collection["id"], p["version"])
    if not artifact:
        return _page("Not found", "<p>No such artifact version.</p>")
    aliases = ", ".join(row["alias"] for row in store.aliases_of(artifact["id"], collection["id"]))
    files = store.all(
        "SELECT name, size, md5, ref FROM artifact_files WHERE artifact_id = ? ORDER BY id LIMIT ?",
        (artifact["id"], _MAX_FILES),
    )
    summary = [
        ("digest", artifact["digest"]),
        ("aliases", aliases),
        ("size", artifact["size"]),
        ("files", artifact["file_count"]),
        ("created", artifact["created_at"]),
        ("description", artifact["description"] or ""),
        ("metadata", json.dumps(json.loads(artifact["metadata"] or "{}"), indent=1)),
    ]
    body = (
        _table(summary, ("", ""))
        + "<h2>Files</h2>"
        + _table(
            [(f["name"], f["size"], f["ref"] or f["md5"]) for f in files],
            ("path", "size", "md5 / ref"),
        )
    )
    return _page(f"{p['entity']}/{p['project']}/{p['name']}:{p['version']} ({p['type']})", body)


def run_page(state: ServerState, request: Request) -> Response:
    if not state.authenticated(request):
        return _challenge()
    p = request.path_params
    project = state.store.find_project(p["entity"], p["project"])
    run = project and state.store.find_run(project["id"], p["run"])
    if not run:
        return _page("Not found", "<p>No such run.</p>")
    rows = [
        (column, run[column] if run[column] is not None else "")
        for column in ("state", "group_name", "job_type", "config", "summary", "created_at")
    ]
    return _page(f"run {p['entity']}/{p['project']}/{p['run']}", _table(rows, ("", "")))
