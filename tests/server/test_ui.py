"""The web UI: every page at its W&B path, behind the key, escaping what writers control, and
paged in SQL for big collections and versions."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from dagster_wandb_artifacts.client import Artifact
from dagster_wandb_artifacts.server import ui_lineage
from dagster_wandb_artifacts.server.store import Store
from dagster_wandb_artifacts.server.store import browse as ui_queries
from tests.support import seed_big_collection


def everything(entity: str, project: str | None) -> bool:
    """The administrator's view: every project."""
    return True


XSS = "<script>alert('x')</script>"
IMG = "<img src=x onerror=alert(1)>"


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def logged(api, tmp_path: Path) -> dict:
    """A small project: a dataset of every previewable kind with folders and a reference,
    logged by one run and used by a second that logs a model, linked into a registry."""
    import pyarrow
    import pyarrow.parquet

    producer = api.create_run(
        job_type="prepare",
        display_name=XSS,
        config={"dagster_run_url": "javascript:alert(1)", "lr": 0.1},
    )
    dataset = Artifact(
        "table",
        "dataset",
        description=f"described {XSS}",
        metadata={"note": XSS, "dagster/asset_key": "warehouse/table", "dagster/run_id": "r-1"},
    )
    with dataset.new_file(f"{IMG}.txt") as file:
        file.write(XSS)
    with dataset.new_file("notes.txt") as file:
        file.write("hello from a text file\n")
    with dataset.new_file("data/values.json") as file:
        file.write(json.dumps({"answer": 42}))
    with dataset.new_file("data/rows.csv") as file:
        file.write("city,count\nLyon,3\nOslo,5\n")
    with dataset.new_file("img/dot.png", mode="wb") as file:
        file.write(tiny_png())
    parquet_path = tmp_path / "frame.parquet"
    pyarrow.parquet.write_table(pyarrow.table({"k": ["alpha", "beta"], "v": [1, 2]}), parquet_path)
    dataset.add_file(str(parquet_path), name="data/frame.parquet")
    referenced = tmp_path / "outside.txt"
    referenced.write_text("tracked, not uploaded")
    dataset.add_reference(referenced.as_uri(), name="ref/outside.txt")
    version = producer.log_artifact(dataset, aliases=["gold"], tags=["nightly"])
    producer.finish()

    consumer = api.create_run(
        job_type="train",
        config={"dagster_run_url": "http://dagster.example/runs/abc", "dagster_run_id": "abc"},
    )
    consumer.use_artifact(version)
    model = Artifact("model", "model")
    with model.new_file("weights.txt") as file:
        file.write("0.5")
    model_version = consumer.log_artifact(model)
    consumer.finish()
    model_version.link("wandb-registry-models/best-model", aliases=["prod"])
    return {"producer": producer, "consumer": consumer}


TABS = ("metadata", "usage", "files/", "compare?with=v0", "delete")


def get(server, path: str, status: int = 200) -> str:
    reply = requests.get(f"{server.base_url}{path}", auth=("api", server.api_key), timeout=30)
    assert reply.status_code == status, (path, reply.status_code, reply.text[:500])
    return reply.text


