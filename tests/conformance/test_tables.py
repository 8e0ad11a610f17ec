"""W&B Tables and media through ``Artifact.add``/``get``: what our client writes the SDK reads,
and what the SDK writes our client reads, on one server."""

from __future__ import annotations

import datetime
import subprocess
import sys
import textwrap

import pandas
import pytest

from dagster_wandb_artifacts.client.media import Table
from tests.conformance.harness import Pair
from tests.support import ENTITY

PROJECT = "conf-tables"
FRAME = pandas.DataFrame(
    {
        "id": [1, 2, 3],
        "score": [0.5, None, 2.25],
        "label": ["cat", "dog", None],
        "ok": [True, False, True],
        "at": pandas.to_datetime(
            ["2024-01-01T00:00:00", "2024-01-02T12:30:00", "2024-03-01T00:00:00"]
        ),
    }
)


@pytest.fixture(scope="module")
def logged(pair: Pair, conformance_server) -> dict:
    """``ours:v0`` written by our client (a DataFrame and a Table of rows), ``sdk:v0`` by a
    ``wandb`` run (a ``wandb.Table`` and a ``wandb.Html``)."""
    import wandb

    from tests.support import sdk_run

    run = pair.ours.api.create_run(project=PROJECT)
    draft = pair.ours.Artifact("ours", "dataset")
    draft.add(FRAME, "frame")
    draft.add(Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]]), "nested/rows")
    run.log_artifact(draft)
    run.finish()

    sdk = sdk_run(conformance_server, project=PROJECT)
    theirs = wandb.Artifact("sdk", "dataset")
    theirs.add(wandb.Table(dataframe=FRAME), "frame")
    theirs.add(wandb.Html("<p>a page</p>"), "page")
    sdk.log_artifact(theirs)
    sdk.finish()
    return {"server": conformance_server}


def _frame_rows(frame: pandas.DataFrame) -> list[list]:
    """Rows with missing values as None and timestamps as naive UTC, for comparison."""
    rows = []
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for value in row:
            if value is None or (isinstance(value, float) and value != value):
                cells.append(None)
            elif isinstance(value, datetime.datetime):
                stamp = pandas.Timestamp(value)
                cells.append((stamp.tz_convert(None) if stamp.tzinfo else stamp).isoformat())
            else:
                cells.append(value.item() if hasattr(value, "item") else value)
        rows.append(cells)
    return rows


@pytest.mark.conformance("Artifact.get", "Artifact.add")
def test_the_sdk_reads_the_table_our_client_wrote(pair: Pair, logged: dict):
    table = pair.sdk.api.artifact(f"{ENTITY}/{PROJECT}/ours:v0").get("frame")
    assert type(table).__name__ == "Table"
    assert table.columns == list(FRAME.columns)
    assert _frame_rows(table.get_dataframe()) == _frame_rows(FRAME)
    rows = pair.sdk.api.artifact(f"{ENTITY}/{PROJECT}/ours:v0").get("nested/rows")
    assert rows.data == [[1, "x"], [2, "y"]]


@pytest.mark.conformance("Artifact.get")
def test_our_client_reads_the_table_the_sdk_wrote(pair: Pair, logged: dict):
    version = pair.ours.api.artifact(f"{ENTITY}/{PROJECT}/sdk:v0")
    frame = version.get("frame")
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(FRAME.columns)
    assert _frame_rows(frame) == _frame_rows(FRAME)
    assert _frame_rows(version["frame"]) == _frame_rows(FRAME)
    # What is not there is None, as the SDK answers.
    assert (
        pair.check(lambda side: side.api.artifact(f"{ENTITY}/{PROJECT}/sdk:v0").get("nope"))[1]
        is None
    )


@pytest.mark.conformance("Artifact.get")
def test_both_read_our_table_alike(pair: Pair, logged: dict):
    def read(side):
        found = side.api.artifact(f"{ENTITY}/{PROJECT}/ours:v0").get("frame")
        return _frame_rows(found.get_dataframe() if side.is_sdk else found)

    pair.check(read)


@pytest.mark.conformance("Artifact.add")
def test_wandb_media_are_stored_as_the_sdk_stores_them(pair: Pair):
    """A ``wandb.Html`` and a ``wandb.Table`` added through our client give the same files as
    through the SDK."""
    import wandb

    def files(side):
        draft = side.Artifact("media", "dataset")
        draft.add(wandb.Html("<p>a page</p>"), "page")
        draft.add(wandb.Table(columns=["n"], data=[[1], [2]]), "numbers")
        return sorted((path, entry.digest) for path, entry in draft.manifest.entries.items())

    pair.check(files)


def test_our_client_reads_sdk_media_with_wandb(pair: Pair, logged: dict):
    page = pair.ours.api.artifact(f"{ENTITY}/{PROJECT}/sdk:v0").get("page")
    assert type(page).__name__ == "Html" and "a page" in page.html


def test_tables_need_no_wandb(logged: dict):
    """Writing and reading a table never imports ``wandb``."""
    script = textwrap.dedent(
        """
        import sys
        import pandas
        from dagster_wandb_artifacts.client import Api, Artifact
        url, key = sys.argv[1:]
        api = Api({"base_url": url, "entity": "ent", "project": "conf-tables"}, api_key=key)
        run = api.create_run()
        draft = Artifact("no-wandb", "dataset")
        draft.add(pandas.DataFrame({"x": [1, 2]}), "t")
        run.log_artifact(draft)
        run.finish()
        print(api.artifact("no-wandb:latest").get("t")["x"].tolist(), "wandb" in sys.modules)
        """
    )
    server = logged["server"]
    done = subprocess.run(
        [sys.executable, "-c", script, server.base_url, server.api_key],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["[1,", "2]", "False"]


def test_add_refuses_what_is_not_media(pair: Pair):
    def add(side):
        side.Artifact("x", "dataset").add({"a": 1}, "nope")

    pair.check(add)


def test_the_media_log_types_we_know_are_the_sdks():
    """The entry names our media serializers write without importing ``wandb``."""
    from wandb import data_types

    from dagster_wandb_artifacts.client.media import MEDIA_LOG_TYPES

    sdk = {kind: getattr(data_types, kind)._log_type for kind in MEDIA_LOG_TYPES}
    assert sdk == MEDIA_LOG_TYPES


@pytest.mark.conformance("Artifact.get")
def test_get_takes_a_media_entry_path_as_well_as_its_name(pair: Pair, logged: dict):
    def read(side):
        logged_page = side.api.artifact(f"{ENTITY}/{PROJECT}/sdk:v0")
        by_path = logged_page.get("page.html-file.json")
        return type(by_path).__name__, by_path.html == logged_page.get("page").html

    pair.check(read)


def test_media_json_cannot_name_a_file_outside_its_version(tmp_path):
    """The paths a stored media JSON names come from its writer: they stay in the folder."""
    from dagster_wandb_artifacts.client.media import read_folder_object

    (tmp_path / "secret.html").write_text("<p>secret</p>")
    version = tmp_path / "version"
    version.mkdir()
    (version / "page.html-file.json").write_text(
        '{"_type": "html-file", "path": "../secret.html", "sha256": "x", "size": 1}'
    )
    with pytest.raises(KeyError, match="no file '../secret.html'"):
        read_folder_object(version, "page.html-file.json")
