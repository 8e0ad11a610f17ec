"""Sweeps, reports, custom charts, run queues and jobs: the SDK's calls succeed against the
embedded server on simple cases; launching from a queue is refused with a clear error."""

from __future__ import annotations

import pytest
import requests

from tests.support import ENTITY, PROJECT, graphql, sdk_api

pytestmark = pytest.mark.usefixtures("wandb_home")

UPSERT_VIEW = """mutation($input: UpsertViewInput!) {
  upsertView(input: $input) { view { id name } inserted } }"""


def test_sdk_sweeps_reports_charts_queues_and_jobs(server, monkeypatch):
    import wandb

    monkeypatch.setenv("WANDB_BASE_URL", server.base_url)
    monkeypatch.setenv("WANDB_API_KEY", server.api_key)
    config = {"method": "random", "parameters": {"lr": {"values": [0.1, 0.01]}}}
    sweep_id = wandb.sweep(config, entity=ENTITY, project=PROJECT)
    api = sdk_api(server)
    sweep = api.sweep(f"{ENTITY}/{PROJECT}/{sweep_id}")
    assert sweep.id == sweep_id
    assert sweep.config["parameters"] == config["parameters"]
    assert [s.id for s in api.project(PROJECT, entity=ENTITY).sweeps()] == [sweep_id]

    view = {"entityName": ENTITY, "projectName": PROJECT, "name": "weekly"}
    view.update({"displayName": "Weekly", "description": "loss", "type": "runs", "spec": "{}"})
    assert graphql(server, UPSERT_VIEW, {"input": view})["upsertView"]["inserted"]
    [report] = list(api.reports(f"{ENTITY}/{PROJECT}"))
    assert (report.display_name, report.description) == ("Weekly", "loss")

    chart = api.create_custom_chart(
        entity=ENTITY,
        name="bars",
        display_name="Bars",
        spec_type="vega2",
        access="private",
        spec={"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "bar"},
    )
    assert chart == f"{ENTITY}/bars"

    queue = api.create_run_queue("gpu", "local-process", entity=ENTITY)
    assert queue.type == "local-process"
    assert queue.default_resource_config == {"resource_args": {"local-process": {}}}
    fetched = api.run_queue(ENTITY, "gpu")
    assert fetched.id == queue.id and fetched.items == []
    api.upsert_run_queue(
        "cpu", {"resource_args": {"local-process": {}}}, "local-process", entity=ENTITY
    )
    assert api.run_queue(ENTITY, "cpu").type == "local-process"
    refused = requests.post(
        f"{server.base_url}/graphql",
        json={
            "query": 'mutation($q: ID!) { pushToRunQueue(input: {queueID: $q, runSpec: "{}"})'
            " { runQueueItemId } }",
            "variables": {"q": queue.id},
        },
        auth=("api", server.api_key),
        timeout=30,
    ).json()
    assert "Launch is not supported" in refused["errors"][0]["message"]

    assert api.list_jobs(ENTITY, PROJECT) == []
    api.flush()


def test_client_sweeps_reports_charts_queues_and_jobs(server, api, monkeypatch):
    import wandb

    from dagster_wandb_artifacts.client import NotFoundError

    monkeypatch.setenv("WANDB_BASE_URL", server.base_url)
    monkeypatch.setenv("WANDB_API_KEY", server.api_key)
    sweep_id = wandb.sweep(
        {"method": "grid", "parameters": {"x": {"values": [1]}}}, entity=ENTITY, project=PROJECT
    )
    sweep = api.sweep(f"{ENTITY}/{PROJECT}/{sweep_id}")
    assert (sweep.method, sweep.config["parameters"]) == ("grid", {"x": {"values": [1]}})
    assert api.sweep(sweep_id).path == [ENTITY, PROJECT, sweep_id]
    with pytest.raises(NotFoundError):
        api.sweep(f"{ENTITY}/{PROJECT}/missing")

    view = {"entityName": ENTITY, "projectName": PROJECT, "name": "r1", "spec": '{"blocks": []}'}
    graphql(server, UPSERT_VIEW, {"input": {**view, "displayName": "First", "type": "runs"}})
    [report] = api.reports(PROJECT)
    assert (report.display_name, report.spec) == ("First", {"blocks": []})
    assert api.reports(PROJECT, name="other") == []

    assert (
        api.create_custom_chart(ENTITY, "line", "Line", "vega2", "private", {}) == f"{ENTITY}/line"
    )

    queue = api.create_run_queue("q", "kubernetes", config={"namespace": "ml"})
    assert (queue.type, queue.items) == ("kubernetes", [])
    assert queue.default_resource_config == {"resource_args": {"kubernetes": {"namespace": "ml"}}}
    assert api.run_queue(ENTITY, "q").id == queue.id
    again = api.upsert_run_queue("q", {"resource_args": {"kubernetes": {}}}, "kubernetes")
    assert again.id == queue.id and again.default_resource_config["resource_args"] == {
        "kubernetes": {}
    }
    # Nothing is ever enqueued here: an item is made for any id, and found missing when used.
    queued = api.queued_run(ENTITY, PROJECT, "q", "nope")
    assert (repr(queued), queued.project, queued.project_queue) == (
        "<QueuedRun q (nope)>",
        PROJECT,
        None,
    )
    for wait in (lambda: queued.state, queued.wait_until_running, queued.wait_until_finished):
        with pytest.raises(ValueError, match="nope"):
            wait()
    with pytest.raises(NotFoundError):
        queued.delete()

    # Jobs are artifacts of type "job", which only W&B Launch may log.
    assert api.list_jobs(ENTITY, PROJECT) == []
    with pytest.raises(NotFoundError):
        api.job(f"{ENTITY}/{PROJECT}/train-job:latest")
    api.flush()
    assert (api.default_entity, api.path_entity) == (server.entity, ENTITY)
    with pytest.raises(NotImplementedError, match="wandb sync"):
        api.sync_tensorboard("runs/")
