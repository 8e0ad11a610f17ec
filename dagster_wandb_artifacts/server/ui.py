"""The web UI: server-rendered pages at W&B's own URL paths, so every link the IO manager
writes into Dagster (``wandb/url``, ``wandb/run_url``) and every URL the ``wandb`` SDK prints
opens a page here.

A browser is asked for basic auth (user ``api``, password the API key), as every other
request. A page shows only what the key's user may use (:meth:`.Viewer.may_use`, the rule
GraphQL enforces): a project it may not use answers 404, as a missing one does, and lists,
lineage and links leave out what it may not use. Templates autoescape every value; links
from data (a Dagster run URL in a run's config) are shown as links only when they are
http(s).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from ..formats.names import REGISTRY_PREFIX
from . import (
    blobs,
    ui_actions,
    ui_charts,
    ui_compare,
    ui_csrf,
    ui_files,
    ui_lineage_fold,
    ui_tables,
    ui_tabs,
)
from .store import NotFound, is_version_alias
from .store import browse as ui_queries
from .store.accounts import Viewer
from .ui_lineage import NODE_HEIGHT, NODE_WIDTH, lineage
from .ui_preview import IMAGE_BYTES, IMAGE_TYPES, preview, previewable

if TYPE_CHECKING:
    from .state import ServerState

T = TypeVar("T", dict, list)
_TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)
_VERSION_TABS = ("overview", "metadata", "usage", "files", "compare")
_RUN_TABS = ("overview", "artifacts", "files", "logs")
_PROJECT_TABS = ("overview", "artifacts", "workspace", "runs", "table")
#: Versions a run page lists of those it logged and of those it used; runs a version page
#: lists of those that used it.
_RUN_ARTIFACTS = 500
#: Metadata keys the IO manager writes, shown in the version's Dagster section.
_DAGSTER_KEYS = ("dagster/asset_key", "dagster/run_id", "dagster/code_version")


def _path(root: str, *segments: Any) -> str:
    """An absolute path of the UI, each segment quoted."""
    return root + "/" + "/".join(quote(str(segment), safe="") for segment in segments)


def _http_link(value: Any) -> str | None:
    """``value`` when it is an http(s) URL, to be shown as a link (never ``javascript:``)."""
    if isinstance(value, str) and urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def _size(n: int | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _pretty(raw: str | None) -> str:
    try:
        return json.dumps(json.loads(raw or "{}"), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return raw or ""


def _stored(raw: str | None, kind: type[T]) -> T:
    """Stored JSON of ``kind`` (a dict, a list); anything else (malformed) reads as empty."""
    try:
        value = json.loads(raw) if raw else kind()
    except ValueError:
        return kind()
    return value if isinstance(value, kind) else kind()


def _config(raw: str | None) -> dict[str, Any]:
    """A run's config as W&B stores it (``{key: {"value": v, "desc": d}}``), unwrapped, less
    the SDK's own ``_wandb`` entry."""
    config = _stored(raw, dict)
    return {
        key: value["value"] if isinstance(value, dict) and "value" in value else value
        for key, value in config.items()
        if key != "_wandb"
    }


_TEMPLATES.env.tests["version_alias"] = is_version_alias
_TEMPLATES.env.filters.update(
    size=_size, json=lambda v: json.dumps(v, indent=2, default=str), label=ui_tabs.label
)
#: The UI's own style sheet and scripts (pan and zoom of the lineage, copy buttons), served
#: by the server itself: the pages load nothing from elsewhere.
_STATIC = Path(__file__).with_name("static")


def _challenge() -> Response:
    return Response(
        "sign in with user 'api' and your API key as password",
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="wandb-artifacts"'},
    )