def test_every_page_answers_at_wandb_paths_and_links_onward(server, logged):
    producer, consumer = logged["producer"], logged["consumer"]
    home = get(server, "/")
    assert 'href="/ent/proj"' in home and '<td class="num">2</td>' in home  # 2 runs

    assert 'href="/ent/proj"' in get(server, "/ent/projects")
    project = get(server, "/ent/proj")
    assert 'href="/ent/proj/artifacts/dataset/table"' in project
    assert 'href="/ent/proj/artifacts/dataset/table/v0"' in project  # latest
    assert '<span class="alias">gold</span>' in project
    assert f'href="/ent/proj/runs/{producer.id}"' in project
    for tab in ("overview", "artifacts", "runs"):
        assert "table" in get(server, f"/ent/proj/{tab}")
    only_models = get(server, "/ent/proj/artifacts/model")
    assert "artifacts/model/model" in only_models and "artifacts/dataset/table" not in only_models

    collection = get(server, "/ent/proj/artifacts/dataset/table")
    assert 'href="/ent/proj/artifacts/dataset/table/v0"' in collection
    assert '<span class="tag">nightly</span>' in collection

    version = get(server, "/ent/proj/artifacts/dataset/table/latest")
    assert "table:v0" in version and "warehouse/table" in version
    assert f'href="/ent/proj/runs/{producer.id}"' in version  # logged by
    assert f'href="/ent/proj/runs/{consumer.id}"' in version  # used by
    assert "7 files" in version and 'data-tab="overview" class="on"' in version
    files = get(server, "/ent/proj/artifacts/dataset/table/v0/files/")
    assert 'href="/ent/proj/artifacts/dataset/table/v0/files/data/"' in files
    assert 'href="/ent/proj/artifacts/dataset/table/v0/files/notes.txt"' in files
    assert 'data-tab="files" class="on"' in files
    assert "file://" in get(server, "/ent/proj/artifacts/dataset/table/v0/files/ref/")  # its URI
    for tab in ("metadata", "files", "usage", "compare"):
        shown = get(server, f"/ent/proj/artifacts/dataset/table/v0/{tab}")
        assert "table:v0" in shown and f'data-tab="{tab}" class="on"' in shown, tab
    model = get(server, "/ent/proj/artifacts/model/model/v0")
    assert 'href="/ent/models' not in model
    org = server.entity  # registries belong to the organization's entity
    assert f"/{org}/wandb-registry-models/artifacts/model/best-model/v0" in model  # linked to

    lineage = get(server, "/ent/proj/artifacts/dataset/table/v0/lineage")
    assert "<svg" in lineage
    assert f'href="/ent/proj/runs/{producer.id}"' in lineage
    assert f'href="/ent/proj/runs/{consumer.id}"' in lineage
    assert 'href="/ent/proj/artifacts/model/model/v0/lineage"' in lineage

    run = get(server, f"/ent/proj/runs/{consumer.id}")
    assert "train" in run and "Finished" in run
    assert 'href="http://dagster.example/runs/abc"' in run
    assert 'href="/ent/proj/artifacts/dataset/table/v0"' in run  # used
    assert 'href="/ent/proj/artifacts/model/model/v0"' in run  # logged
    assert "train" in get(server, f"/ent/proj/runs/{consumer.id}/overview")

    registries = get(server, "/registry")
    assert f'href="/orgs/{org}/registry/models"' in registries
    assert "models" in get(server, f"/orgs/{org}/registry")
    registry = get(server, f"/orgs/{org}/registry/models")
    assert "best-model" in registry
    selected = get(
        server,
        f"/orgs/{org}/registry/models?selectionPath={org}%2Fwandb-registry-models%2Fbest-model"
        "&view=membership&version=v0",
    )
    assert 'class="highlight"' in selected and '<span class="alias">prod</span>' in selected

    search = get(server, "/?q=gol")
    assert 'href="/ent/proj/artifacts/dataset/table"' in search
    assert 'href="/ent/proj/artifacts/model/model"' in get(server, "/?q=mod")
    assert 'href="/ent/proj/artifacts/dataset/table"' in get(server, "/?q=nightl")
    assert "No match" in get(server, "/?q=%25")  # a literal %, not a wildcard


def test_missing_things_are_404_pages(server, logged):
    for path in (
        "/ent/nope",
        "/ent/proj/artifacts/dataset/nope",
        "/ent/proj/artifacts/dataset/table/v9",
        "/ent/proj/artifacts/dataset/table/v0/files/nope.txt",
        "/ent/proj/artifacts/dataset/table/v0/bogus",
        "/ent/proj/runs/nope",
        f"/orgs/{server.entity}/registry/nope",
    ):
        assert "Not found" in get(server, path, status=404)


