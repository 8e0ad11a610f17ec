"""The version page's tabs (Metadata tree, Usage snippets, Compare), tables as paged tables
with types, lineage labels and folding, links to Dagster and human labels for enums."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from dagster_wandb_artifacts.client import Artifact

pytestmark = pytest.mark.usefixtures("wandb_home")

BASE = "/ent/proj/artifacts/dataset/frames"
#: A registry of "Organization" visibility, as W&B stores it.
PRIVATE = {"access": "PRIVATE"}


def get(server, path: str, status: int = 200) -> str:
    reply = requests.get(f"{server.base_url}{path}", auth=("api", server.api_key), timeout=30)
    assert reply.status_code == status, (path, reply.status_code, reply.text[:500])
    return reply.text


@pytest.fixture
def frames(api, tmp_path: Path) -> None:
    """Two versions of ``frames``: tables of every kind in v0; v1 changes, adds and removes
    files and metadata."""
    import pyarrow
    import pyarrow.feather
    import pyarrow.parquet

    run = api.create_run(job_type="prepare")
    first = Artifact(
        "frames",
        "dataset",
        metadata={
            "rows": 120,
            "nested": {"source": "s3", "ratio": 0.5, "ok": True, "tags": ["a", "b"]},
            "long": "x" * 500,
            "dagster/asset_key": "sensors/frames",
            "dagster/run_id": "abc-123",
        },
    )
    table = pyarrow.table({"n": list(range(120)), "name": [f"row {i}" for i in range(120)]})
    pyarrow.parquet.write_table(table, tmp_path / "big.parquet", row_group_size=25)
    first.add_file(str(tmp_path / "big.parquet"), name="big.parquet")
    pyarrow.feather.write_feather(table, tmp_path / "t.arrow")
    first.add_file(str(tmp_path / "t.arrow"), name="t.arrow")
    wandb_table = {
        "_type": "table",
        "columns": ["id", "label"],
        "data": [[i, f"<b>{i}</b>"] for i in range(60)],
        "column_types": {
            "params": {
                "type_map": {
                    "id": {"wb_type": "number"},
                    "label": {
                        "wb_type": "union",
                        "params": {"allowed_types": [{"wb_type": "none"}, {"wb_type": "string"}]},
                    },
                }
            },
            "wb_type": "typedDict",
        },
    }
    with first.new_file("preds.table.json") as file:
        file.write(json.dumps(wandb_table))
    with first.new_file("rows.tsv") as file:
        file.write("a\tb\n" + "".join(f"{i}\t{i / 2}\n" for i in range(70)))
    with first.new_file("gone.txt") as file:
        file.write("removed in v1")
    with first.new_file("same.txt") as file:
        file.write("unchanged")
    run.log_artifact(first)
    second = Artifact("frames", "dataset", metadata={"rows": 130, "nested": {"source": "gcs"}})
    with second.new_file("same.txt") as file:
        file.write("unchanged")
    with second.new_file("preds.table.json") as file:
        file.write(json.dumps({**wandb_table, "data": wandb_table["data"][:5]}))
    with second.new_file("new.txt") as file:
        file.write("added in v1")
    run.log_artifact(second)
    run.finish()


def test_metadata_is_a_typed_tree_with_long_values_folded(server, frames):
    page = get(server, f"{BASE}/v0/metadata")
    assert '<span class="key">nested</span> <span class="type">object (4)</span>' in page
    assert '<span class="key">ratio</span> <span class="type">number</span>' in page
    assert '<span class="key">ok</span> <span class="type">boolean</span>' in page
    assert '<span class="key">tags</span> <span class="type">array (2)</span>' in page
    assert '<details class="long"><summary><span class="key">long</span>' in page
    assert "string, 500 characters" in page


def test_usage_gives_snippets_for_each_way_to_read_the_version(server, frames):
    page = get(server, f"{BASE}/v0/usage")
    assert "run.use_artifact(&#39;ent/proj/frames:v0&#39;, type=&#39;dataset&#39;)" in page
    assert "from dagster_wandb_artifacts.client import Api" in page
    assert "AssetKey([&#39;sensors&#39;, &#39;frames&#39;])" in page
    assert "wandb-artifact://ent/proj/frames:v0" in page
    assert page.count('class="copy"') == 4 and "/static/ui/ui.js" in page
    assert 'src="http' not in page and 'href="http' not in page.split("<main")[0]  # no CDN
    script = requests.get(f"{server.base_url}/static/ui/ui.js", timeout=30)
    assert script.status_code == 200 and "clipboard" in script.text
    assert requests.get(f"{server.base_url}/static/ui/nope.js", timeout=30).status_code == 404


def test_compare_shows_files_by_digest_metadata_and_size(server, frames):
    page = get(server, f"{BASE}/v1/compare")  # against v0 by default
    assert "v0 &rarr; v1" in page
    assert "1 added" in page and "4 removed" in page and "1 changed" in page
    assert "1 unchanged" in page
    assert "<td>new.txt</td>" in page and "<td>gone.txt</td>" in page
    assert "<td>preds.table.json</td>" in page and "same.txt" not in page
    assert "<code>nested.source</code>" in page and "&#34;gcs&#34;" in page
    assert "<code>long</code></td><td>removed</td>" in page
    assert "&minus;" in page  # smaller
    assert "v1 &rarr; v0" in get(server, f"{BASE}/v0/compare?with=latest")
    assert "v1 &rarr; v0" in get(server, f"{BASE}/v0/compare")  # v0 has none before it
    assert "No version v9" in get(server, f"{BASE}/v0/compare?with=v9")


def test_compare_lists_the_first_files_of_each_kind_and_counts_the_rest(
    server, frames, monkeypatch
):
    from dagster_wandb_artifacts.server import ui_compare

    monkeypatch.setattr(ui_compare, "FILES_SHOWN", 2)
    page = get(server, f"{BASE}/v1/compare?with=v0")
    assert "4 removed" in page and "(the first 2 of 4)" in page
    removed = page.split('<table class="files-removed">')[1].split("</table>")[0]
    assert "<td>big.parquet</td>" in removed and "<td>gone.txt</td>" in removed
    assert "rows.tsv" not in removed and "t.arrow" not in removed  # after the first 2 by name
    back = get(server, f"{BASE}/v0/compare?with=v1")  # the other way round
    assert "1 removed" in back and "<td>new.txt</td>" in back and "4 added" in back
    assert "1 changed" in back and "1 unchanged" in back


def test_tables_are_paged_with_their_column_types(server, frames):
    files = f"{BASE}/v0/files"
    parquet = get(server, f"{files}/big.parquet?row=100")
    assert "rows 101&ndash;120 of 120" in parquet and "<td>row 119</td>" in parquet
    assert '<th>n<div class="type">int64</div></th>' in parquet and "<td>row 99</td>" not in parquet
    middle = get(server, f"{files}/big.parquet?row=50")  # spans row groups of 25
    assert "<td>row 50</td>" in middle and "<td>row 99</td>" in middle
    assert "<td>row 100</td>" not in middle and 'href="' in middle and "?row=100" in middle
    arrow = get(server, f"{files}/t.arrow?row=50")
    assert "<td>row 50</td>" in arrow and '<div class="type">string</div>' in arrow
    wandb_table = get(server, f"{files}/preds.table.json")
    assert '<th>label<div class="type">none | string</div></th>' in wandb_table
    assert "<td>&lt;b&gt;3&lt;/b&gt;</td>" in wandb_table and "of 60" in wandb_table
    tsv = get(server, f"{files}/rows.tsv?row=50")
    assert '<th>b<div class="type">float</div></th>' in tsv and "<td>69</td>" in tsv
    assert 'class="files-layout"' in tsv  # the tree beside the preview


def test_dagster_links_where_the_url_is_known(server, frames, monkeypatch):
    page = get(server, f"{BASE}/v0")
    assert "<code>sensors/frames</code>" in page and "<code>abc-123</code>" in page
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", "http://dagster.example:3000/")
    page = get(server, f"{BASE}/v0")
    assert 'href="http://dagster.example:3000/assets/sensors/frames"' in page
    assert 'href="http://dagster.example:3000/runs/abc-123"' in page
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", "javascript:alert(1)")
    assert "javascript:" not in get(server, f"{BASE}/v0")


def test_lineage_labels_partitions_and_folds_repeated_runs(server, api):
    source_run = api.create_run(job_type="ingest")
    source = Artifact("raw", "dataset")
    with source.new_file("a.txt") as file:
        file.write("raw")
    raw = source_run.log_artifact(source)
    source_run.finish()
    for partition, repeats in (("2024-05-01", 3), ("2024-05-02", 1)):
        for attempt in range(repeats):
            run = api.create_run(job_type="daily")
            run.use_artifact(raw)
            out = Artifact("daily", "dataset", metadata={"dagster/partition_key": partition})
            with out.new_file("d.txt") as file:
                file.write(f"{partition} {attempt}")
            run.log_artifact(out)
            run.finish()
    folded = get(server, "/ent/proj/artifacts/dataset/raw/v0/lineage")
    assert folded.count('class="node run folded"') == 1 and ">3 runs · 2024-05-01" in folded
    assert "partition 2024-05-02" in folded and "partition 2024-05-01 · ×3" in folded
    expanded = get(server, "/ent/proj/artifacts/dataset/raw/v0/lineage?expand=1")
    assert expanded.count('class="node run"') == 1 + 4 and "folded" not in expanded.split("<svg")[1]


def test_enums_have_human_labels(server, api):
    from tests.support import graphql

    run = api.create_run(job_type="x")
    artifact = Artifact("m", "model")
    with artifact.new_file("w.txt") as file:
        file.write("w")
    run.log_artifact(artifact).link("wandb-registry-model/m")
    run.finish()
    graphql(
        server,
        "mutation($input: UpsertModelInput!) { upsertModel(input: $input) { model { id } } }",
        {"input": {"entityName": server.entity, "name": "wandb-registry-model", **PRIVATE}},
    )
    registries = get(server, "/registry")
    assert '<td class="visibility">Organization</td>' in registries and "PRIVATE" not in registries
    assert "Finished" in get(server, f"/ent/proj/runs/{run.id}")


def test_files_are_a_tree_open_down_to_the_current_path(server, api):
    from dagster_wandb_artifacts.server.ui_files import LEVELS

    run = api.create_run(job_type="prepare")
    artifact = Artifact("nest", "dataset")
    deep = "a/b/c/d/e/f/g/h/i/j/deep.txt"
    names = [deep, "top.txt", "z/inner.txt", *(f"many/f-{i:03d}.txt" for i in range(60))]
    for name in names:
        with artifact.new_file(name) as file:
            file.write(name)
    run.log_artifact(artifact)
    run.finish()
    files = "/ent/proj/artifacts/dataset/nest/v0/files"

    page = get(server, f"{files}/a/b/")
    assert page.count("<details open>") == 2  # a/ and a/b/, one inside the other
    assert page.index(f'href="{files}/a/"') < page.index(f'href="{files}/a/b/"')
    assert f'<li class="folder"><a href="{files}/z/">z/</a>' in page  # closed: a link
    assert f'<li class="folder"><a href="{files}/a/b/c/">c/</a>' in page
    assert "inner.txt" not in page and "f-000.txt" not in page  # closed folders stay unread
    assert "top.txt" in page and "1 file</span>" in page and "60 files</span>" in page

    page = get(server, f"{files}/{deep}")  # 10 folders deep: the top ones as a breadcrumb
    assert page.count("<details open>") == LEVELS - 1
    assert f'<p class="crumbs"><a href="{files}/">Files</a>' in page
    assert f'<a href="{files}/a/b/">a/b/</a> &rsaquo;</p>' in page and "top.txt" not in page
    assert f'<li class="file highlight"><a href="{files}/{deep}">deep.txt</a>' in page
    assert '<pre class="preview">' + deep in page  # the preview beside the tree

    page = get(server, f"{files}/many/f-055.txt")  # past the folder's first page of 50
    assert "f-049.txt" in page and "f-050.txt" not in page and "f-054.txt" not in page
    assert '<li class="gap muted">' in page and 'class="file highlight"' in page
    assert page.index('class="gap') < page.index("f-055.txt</a>")
    assert f'href="{files}/many/?after=many/f-049.txt" rel="next"' in page
    page = get(server, f"{files}/many/?after=many/f-049.txt")
    assert "f-050.txt" in page and "f-059.txt" in page and "f-049.txt" not in page
    assert f'<a href="{files}/many/">&larr; first page</a>' in page and "top.txt" in page
