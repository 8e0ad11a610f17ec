"""Outside artifacts: users and teams, sweeps, reports, custom charts, run queues, jobs and
automations, as the SDK has them: the same calls through ``wandb`` and through our client."""

from __future__ import annotations

import importlib

import pytest

from tests.conformance.harness import Pair, known_different
from tests.server.test_automations import CREATE_HOOK
from tests.server.test_workspace import UPSERT_VIEW
from tests.support import ENTITY, graphql

PROJECT = "conf-workspace"

#: Where each side keeps its automation classes.
AUTOMATIONS = {"sdk": "wandb.automations", "ours": "dagster_wandb_artifacts.client.automations"}


@pytest.mark.conformance("Api.create_user", "Api.user", "Api.users", "Api.create_team", "Api.team")
def test_users_and_teams(pair: Pair):
    def user(side):
        made = side.api.create_user(f"{side.name}-person@example.com")
        found = side.api.user(f"{side.name}-person@example.com")
        return [type(made).__name__, found.username == made.username, found.email]

    pair.check(lambda side: user(side)[:2])
    pair.check(lambda side: len(side.api.users(f"{side.name}-person")))
    pair.check(lambda side: side.api.user("nobody-at-all@example.com"))

    def team(side):
        made = side.api.create_team(f"team-{side.name}")
        found = side.api.team(f"team-{side.name}")
        return [type(made).__name__, found.name == made.name]

    pair.check(team)


@pytest.mark.conformance("Api.team")
def test_a_missing_team(pair: Pair):
    def missing(side):
        found = side.api.team("no-such-team")
        return [type(found).__name__, found.name, found.members, repr(found)]

    pair.check(missing)
    pair.check(lambda side: side.api.team("no-such-team").invite("nobody@example.com"))


@pytest.mark.conformance("Api.sweep", "Api.reports", "Api.create_custom_chart")
def test_sweeps_reports_and_charts(pair: Pair, conformance_server, monkeypatch):
    import wandb

    monkeypatch.setenv("WANDB_BASE_URL", conformance_server.base_url)
    monkeypatch.setenv("WANDB_API_KEY", conformance_server.api_key)
    config = {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}
    sweep_id = wandb.sweep(config, entity=ENTITY, project=PROJECT)
    path = f"{ENTITY}/{PROJECT}/{sweep_id}"
    pair.check(lambda side: [side.api.sweep(path).id, side.api.sweep(path).config["parameters"]])
    pair.check(lambda side: side.api.sweep(f"{ENTITY}/{PROJECT}/no-such-sweep"))

    view = {"entityName": ENTITY, "projectName": PROJECT, "name": "weekly", "spec": "{}"}
    graphql(conformance_server, UPSERT_VIEW, {"input": {**view, "displayName": "Weekly"}})
    pair.check(
        lambda side: [(r.display_name, r.name) for r in side.api.reports(f"{ENTITY}/{PROJECT}")]
    )
    pair.check(lambda side: list(side.api.reports(f"{ENTITY}/{PROJECT}", name="other")))
    pair.check(
        lambda side: side.api.create_custom_chart(
            ENTITY, f"bars-{side.name}", "Bars", "vega2", "private", {"mark": "bar"}
        ).replace(side.name, "")
    )


@pytest.mark.conformance(
    "Api.create_run_queue",
    "Api.run_queue",
    "Api.upsert_run_queue",
    "Api.queued_run",
    "Api.job",
    "Api.list_jobs",
)
def test_launch(pair: Pair):
    def queue(side):
        made = side.api.create_run_queue(f"q-{side.name}", "local-process", entity=ENTITY)
        found = side.api.run_queue(ENTITY, f"q-{side.name}")
        return [made.type, found.id == made.id, found.items, made.default_resource_config]

    pair.check(queue)

    def upserted(side):
        config = {"resource_args": {"kubernetes": {}}}
        made = side.api.upsert_run_queue(f"u-{side.name}", config, "kubernetes", entity=ENTITY)
        return [made.type, side.api.run_queue(ENTITY, f"u-{side.name}").type]

    pair.check(upserted)
    pair.check(lambda side: side.api.list_jobs(ENTITY, PROJECT))
    pair.check(lambda side: side.api.job(f"{ENTITY}/{PROJECT}/train-job:latest"))


@known_different(
    "Api.sync_tensorboard",
    reason="SDK 0.31's sync_tensorboard raises ModuleNotFoundError (no wandb.sync in the "
    "package); ours raises NotImplementedError naming `wandb sync --sync-tensorboard`",
)
def test_sync_tensorboard(pair: Pair):
    pair.check(lambda side: side.api.sync_tensorboard("no-such-dir/"))


@pytest.mark.conformance("Api.queued_run")
def test_queued_run(pair: Pair):
    pair.each(lambda side: side.api.create_run_queue(f"qr-{side.name}", "local-process"))

    def queued(side, **options):
        return side.api.queued_run(ENTITY, PROJECT, f"qr-{side.name}", "nope", **options)

    def made(side):
        found = queued(side, priority=2)
        names = [found.id, found.queue_name == f"qr-{side.name}", found.entity, found.project]
        names += [found.project_queue]
        return [type(found).__name__, *names, found.priority, found.sweep]

    pair.check(made)
    # The SDK asks for the item in project_queue (null unless given, which the server refuses).
    pair.check(lambda side: queued(side, project_queue="model-registry").state)
    pair.check(lambda side: queued(side, project_queue="model-registry").delete())


@pytest.mark.conformance(
    "Api.integrations",
    "Api.webhook_integrations",
    "Api.slack_integrations",
    "Api.create_automation",
    "Api.automation",
    "Api.automations",
    "Api.update_automation",
    "Api.delete_automation",
)
def test_automations(pair: Pair, conformance_server):
    variables = {"entityName": ENTITY, "name": "conf-hook", "urlEndpoint": "http://127.0.0.1:9/"}
    graphql(conformance_server, CREATE_HOOK, {"input": variables})
    pair.check(lambda side: [i.name for i in side.api.integrations(entity=ENTITY)])
    pair.check(
        lambda side: [
            (h.name, h.url_endpoint) for h in side.api.webhook_integrations(entity=ENTITY)
        ]
    )
    pair.check(lambda side: list(side.api.slack_integrations(entity=ENTITY)))
    pair.ours.api.create_project(PROJECT, ENTITY)

    def lifecycle(side):
        kinds = importlib.import_module(AUTOMATIONS[side.name])
        [hook] = list(side.api.webhook_integrations(entity=ENTITY))
        project = side.api.project(PROJECT, entity=ENTITY)
        name = f"auto-{side.name}"
        created = side.api.create_automation(
            kinds.OnAddArtifactAlias(scope=project) >> kinds.SendWebhook.from_integration(hook),
            name=name,
            description="on every version",
        )
        fetched = side.api.automation(name, entity=ENTITY)
        listed = name in [a.name for a in side.api.automations(entity=ENTITY)]
        updated = side.api.update_automation(fetched, enabled=False)
        deleted = side.api.delete_automation(updated)
        return [
            type(created).__name__,
            fetched.id == created.id,
            fetched.description,
            listed,
            updated.enabled,
            deleted,
            name in [a.name for a in side.api.automations(entity=ENTITY)],
        ]

    pair.check(lambda side: lifecycle(side))
    pair.check(lambda side: side.api.automation("no-such-automation", entity=ENTITY))
