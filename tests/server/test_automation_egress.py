"""Where the server may connect for a webhook: public addresses over http(s) only, unless the
administrator allowed an address; checked when the webhook is saved and again at each
delivery; never the server itself; no redirects followed."""

from __future__ import annotations

import pytest

from dagster_wandb_artifacts.server import LocalServer
from tests.server.test_automation_roles import CREATE_TRIGGER, PROJECT_ID, _hook, _trigger_input
from tests.server.test_users import client, log
from tests.support import graphql
from tests.webhooks import WebhookReceiver

pytestmark = pytest.mark.usefixtures("wandb_home")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://0.0.0.0:8080/hook",
        "http://2130706433:8080/hook",
        "http://127.1:8080/hook",
        "http://[::ffff:127.0.0.1]:8080/hook",
        "http://10.0.0.5/hook",
        "http://224.0.0.1/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "http://user:pass@93.184.215.14/hook",
    ],
)
def test_a_webhook_to_a_non_public_address_is_refused(server, url):
    refused = _hook(server, server.api_key, "local", url)
    assert "webhook" in refused["errors"][0]["message"]
    assert not (refused["data"] or {}).get("createGenericWebhookIntegration")


def test_allowed_loopback_but_never_the_server_itself(tmp_path):
    with LocalServer(tmp_path / "server", webhook_allow=["127.0.0.1"]) as server:
        refused = _hook(server, server.api_key, "local", f"{server.base_url}/graphql")
        assert "this server itself" in refused["errors"][0]["message"]
        assert "errors" not in _hook(server, server.api_key, "local", "http://127.0.0.1:9/hook")
        # The allow-list names addresses, not every non-public one.
        refused = _hook(server, server.api_key, "local", "http://[::1]:9/hook")
        assert "loopback" in refused["errors"][0]["message"]


def _automate(server, hook: dict, event: str = "CREATE_ARTIFACT") -> None:
    project = graphql(server, PROJECT_ID, {"e": "local", "p": "proj"})["project"]["id"]
    fields = {**_trigger_input("hook", project, hook["id"]), "triggeringEventType": event}
    graphql(server, CREATE_TRIGGER, {"input": fields})


def _new_version(server, name: str = "ds") -> None:
    log(client(server, server.api_key, "local/proj"), name)


def test_the_target_is_checked_again_at_delivery(tmp_path):
    """An address allowed when the webhook was saved but no longer (the administrator
    removed it, or the name now resolves elsewhere) gets no request."""
    root = tmp_path / "server"
    with WebhookReceiver().running() as receiver:
        with LocalServer(root, webhook_allow=["127.0.0.1"]) as server:
            _new_version(server)
            added = _hook(server, server.api_key, "local", receiver.url)
            _automate(server, added["data"]["createGenericWebhookIntegration"]["integration"])
        with LocalServer(root) as server:
            _new_version(server, "other")
            assert server.automations.dispatcher.wait_idle(10)
            [entry] = server.automations.tables.deliveries()
        assert receiver.received == []
    assert entry["status"] == "refused" and "loopback" in entry["error"]


def test_redirects_are_not_followed(tmp_path):
    with (
        WebhookReceiver().running() as inner,
        WebhookReceiver([307], location=inner.url).running() as outer,
        LocalServer(tmp_path / "server", webhook_allow=["127.0.0.1"]) as server,
    ):
        _new_version(server)
        added = _hook(server, server.api_key, "local", outer.url, secretRef="SIGNING")
        _automate(server, added["data"]["createGenericWebhookIntegration"]["integration"])
        _new_version(server, "other")
        outer.wait_for(1)
        assert server.automations.dispatcher.wait_idle(10)
        [entry] = server.automations.tables.deliveries()
        assert inner.received == []
    assert (entry["status"], entry["response_status"]) == ("failed", 307)
    assert "redirect" in entry["error"]