def test_pages_ask_for_the_key(server, logged):
    for path in ("/", "/ent/proj", "/ent/proj/artifacts/dataset/table/v0/lineage"):
        reply = requests.get(f"{server.base_url}{path}", timeout=30)
        assert reply.status_code == 401 and "Basic" in reply.headers["WWW-Authenticate"]
        wrong = requests.get(f"{server.base_url}{path}", auth=("api", "wrong"), timeout=30)
        assert wrong.status_code == 401


def test_previews_and_downloads(server, logged):
    base = "/ent/proj/artifacts/dataset/table/v0/files"
    text = get(server, f"{base}/notes.txt")
    assert '<pre class="preview">hello from a text file' in text
    assert "&#34;answer&#34;: 42" in get(server, f"{base}/data/values.json")
    csv_page = get(server, f"{base}/data/rows.csv")
    assert '<th>city<div class="type">string</div></th>' in csv_page
    assert '<th>count<div class="type">int</div></th>' in csv_page and "<td>Oslo</td>" in csv_page
    parquet = get(server, f"{base}/data/frame.parquet")
    assert '<th>k<div class="type">string</div></th>' in parquet and "<td>beta</td>" in parquet
    assert '<th>v<div class="type">int64</div></th>' in parquet and "rows 1&ndash;2 of 2" in parquet
    image = get(server, f"{base}/img/dot.png")
    assert f'src="{base}/img/dot.png?raw=1"' in image
    raw = requests.get(
        f"{server.base_url}{base}/img/dot.png?raw=1", auth=("api", server.api_key), timeout=30
    )
    assert raw.headers["content-type"] == "image/png" and raw.content == tiny_png()
    assert get(server, f"{base}/notes.txt?raw=1", status=404)  # only images are served raw
    reference = get(server, f"{base}/ref/outside.txt")
    assert "a reference" in reference

    folder = get(server, f"{base}/data/")  # open in the tree, among the root's entries
    opened = folder.split("<details open>")[1].split("</details>")[0]
    assert "rows.csv" in opened and "notes.txt" not in opened and "notes.txt" in folder
    links = [part.split('"')[0] for part in opened.split('href="')[1:] if "/storage/obj/" in part]
    assert len(links) == 3  # values.json, rows.csv, frame.parquet
    body = requests.get(f"{server.base_url}{links[0].replace('&amp;', '&')}", timeout=30)
    assert body.status_code == 200  # the signed URL needs no key


def test_values_writers_control_are_escaped(server, logged):
    producer = logged["producer"]
    pages = [
        get(server, "/ent/proj/artifacts/dataset/table/v0"),
        get(server, "/ent/proj/artifacts/dataset/table/v0/lineage"),
        get(server, f"/ent/proj/runs/{producer.id}"),
        get(server, "/ent/proj"),
    ]
    pages.append(get(server, f"/ent/proj/artifacts/dataset/table/v0/files/{quote(IMG)}.txt"))
    tabs = [get(server, f"/ent/proj/artifacts/dataset/table/v0/{tab}") for tab in TABS]
    for page in pages + tabs:
        assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in pages[0] and "&lt;script&gt;" in pages[2]
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in pages[4]
    assert "&lt;script&gt;alert" in pages[4]  # the file's own text, previewed
    # A config URL that is not http(s) is shown, never linked.
    assert 'href="javascript:' not in pages[2]


