"""Run history on the embedded server: what the SDK's own ``wandb.init`` / ``run.log`` /
``run.finish`` send through the file stream, read back by the SDK's public API and by ours;
resent chunks, bad chunks, and other users."""

from __future__ import annotations

import json
import math

import pytest
import requests

from dagster_wandb_artifacts.client import InvalidInputError, NotFoundError
from tests.client.test_faults import proxied  # noqa: F401 - the fixture
from tests.server.test_users import add_user, client, post
from tests.support import ENTITY, PROJECT, graphql, sdk_api, sdk_run

pytestmark = pytest.mark.usefixtures("wandb_home")

HISTORY = """query($e: String!, $p: String!, $r: String!) { project(entityName: $e, name: $p) {
  run(name: $r) { historyLineCount historyKeys history(samples: 100) } } }"""


def stream(server, key: str, path: str, body: dict) -> requests.Response:
    return requests.post(
        f"{server.base_url}/files/{path}/file_stream", json=body, auth=("api", key), timeout=30
    )


def test_the_sdks_own_run_is_read_back_by_both_clients(server, api):
    run = sdk_run(server, id="sdk-run", config={"lr": 0.01})
    for step in range(30):
        run.log({"loss": 1 / (step + 1), "acc": step / 30, "phase": "train"})
    run.log({"val/loss": math.nan})
    run.summary["best_acc"] = 0.99
    run.finish()

    theirs = sdk_api(server).run(f"{ENTITY}/{PROJECT}/sdk-run")
    ours = api.run(f"{ENTITY}/{PROJECT}/sdk-run")
    for side in (theirs, ours):
        rows = side.history(pandas=False)
        assert [row["_step"] for row in rows] == list(range(31))
        assert [row.get("loss") for row in rows[:30]] == [1 / (s + 1) for s in range(30)]
        assert math.isnan(rows[30]["val/loss"])
        sampled = side.history(keys=["acc"], samples=10, pandas=False)
        assert len(sampled) == 10 and all(set(row) == {"_step", "acc"} for row in sampled)
        assert [row["acc"] for row in side.scan_history(keys=["acc"], page_size=7)] == [
            s / 30 for s in range(30)
        ]
        assert len(list(side.scan_history(page_size=4))) == 31
        assert side.summary["best_acc"] == 0.99 and side.summary["loss"] == 1 / 30
        assert side.lastHistoryStep == 30
    assert ours.history(pandas=True)["acc"].iloc[-2] == 29 / 30

    keys = graphql(server, HISTORY, {"e": ENTITY, "p": PROJECT, "r": "sdk-run"})["project"]["run"]
    assert keys["historyLineCount"] == 31
    assert keys["historyKeys"]["lastStep"] == 30
    assert keys["historyKeys"]["keys"]["loss"]["typeCounts"] == [{"type": "number", "count": 30}]
    assert keys["historyKeys"]["keys"]["phase"]["typeCounts"] == [{"type": "string", "count": 30}]

    # The SDK resumes where the history ends, and our client logs after it.
    again = sdk_run(server, id="sdk-run", resume="must")
    again.log({"loss": 0.001})
    again.finish()
    resumed = api.run(f"{ENTITY}/{PROJECT}/sdk-run")
    resumed.log({"loss": 0.0001})
    resumed.finish()
    final = api.run(f"{ENTITY}/{PROJECT}/sdk-run")
    steps = [(row["_step"], row["loss"]) for row in final.scan_history(keys=["loss"])]
    assert steps[-2:] == [(31, 0.001), (32, 0.0001)]


def _log_calls(run) -> None:
    run.log({"a": 1})
    run.log({"b": 2}, commit=False)
    run.log({"c": 3})  # the same row as b
    run.log({"d": 4}, step=10)
    run.log({"e": 5}, step=10)  # still step 10, not committed yet
    run.log({"f": 6}, step=3)  # lower than the current step: ignored
    run.log({"g": 7})  # joins step 10's row, which it commits
    run.log({"h": 8})


def _rows(run) -> list[dict]:
    return [
        {k: v for k, v in row.items() if not k.startswith("_") or k == "_step"}
        for row in run.scan_history()
    ]


def test_our_run_logs_the_steps_wandb_log_gives(server, api):
    ours = api.create_run(run_id="ours", config={"lr": 0.1})
    _log_calls(ours)
    ours.summary["best"] = 1  # saved with the next send
    ours.config.update({"epochs": 3})
    ours.finish()
    referee = sdk_run(server, id="referee")
    _log_calls(referee)
    referee.finish()

    sdk = sdk_api(server)
    theirs = sdk.run(f"{ENTITY}/{PROJECT}/ours")
    assert _rows(theirs) == _rows(sdk.run(f"{ENTITY}/{PROJECT}/referee"))
    assert [row["_step"] for row in _rows(theirs)] == [0, 1, 10, 11]
    assert theirs.summary["h"] == 8 and theirs.summary["best"] == 1
    assert theirs.config == {"lr": 0.1, "epochs": 3}
    assert theirs.state == "finished"

    with pytest.raises(InvalidInputError):
        api.run(f"{ENTITY}/{PROJECT}/ours").log(["not", "a", "dict"])  # type: ignore[arg-type]