class _Page:
    """One request's rendering: the store, the URL root, and its template."""

    def __init__(self, state: ServerState, request: Request, viewer: Viewer) -> None:
        self.state = state
        self.viewer = viewer
        self.store = state.store
        self.request = request
        self.params = request.path_params
        self.root = request.scope.get("root_path", "").rstrip("/")

    def path(self, *segments: Any) -> str:
        return _path(self.root, *segments)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        csrf = ui_csrf.token(self.state.api_key, self.request)
        context.update(path=self.path, entity=self.state.entity, csrf=csrf)
        return _TEMPLATES.TemplateResponse(self.request, template, context, status_code=status)

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def page_number(self) -> int:
        return ui_queries.page_number(self.query("page"))

    def may_use(self, entity: str, project: str | None) -> bool:
        return self.viewer.may_use(entity, project, self.state.entity)

    def usable_project(self, entity: str, name: str) -> Any:
        """The project, if the viewer may use it; else NotFound, as if it did not exist."""
        found = self.store.find_project(entity, name) if self.may_use(entity, name) else None
        if found is None:
            raise NotFound(f"no project {entity}/{name}")
        return found

    def project(self) -> Any:
        return self.usable_project(self.params["entity"], self.params["project"])

    def usable_places(self, places: dict[int, ui_queries.Place]) -> dict[int, ui_queries.Place]:
        return {key: p for key, p in places.items() if self.may_use(p.entity, p.project)}

    def collection(self, project: Any, name: str) -> Any:
        found = self.store.find_collection(project["id"], name)
        if found is None:
            raise NotFound(f"no collection {name!r} in {project['name']}")
        return found


# Pages ---------------------------------------------------------------------------------------


def home(page: _Page) -> Response:
    text = (page.query("q") or "").strip()[:200]
    entity = page.params.get("entity")
    return page.render(
        "home.html",
        projects=[
            row
            for row in ui_queries.projects_overview(page.store, entity)
            if page.may_use(row["entity"], row["project"])
        ],
        only_entity=entity,
        query=text,
        hits=ui_queries.search(page.store, text, page.may_use) if text else None,
    )


def project(page: _Page) -> Response:
    row = page.project()
    type_name = page.params.get("type")
    collections = ui_queries.collections_of(
        page.store, row["id"], ui_queries.page_number(page.query("collections")), type_name
    )
    return page.render(
        "project.html",
        project=row,
        owner=page.params["entity"],
        collections=collections,
        only_type=type_name,
        runs=ui_queries.runs_of(page.store, row["id"], page.page_number()),
    )


def collection(page: _Page) -> Response:
    project_row = page.project()
    row = page.collection(project_row, page.params["name"])
    return page.render(
        "collection.html",
        owner=page.params["entity"],
        project=project_row,
        collection=row,
        type_name=page.store.get("artifact_types", row["type_id"])["name"],
        tags=[tag["name"] for tag in page.store.collection_tags(row["id"])],
        versions=ui_queries.versions_of(page.store, row["id"], page.page_number(), page.may_use),
        total=ui_queries.version_count(page.store, row["id"]),
        highlight=None,
    )


def _version(page: _Page) -> dict[str, Any]:
    """What a version URL names, as its pages' header shows it: the project, the collection,
    the version (``artifact``) and its index there."""
    project_row = page.project()
    collection_row = page.collection(project_row, page.params["name"])
    artifact = page.store.resolve_alias(collection_row["id"], page.params["version"])
    if artifact is None:
        raise NotFound(f"no version {page.params['version']!r} of {collection_row['name']}")
    index = page.store.membership(collection_row["id"], artifact["id"])["version_index"]
    return {
        "owner": page.params["entity"],
        "project": project_row,
        "collection": collection_row,
        "type_name": page.params["type"],
        "artifact": artifact,
        "version_name": f"v{index}",
        "version_index": index,
    }


