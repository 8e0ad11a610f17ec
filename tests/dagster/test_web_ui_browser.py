"""The web UI in a real browser: headless Chromium (Debian's ``chromium``, which ``.ci/run``
installs) clicks its way home -> project -> collection -> version -> lineage -> run on the
example project's data, driven over the DevTools protocol."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from dagster_wandb_artifacts.server import LocalServer
from tests.support import run_example

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_TIMEOUT = 60


class Browser:
    """One Chromium tab over the DevTools protocol: navigate, click, read the page."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Network.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=_TIMEOUT))
            if message.get("id") == message_id:
                assert "error" not in message, message
                return message["result"]

    def _wait_for(self, event: str) -> None:
        while json.loads(self._socket.recv(timeout=_TIMEOUT)).get("method") != event:
            pass

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self._wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def text(self) -> str:
        return self.evaluate("document.body.innerText")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the first element ``selector`` matches, then
        waiting for the page it opens to load."""
        found = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) "
            "return null; e.scrollIntoView({block: 'center', inline: 'center'}); "
            "const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2] "
            "})()"
        )
        assert found, f"nothing on {self.evaluate('location.href')} matches {selector}"
        x, y = found
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        self._wait_for("Page.loadEventFired")

    def path(self) -> str:
        return self.evaluate("location.pathname")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Headless Chromium listening for DevTools on a free port, driven through its first tab."""
    from websockets.sync.client import connect

    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium (.ci/run installs it: apt-get install chromium)")
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,900",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        # Chromium says where DevTools listen before anything else we need; read until then,
        # and keep draining its log so it never blocks on a full pipe.
        for line in process.stderr:
            if line.startswith("DevTools listening on ws://"):
                endpoint = line.split("ws://", 1)[1].split("/", 1)[0]
                break
        else:
            pytest.fail(f"chromium exited with {process.wait()} before listening")
        threading.Thread(target=process.stderr.read, daemon=True).start()
        targets = requests.get(f"http://{endpoint}/json/list", timeout=_TIMEOUT).json()
        tab = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(tab, max_size=None, open_timeout=_TIMEOUT) as socket:
            yield Browser(socket)
    finally:
        process.terminate()
        process.wait(timeout=_TIMEOUT)


def test_a_browser_walks_from_home_to_a_run_through_the_lineage(tmp_path, wandb_home, browser):
    run_example(tmp_path)
    with LocalServer(tmp_path / ".wandb-artifacts") as server:
        key = base64.b64encode(f"api:{server.api_key}".encode()).decode()
        browser.send("Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {key}"})
        browser.open(f"{server.base_url}/")
        assert "dagster-example" in browser.text()

        browser.click('a[href="/local/dagster-example"]')
        assert browser.path() == "/local/dagster-example"
        page = browser.text()
        assert "power_model" in page and "sensors.cleaned_measurements" in page
        assert "calibrate" in page  # the run made outside Dagster
        assert "Least-squares fit" in page  # the latest version's description

        browser.click('a[href="/local/dagster-example/artifacts/model/power_model"]')
        assert browser.path().endswith("/artifacts/model/power_model")
        assert "candidate" in browser.text()

        browser.click('table.versions a[href$="/power_model/v0"]')
        page = browser.text()
        assert "power_model:v0" in page and "Least-squares fit" in page
        assert browser.evaluate("document.querySelector('a.dagster-run').href").startswith(
            "http://localhost:3000/runs/"
        )
        assert "value.json" in page

        browser.click('p.tabs a[href$="/lineage"]')
        assert browser.path().endswith("/power_model/v0/lineage")
        labels = browser.evaluate(
            "[...document.querySelectorAll('svg a.node')].map(a => a.textContent)"
        )
        assert any("sensors.cleaned_measurements:v2" in label for label in labels)
        assert any("evaluation:v0" in label for label in labels)
        assert browser.evaluate("document.querySelectorAll('svg path.edge').length") >= 4

        browser.click('svg a.node.run[data-job="evaluation"]')  # the run that used it
        assert "/local/dagster-example/runs/" in browser.path()
        page = browser.text()
        assert "run evaluation-" in page and "Finished" in page and "Dagster run" in page
        assert "evaluation:v0" in page and "calibration:v0" in page  # logged and used
