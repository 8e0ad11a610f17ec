"""The web UI in a real browser: headless Chromium (Debian's ``chromium``, which ``.ci/run``
installs) clicks its way home -> project -> collection -> version -> lineage -> run on the
example project's data, driven over the DevTools protocol."""

from __future__ import annotations

import base64
import itertools
import json
import os
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
        # The asset's page, on the Dagster UI the run's recorded link names.
        asset_link = "document.querySelector('a.dagster-asset').href"
        assert browser.evaluate(asset_link) == "http://localhost:3000/assets/power_model"
        browser.click('nav.tabs a[data-tab="files"]')
        assert "value.json" in browser.text()

        browser.click('nav.tabs a[data-tab="lineage"]')
        assert browser.path().endswith("/power_model/v0/lineage")
        _screenshot(browser, "ui-lineage.png", tmp_path)
        view_box = "document.querySelector('svg.lineage').getAttribute('viewBox')"
        fitted = browser.evaluate(view_box)
        browser.evaluate("document.querySelector('[data-lineage=zoom-in]').click()")
        zoomed = browser.evaluate(view_box)
        assert float(zoomed.split()[2]) < float(fitted.split()[2])  # a narrower view: zoomed in
        browser.evaluate("document.querySelector('[data-lineage=fit]').click()")
        assert browser.evaluate(view_box) == fitted
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


def _screenshot(browser: Browser, name: str, folder: Path) -> None:
    """The page as shown, saved as ``name`` in ``folder`` and, when ``UI_SCREENSHOTS`` names
    a folder (``docs/``), there too (how the web UI page's pictures are made)."""
    shot = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
    assert shot.startswith(b"\x89PNG")
    for target in filter(None, (folder, os.environ.get("UI_SCREENSHOTS"))):
        (Path(target) / name).write_bytes(shot)


def _log_models(server: LocalServer, tmp_path: Path) -> None:
    """Two versions of ``churn-model``, each with a Parquet table of predictions."""
    import pyarrow
    import pyarrow.parquet

    from dagster_wandb_artifacts.client import Api, Artifact

    overrides = {"base_url": server.base_url, "entity": "ent", "project": "churn"}
    api = Api(api_key=server.api_key, overrides=overrides)
    run = api.create_run(job_type="train")
    for index, rows in enumerate((1_000, 1_200)):
        artifact = Artifact(
            "churn-model",
            "model",
            description=f"gradient boosting, round {index}",
            metadata={
                "auc": round(0.81 + index / 50, 3),
                "params": {"depth": 6 + index, "trees": 300},
            },
        )
        table = pyarrow.table(
            {
                "customer": [f"c-{i:05d}" for i in range(rows)],
                "score": [round((i * 37 % 100) / 100, 2) for i in range(rows)],
                "churned": [i % 7 == 0 for i in range(rows)],
            }
        )
        path = tmp_path / f"predictions-{index}.parquet"
        pyarrow.parquet.write_table(table, path)
        artifact.add_file(str(path), name="eval/predictions.parquet")
        with artifact.new_file("weights.txt") as file:
            file.write(f"weights of round {index}\n")
        if index == 1:
            with artifact.new_file("feature_importance.json") as file:
                file.write('{"tenure": 0.4, "plan": 0.3}')
        run.log_artifact(artifact)
    run.finish()


def test_a_browser_promotes_compares_and_reads_a_parquet_table(tmp_path, wandb_home, browser):
    shots = tmp_path / "shots"
    shots.mkdir()
    with LocalServer(tmp_path / "server") as server:
        _log_models(server, tmp_path)
        key = base64.b64encode(f"api:{server.api_key}".encode()).decode()
        browser.send("Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {key}"})
        version = f"{server.base_url}/ent/churn/artifacts/model/churn-model/v1"
        browser.open(version)
        page = browser.text()
        assert "churn-model:v1" in page and "gradient boosting, round 1" in page
        _screenshot(browser, "ui-version.png", shots)

        browser.evaluate("document.querySelector('details.promote').open = true")
        browser.evaluate(
            "document.querySelector('.promote input[name=registry]').value = 'model';"
            "document.querySelector('.promote input[name=aliases]').value = 'production';"
        )
        assert "Link churn-model:v1 into a registry" in browser.text()
        _screenshot(browser, "ui-promote.png", shots)
        browser.click(".promote button.primary")
        assert browser.path() == f"/orgs/{server.entity}/registry/model"
        page = browser.text()
        assert "churn-model: 1 linked version" in page and "production" in page
        assert browser.evaluate("document.querySelector('tr.highlight a').textContent") == "v0"

        browser.open(version)
        browser.click('nav.tabs a[data-tab="compare"]')
        assert browser.path().endswith("/churn-model/v1/compare")
        page = browser.text()
        assert "v0 → v1" in page and "1 added" in page and "2 changed" in page
        assert "feature_importance.json" in page and "params.depth" in page
        _screenshot(browser, "ui-compare.png", shots)

        browser.click('nav.tabs a[data-tab="files"]')
        browser.click('.file-tree a[href$="/eval/"]')
        browser.click('.file-tree a[href$="/eval/predictions.parquet"]')
        page = browser.text()
        assert "rows 1–50 of 1,200" in page and "c-00049" in page and "c-00050" not in page
        headers = browser.evaluate(
            "[...document.querySelectorAll('table.data-table th')].map(th => th.innerText)"
        )
        assert headers == ["#", "customer\nstring", "score\ndouble", "churned\nbool"]
        _screenshot(browser, "ui-table.png", shots)
        browser.click('.preview a[rel="next"]')
        assert "c-00050" in browser.text() and "rows 51–100" in browser.text()