def version(page: _Page) -> Response:
    tab = "files" if "file" in page.params else page.params.get("tab", "overview")
    if tab not in _VERSION_TABS:
        raise NotFound(f"no tab {tab!r}")
    header = _version(page)
    artifact, collection_row = header["artifact"], header["collection"]
    store = page.store
    metadata = _stored(artifact["metadata"], dict)
    producer = ui_queries.run_of(store, artifact["created_by_run_id"])
    if producer is not None and not page.may_use(producer["entity"], producer["project"]):
        producer = None
    if tab == "files" and page.query("raw") is not None:
        return _image(page, _file(page, artifact, page.params.get("file", "")))
    tab_context = {
        "overview": lambda: _overview(page, header, metadata, producer),
        "metadata": lambda: {"tree": ui_tabs.tree(metadata)},
        "usage": lambda: _usage(page, header, metadata),
        "files": lambda: _files(page, header),
        "compare": lambda: _compare(page, header, metadata),
    }[tab]()
    asset_key, run_id = metadata.get("dagster/asset_key"), metadata.get("dagster/run_id")
    recorded_run = (
        _http_link(_config(producer["config"]).get("dagster_run_url")) if producer else None
    )
    dagster_base = ui_tabs.dagster_url(recorded_run)
    return page.render(
        f"version_{tab}.html",
        **header,
        tab=tab,
        aliases=[row["alias"] for row in store.aliases_of(artifact["id"], collection_row["id"])],
        tags=[tag["name"] for tag in store.artifact_tags(artifact["id"])],
        dagster={key: metadata[key] for key in _DAGSTER_KEYS if key in metadata},
        dagster_asset_url=ui_tabs.dagster_asset_url(dagster_base, asset_key)
        if isinstance(asset_key, str)
        else None,
        dagster_run_url=ui_tabs.dagster_run_url(dagster_base, recorded_run, str(run_id or "")),
        version_path=page.path(*_location(header)),
        **tab_context,
    )


def _location(header: dict[str, Any]) -> tuple[Any, ...]:
    location = (header["owner"], header["project"]["name"], "artifacts", header["type_name"])
    return (*location, header["collection"]["name"], header["version_name"])


def _overview(
    page: _Page, header: dict[str, Any], metadata: dict[str, Any], producer: Any
) -> dict[str, Any]:
    store, artifact = page.store, header["artifact"]
    users, users_total = ui_queries.users_of(store, artifact["id"], _RUN_ARTIFACTS, page.may_use)
    home = ui_queries.home_places(store, [artifact["id"]]).get(artifact["id"])
    return {
        "producer": producer,
        "users": ui_queries.run_names(store, [row["id"] for row in users]),
        "users_total": users_total,
        "home": home if home and page.may_use(home.entity, home.project) else None,
        "links": [
            p
            for p in ui_queries.links_of(store, artifact["id"])
            if page.may_use(p.entity, p.project)
        ],
        "registries": [
            row["name"][len(REGISTRY_PREFIX) :]
            for row in ui_queries.registries_of(store, page.state.entity, REGISTRY_PREFIX)
            if page.may_use(page.state.entity, row["name"])
        ],
        "partition": metadata.get("dagster/partition_key"),
    }