def test_public_run_summary_is_the_sdks_http_summary(server, api):
    """``Api().run(...).summary``: item and attribute access; ``update`` saves, as the SDK."""
    api.create_run(run_id="summarized").finish()
    sides = {"ours": api, "sdk": sdk_api(server)}
    for name, side in sides.items():
        summary = side.run(f"{ENTITY}/{PROJECT}/summarized").summary
        summary.update({f"{name}_score": 1.5, "shared": name})
        summary["unsaved"] = 1  # item assignment alone changes the object, as the SDK's
        assert summary[f"{name}_score"] == 1.5
        assert getattr(summary, f"{name}_score") == 1.5
        assert "shared" in summary and summary.get("missing", "dflt") == "dflt"
        with pytest.raises(KeyError):
            summary["missing"]
    for side in sides.values():
        saved = dict(side.run(f"{ENTITY}/{PROJECT}/summarized").summary.items())
        # Each side saved its whole summary: the SDK's update (second) holds ours too.
        assert saved["sdk_score"] == 1.5 and saved["shared"] == "sdk"


def test_a_resent_chunk_writes_nothing_twice_and_a_bad_chunk_writes_nothing(server, api):
    api.create_run(run_id="resent")
    path = f"{ENTITY}/{PROJECT}/resent"
    lines = [json.dumps({"_step": i, "x": i}) for i in range(3)]
    chunk = {"files": {"wandb-history.jsonl": {"offset": 0, "content": lines}}}
    for _ in range(2):
        assert stream(server, server.api_key, path, chunk).status_code == 200
    assert [row["x"] for row in api.run(path).scan_history()] == [0, 1, 2]

    for bad in (
        {"offset": 3, "content": ["[1, 2]"]},
        {"offset": 3, "content": ['{"x": 1}', "not json"]},
        {"offset": -1, "content": ['{"x": 1}']},
        {"offset": 3, "content": ['{"_step": -4}']},
    ):
        refused = stream(server, server.api_key, path, {"files": {"wandb-history.jsonl": bad}})
        assert refused.status_code == 400, bad
    assert api.run(path).lastHistoryStep == 2
    assert len(list(api.run(path).scan_history())) == 3

    sampled = """query($s: [JSONString!]!) { project(entityName: "ent", name: "proj") {
      run(name: "resent") { sampledHistory(specs: $s) } } }"""
    reply = post(server, server.api_key, sampled, {"s": ['{"keys": "loss"}']})
    assert "keys" in reply["errors"][0]["message"]
    flood = json.dumps({"keys": [f"k{i}" for i in range(5000)]})
    reply = post(server, server.api_key, sampled, {"s": [flood]})
    assert "at most 100 keys" in reply["errors"][0]["message"]
    reply = post(server, server.api_key, sampled, {"s": ['{"keys": ["x"]}'] * 50})
    assert "at most 20" in reply["errors"][0]["message"]


def test_another_user_can_neither_read_nor_write_the_history(server):
    alice_key, bob_key = add_user(server, "alice@example.com"), add_user(server, "bob@example.com")
    alice = client(server, alice_key, "private")
    run = alice.create_run(run_id="secret")
    run.log({"loss": 0.5})
    run.finish()
    path = "alice/private/secret"

    chunk = {"files": {"wandb-history.jsonl": {"offset": 1, "content": ['{"loss": 9}']}}}
    assert stream(server, bob_key, path, chunk).status_code in (401, 403)
    assert requests.post(
        f"{server.base_url}/files/{path}/file_stream", json=chunk, timeout=30
    ).status_code == 401
    read = post(server, bob_key, HISTORY, {"e": "alice", "p": "private", "r": "secret"})
    # Answered as a missing project is: nothing tells it exists.
    missing = post(server, bob_key, HISTORY, {"e": "alice", "p": "nothing", "r": "secret"})
    assert read == missing == {"data": {"project": None}}
    with pytest.raises(NotFoundError):
        client(server, bob_key, "alice/private").run(path)
    assert [row["loss"] for row in alice.run(path).scan_history()] == [0.5]


def test_rows_sent_through_faults_are_recorded_once_each(server, proxied):  # noqa: F811
    """Lost replies, cut requests, 503s and 429s: each chunk is sent again at its offset, so
    the server ends with every row once, in order."""
    proxy, faulty = proxied
    run = faulty.create_run(run_id="faulty")
    for step in range(300):
        run.log({"x": step})
        if step % 25 == 24:
            run.flush()  # one request a batch, so that many meet a fault
    run.finish()
    assert sum(proxy.faults.values()) >= 3, proxy.faults
    rows = server_rows(server, "faulty")
    assert [row["x"] for row in rows] == list(range(300))
    assert [row["_step"] for row in rows] == list(range(300))


def server_rows(server, run_id: str) -> list[dict]:
    """The run's rows as the server holds them, read without the proxy."""
    reply = graphql(
        server,
        "query($r: String!) { project(entityName: \"ent\", name: \"proj\") { run(name: $r) { "
        "history(samples: 10000) } } }",
        {"r": run_id},
    )
    return [json.loads(line) for line in reply["project"]["run"]["history"]]


def test_the_run_page_escapes_the_keys_a_writer_chose(server, api):
    run = api.create_run(run_id="hostile")
    hostile = '<img src=x onerror="alert(1)">'
    for step in range(3):
        run.log({hostile: step, "ok": step})
    run.summary.update({"<script>alert(2)</script>": 1})
    run.finish()
    page = requests.get(
        f"{server.base_url}/ent/proj/runs/hostile", auth=("api", server.api_key), timeout=30
    )
    assert page.status_code == 200
    assert "<img src=x" not in page.text and "<script>alert" not in page.text
    assert page.text.count("<svg") == 2 and "&lt;img src=x" in page.text