def test_big_collections_and_versions_page_in_sql(server):
    """10,000 versions in a collection, 100,000 files in a version: a page costs one page."""
    store: Store = server._state.store
    seed_big_collection(store, versions=10_000, files=100_000, consumers=20)
    sequence = store.find_collection(store.find_project("ent", "big")["id"], "many")
    newest = get(server, "/ent/big/artifacts/dataset/many")
    assert ">v9999</a>" in newest and ">v9950</a>" in newest and ">v9949</a>" not in newest
    second = get(server, "/ent/big/artifacts/dataset/many?page=2")
    assert ">v9949</a>" in second and ">v9950</a>" not in second
    assert "1000 files" not in get(server, "/ent/big/artifacts/dataset/many/latest")  # overview
    root = get(server, "/ent/big/artifacts/dataset/many/latest/files/")
    assert "shard-000/" in root and "1000 files" in root and "shard-049/" in root
    assert "shard-050/" not in root and "?after=shard-049/" in root
    assert "shard-050/" in get(
        server, "/ent/big/artifacts/dataset/many/latest/files/?after=shard-049/"
    )
    folder = "/ent/big/artifacts/dataset/many/latest/files/shard-007/"
    listing = get(server, folder)
    for _ in range(2):  # to the third page, by its "next" links
        listing = get(
            server, folder + re.search(r'href="[^"?]*(\?after=[^"]+)" rel="next"', listing)[1]
        )
    assert "part-010707.bin" in listing and "part-009907.bin" not in listing  # 101st to 150th
    assert "(the first 500 of 10000)" in get(server, "/ent/big/runs/producer")
    project = store.find_project("ent", "big")
    for index in range(120):
        store.ensure_sequence(
            project["id"], store.find_type(project["id"], "dataset"), f"x{index:03d}"
        )
    collections = get(server, "/ent/big")
    assert ">many</a>" in collections and ">x047</a>" in collections  # 50 a page, by name
    assert ">x048</a>" not in collections
    assert 'href="/ent/big/artifacts?collections=2"' in collections
    last = get(server, "/ent/big/artifacts?collections=3")
    assert ">x098</a>" in last and ">x119</a>" in last and ">x097</a>" not in last
    expanded = get(server, "/ent/big/artifacts/dataset/many/latest/lineage?expand=1")
    assert expanded.count('class="node run"') == 1 + 8 and "+12 more" in expanded  # fan-out 8
    # Folded: the 8 runs of one job that used it are one node, and so are their outputs.
    lineage = get(server, "/ent/big/artifacts/dataset/many/latest/lineage")
    assert lineage.count('class="node run"') == 1 and "+12 more" in lineage
    assert lineage.count('class="node run folded"') == 1 and ">8 runs" in lineage
    assert lineage.count('class="node artifact folded"') == 1 and "×8" in lineage
    assert 'href="?expand=1"' in lineage and "/static/ui/lineage.js" in lineage
    graph = ui_lineage.lineage(
        store, store.resolve_alias(sequence["id"], "latest")["id"], everything
    )
    places = [(node.x, node.y) for node in graph.nodes.values()]
    assert len(set(places)) == len(places) == 1 + 1 + 8 + 8  # producer, users, their outputs
    by_layer = sorted(graph.nodes.values(), key=lambda node: node.layer)
    assert [node.x for node in by_layer] == sorted(node.x for node in by_layer)  # left to right
    assert all(node.x + ui_lineage.NODE_WIDTH <= graph.width for node in by_layer)
    page = ui_queries.versions_of(store, sequence["id"], 200, everything)
    assert [row["version_index"] for row in page.rows][:1] == [10_000 - 199 * 50 - 1]


def test_the_urls_the_wandb_sdk_makes_open_pages(server, logged):
    import wandb

    from tests.support import sdk_api

    run_id = logged["consumer"].id
    settings = wandb.Settings(
        base_url=server.base_url,
        api_key=server.api_key,
        entity="ent",
        project="proj",
        run_id=run_id,
    )
    sdk = sdk_api(server)
    urls = [
        settings.project_url,  # "View project at ..."
        settings.run_url,  # "View run at ..."
        sdk.project("proj", "ent").url,
        sdk.run(f"ent/proj/{run_id}").url,
        sdk.artifact("ent/proj/table:v0").url,
        sdk.artifact(f"{server.entity}/wandb-registry-models/best-model:v0").url,
    ]
    for url in urls:
        assert url.startswith(server.base_url), url
        reply = requests.get(url, auth=("api", server.api_key), timeout=30)
        assert reply.status_code == 200 and "Not found" not in reply.text, url
    assert "/orgs/" in urls[-1] and 'class="highlight"' in reply.text