def _usage(page: _Page, header: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    asset_key = metadata.get("dagster/asset_key")
    base_url = page.state.public_url or str(page.request.base_url).rstrip("/")
    snippets = ui_tabs.usage(
        base_url,
        header["owner"],
        header["project"]["name"],
        header["collection"]["name"],
        header["version_name"],
        header["type_name"],
        asset_key if isinstance(asset_key, str) else None,
    )
    return {"snippets": snippets}


def _file(page: _Page, artifact: Any, name: str) -> Any:
    entry = ui_queries.file_entry(page.store, artifact["id"], name)
    if entry is None:
        raise NotFound(f"no file {name!r} in this version")
    return entry


def _files(page: _Page, header: dict[str, Any]) -> dict[str, Any]:
    """The Files tab: the tree open down to the folder, and beside it the selected file's
    preview (a table, paged, for the table formats)."""
    artifact = header["artifact"]
    selected = page.params.get("file", "")
    folder = selected if selected.endswith("/") or not selected else posixpath.dirname(selected)
    folder = folder.rstrip("/") + "/" if folder else ""
    shown = None
    if selected and not selected.endswith("/"):
        entry = _file(page, artifact, selected)
        shown = {"entry": entry, "table": None, "preview": None}
        if entry["md5"] and ui_tables.is_table(entry["name"]):
            offset = ui_tables.offset_of(page.query("row"))
            shown["table"] = ui_tables.table_page(
                page.state.blobs, entry["md5"], entry["name"], offset
            )
        else:
            shown["preview"] = preview(
                page.state.blobs, entry["md5"], entry["name"], entry["size"] or 0
            )
    location = _location(header)
    file_name = shown["entry"]["name"] if shown else ""
    above, top = ui_files.tree(page.store, artifact["id"], folder, file_name, page.query("after"))
    return {
        "folder": folder,
        "above": above,
        "tree": top,
        "first_page": page.query("after") is not None,
        "shown": shown,
        "previewable": lambda name: previewable(name) or ui_tables.is_table(name),
        "download": lambda md5: _download_url(page, md5),
        "file_url": lambda name: page.path(*location, "files", *name.split("/")),
    }


def _compare(page: _Page, header: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """The Compare tab: this version against ``?with=`` (a version or alias of the
    collection; by default the one before it)."""
    collection_row, artifact = header["collection"], header["artifact"]
    choices = ui_queries.versions_of(page.store, collection_row["id"], 1, page.may_use).rows
    others = [f"v{row['version_index']}" for row in choices if row["id"] != artifact["id"]]
    index = header["version_index"]
    default = f"v{index - 1}" if index > 0 else (others[0] if others else "v1")
    other_name = page.query("with") or default
    other = page.store.resolve_alias(collection_row["id"], other_name[:128])
    context: dict[str, Any] = {"other_name": other_name, "choices": choices, "comparison": None}
    if other is not None:
        other_metadata = _stored(other["metadata"], dict)
        context["comparison"] = ui_compare.compare(
            page.store, other, artifact, other_metadata, metadata
        )
        membership = page.store.membership(collection_row["id"], other["id"])
        context["other_name"] = f"v{membership['version_index']}"
    return context


def _download_url(page: _Page, md5_hex: str) -> str:
    """The file's signed URL, as the SDK would be given it."""
    object_path = f"/storage/obj/{md5_hex}"
    return f"{page.root}{object_path}?{page.state.signer.sign('GET', object_path)}"


def _image(page: _Page, entry: Any) -> Response:
    """An image file's bytes, with its type, for an inline preview; only image types are served
    so, never SVG or HTML, so that no file of a version can run script in the UI's origin."""
    content_type = IMAGE_TYPES.get(posixpath.splitext(entry["name"])[1].lower())
    key = blobs.object_key(entry["md5"]) if entry["md5"] else None
    if content_type is None or key is None or (entry["size"] or 0) > IMAGE_BYTES:
        raise NotFound("no image to show")
    if not page.state.blobs.exists(key):
        raise NotFound("the image's bytes are missing from the storage")
    with page.state.blobs.open(key) as file:
        body = file.read()
    return Response(body, media_type=content_type, headers={"X-Content-Type-Options": "nosniff"})


def version_lineage(page: _Page) -> Response:
    header = _version(page)
    focus = header["artifact"]["id"]
    expanded = page.query("expand") is not None
    labels = ui_lineage_fold.Labels()
    fold = None if expanded else ui_lineage_fold.folder(page.store, labels)
    graph = lineage(page.store, focus, page.may_use, fold)
    if expanded:
        labels = ui_lineage_fold.label_nodes(page.store, graph)
    places = page.usable_places(ui_queries.home_places(page.store, graph.ids("artifact")))
    # Shown where the page found it when the viewer may not use the place it was logged in.
    places.setdefault(focus, _place_of(header))
    runs = ui_queries.run_names(page.store, graph.ids("run"))
    return page.render(
        "lineage.html",
        **header,
        graph=graph,
        places=places,
        runs=runs,
        node_width=NODE_WIDTH,
        node_height=NODE_HEIGHT,
        labels=labels,
        expanded=expanded,
    )


def _place_of(header: dict[str, Any]) -> ui_queries.Place:
    return ui_queries.Place(
        header["owner"],
        header["project"]["name"],
        header["type_name"],
        header["collection"]["name"],
        header["version_index"],
    )


def run(page: _Page) -> Response:
    tab = page.params.get("tab", "overview")
    if tab not in _RUN_TABS:
        raise NotFound(f"no tab {tab!r}")
    project_row = page.project()
    row = page.store.find_run(project_row["id"], page.params["run"])
    if row is None:
        raise NotFound(f"no run {page.params['run']!r} in {project_row['name']}")
    logged_rows, logged_total = ui_queries.logged_by(
        page.store, row["id"], _RUN_ARTIFACTS, page.may_use
    )
    used_rows, used_total = ui_queries.used_by(page.store, row["id"], _RUN_ARTIFACTS, page.may_use)
    logged, used = [r["id"] for r in logged_rows], [r["id"] for r in used_rows]
    places = ui_queries.home_places(page.store, logged + used)
    config = _config(row["config"])
    return page.render(
        "run.html",
        owner=page.params["entity"],
        project=project_row,
        run=row,
        config=config,
        dagster_run_url=_http_link(config.get("dagster_run_url")),
        summary=ui_charts.summary_rows(row["summary"]),
        charts=ui_charts.charts(page.store, row["id"]),
        tags=_stored(row["tags"], list),
        logged=[places[i] for i in logged if i in places],
        used=[places[i] for i in used if i in places],
        logged_total=logged_total,
        used_total=used_total,
    )


def registries(page: _Page) -> Response:
    org = page.params.get("org", page.state.entity)
    return page.render(
        "registries.html",
        org=org,
        registries=[
            row
            for row in ui_queries.registries_of(page.store, org, REGISTRY_PREFIX)
            if page.may_use(org, row["name"])
        ],
        prefix=REGISTRY_PREFIX,
    )


def registry(page: _Page) -> Response:
    org, name = page.params["org"], page.params["registry"]
    try:
        project_row = page.usable_project(org, REGISTRY_PREFIX + name)
    except NotFound:
        raise NotFound(f"no registry {name!r} in {org}") from None
    selected = None
    selection = (page.query("selectionPath") or "").split("/")
    if len(selection) == 3 and selection[:2] == [org, project_row["name"]]:
        row = page.store.find_collection(project_row["id"], selection[2])
        if row is not None:
            selected = {
                "collection": row,
                "type": page.store.get("artifact_types", row["type_id"])["name"],
                "versions": ui_queries.versions_of(
                    page.store, row["id"], page.page_number(), page.may_use
                ),
                "total": ui_queries.version_count(page.store, row["id"]),
            }
    return page.render(
        "registry.html",
        org=org,
        name=name,
        project=project_row,
        collections=ui_queries.collections_of(
            page.store, project_row["id"], ui_queries.page_number(page.query("collections"))
        ),
        selected=selected,
        highlight=page.query("version"),
    )


# Actions ---------------------------------------------------------------------------------------


def _target(header: dict[str, Any]) -> ui_actions.Target:
    return ui_actions.Target(
        header["owner"],
        header["project"],
        header["collection"],
        header["type_name"],
        header["artifact"],
        header["version_name"],
    )


def version_delete(page: _Page) -> Response:
    """The confirmation of a delete: what goes, and which aliases move or go with it."""
    header = _version(page)
    artifact = header["artifact"]
    aliases = [
        row["alias"]
        for row in page.store.aliases_of(artifact["id"])
        if not is_version_alias(row["alias"])
    ]
    newest = ui_queries.versions_of(page.store, header["collection"]["id"], 1, page.may_use)
    newer = [row for row in newest.rows if row["id"] != artifact["id"]]
    links = [
        p
        for p in ui_queries.links_of(page.store, artifact["id"])
        if page.may_use(p.entity, p.project)
    ]
    return page.render(
        "version_delete.html",
        **header,
        tab="overview",
        doomed_aliases=aliases,
        latest_moves_to=f"v{newer[0]['version_index']}" if newer and "latest" in aliases else None,
        links=links,
        version_path=page.path(*_location(header)),
    )


def act_on_version(page: _Page, fields: dict[str, list[str]]) -> Response:
    action = ui_actions.VERSION_ACTIONS.get(page.params["action"])
    if action is None:
        raise NotFound(f"no action {page.params['action']!r}")
    target = _target(_version(page))
    mutation = action(target, fields, page.state.entity)
    data = ui_actions.execute(page.state, page.request, page.viewer, mutation)
    query = dict(mutation.then_query)
    if "linkArtifact" in data:
        query["version"] = f"v{data['linkArtifact']['versionIndex']}"
    return _see_other(page, mutation.then or target.version_path(), query)


def act_on_collection(page: _Page, fields: dict[str, list[str]]) -> Response:
    action = ui_actions.COLLECTION_ACTIONS.get(page.params["action"])
    if action is None:
        raise NotFound(f"no action {page.params['action']!r}")
    project_row = page.project()
    collection_row = page.collection(project_row, page.params["name"])
    target = ui_actions.Target(
        page.params["entity"], project_row, collection_row, page.params["type"]
    )
    mutation = action(target, fields)
    ui_actions.execute(page.state, page.request, page.viewer, mutation)
    return _see_other(page, target.collection_path(), {})


def _see_other(page: _Page, segments: tuple[str, ...], query: dict[str, str]) -> Response:
    """After a form: the page to show, fetched with GET (a reload never posts again)."""
    url = page.path(*segments) + (f"?{urlencode(query)}" if query else "")
    return RedirectResponse(url, status_code=303)


def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC_FILES:
        return Response("not found", status_code=404)
    body = (_STATIC / name).read_bytes()
    return Response(body, media_type=_STATIC_FILES[name], headers={"Cache-Control": "max-age=3600"})


_STATIC_FILES = {
    "lineage.js": "text/javascript",
    "ui.js": "text/javascript",
    "ui.css": "text/css",
}


# Routes ----------------------------------------------------------------------------------------


def routes(state: ServerState, counted: Callable[[str, Callable], Callable]) -> list[Route]:
    """The UI's routes, after the API's (they match broad paths like ``/{entity}/{project}``)."""

    def respond(request: Request, render: Callable[[_Page], Response]) -> Response:
        viewer = state.viewer(request)
        if viewer is None:
            return _challenge()
        page = _Page(state, request, viewer)
        try:
            return render(page)
        except NotFound as exc:
            return page.render("missing.html", status=404, message=str(exc))
        except ui_actions.ActionRefused as exc:
            return page.render("refused.html", status=exc.status, message=str(exc))

    def endpoint(render: Callable[[_Page], Response]) -> Callable:
        async def handler(request: Request) -> Response:
            return await run_in_threadpool(respond, request, render)

        return counted("page", handler)

    def form_endpoint(act: Callable[[_Page, dict[str, list[str]]], Response]) -> Callable:
        """A form's POST: its CSRF token checked before anything else is done."""

        async def handler(request: Request) -> Response:
            if state.viewer(request) is None:
                return _challenge()
            try:
                fields = await ui_csrf.read_form(request, state.api_key)
            except ui_csrf.FormRefused as exc:
                message = str(exc)
                return await run_in_threadpool(
                    respond, request, lambda page: page.render("refused.html", 403, message=message)
                )
            return await run_in_threadpool(respond, request, lambda page: act(page, fields))

        return counted("action", handler)

    artifact = "/{entity}/{project}/artifacts/{type}/{name}/{version}"
    pages: list[tuple[str, Callable[[_Page], Response]]] = [
        ("/", home),
        ("/registry", registries),
        ("/orgs/{org}/registry", registries),
        ("/orgs/{org}/registry/{registry}", registry),
        ("/{entity}/projects", home),
        ("/{entity}/{project}", project),
        *((f"/{{entity}}/{{project}}/{tab}", project) for tab in _PROJECT_TABS),
        ("/{entity}/{project}/artifacts/{type}", project),
        ("/{entity}/{project}/artifacts/{type}/{name}", collection),
        (artifact, version),
        (f"{artifact}/lineage", version_lineage),
        (f"{artifact}/delete", version_delete),
        (f"{artifact}/files/{{file:path}}", version),
        (f"{artifact}/{{tab}}", version),
        ("/{entity}/{project}/runs/{run}", run),
        ("/{entity}/{project}/runs/{run}/{tab}", run),
    ]
    forms = [
        (f"{artifact}/actions/{{action}}", act_on_version),
        ("/{entity}/{project}/artifacts/{type}/{name}/actions/{action}", act_on_collection),
    ]
    return [
        Route("/static/ui/{name}", static, methods=["GET"]),
        *(Route(path, form_endpoint(act), methods=["POST"]) for path, act in forms),
        *(Route(path, endpoint(render), methods=["GET"]) for path, render in pages),
    ]
