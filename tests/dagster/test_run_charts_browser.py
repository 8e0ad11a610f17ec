"""A run page in headless Chromium: each logged metric is a line chart drawn by the server
(SVG, no script, nothing fetched from elsewhere) and the summary is a table."""

from __future__ import annotations

import base64
import math
import os
from pathlib import Path

from tests.dagster.test_web_ui_browser import Browser, browser  # noqa: F401 - the fixture

STEPS = 60


def log_a_training_run(api) -> str:
    run = api.create_run(run_id="trained", job_type="train", config={"lr": 0.01})
    for step in range(STEPS):
        loss = math.exp(-step / 15) + 0.02 * math.sin(step)
        run.log({"loss": loss, "accuracy": 1 - math.exp(-step / 20)})
    run.summary.update({"best_accuracy": 1 - math.exp(-(STEPS - 1) / 20)})
    run.finish()
    return run.id


def test_the_run_page_draws_each_metric_and_the_summary(
    server,
    api,
    browser: Browser,  # noqa: F811 - the fixture
    tmp_path,
):
    run_id = log_a_training_run(api)
    key = base64.b64encode(f"api:{server.api_key}".encode()).decode()
    browser.send("Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {key}"})
    browser.open(f"{server.base_url}/ent/proj/runs/{run_id}")

    charts = browser.evaluate(
        "[...document.querySelectorAll('figure.chart')].map(f => [f.dataset.key, "
        "f.querySelector('svg polyline').getAttribute('points').split(' ').length, "
        "f.querySelector('svg').getBoundingClientRect().width])"
    )
    assert [(name, points) for name, points, _ in charts] == [("accuracy", STEPS), ("loss", STEPS)]
    assert all(width > 100 for _, _, width in charts)  # drawn, not just in the markup
    summary = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('table.run-summary tr')]"
        ".map(r => [r.querySelector('th').innerText, r.querySelector('td').innerText]))"
    )
    assert float(summary["best_accuracy"]) > 0.9 and summary["_step"] == str(STEPS - 1)
    # Nothing but the page itself was fetched, and it runs no script.
    fetched = browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert all(url.startswith(server.base_url) for url in fetched), fetched
    assert browser.evaluate("document.scripts.length") == 0

    picture = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
    assert picture.startswith(b"\x89PNG")
    out = Path(os.environ.get("RUN_CHARTS_SCREENSHOT", tmp_path / "run-charts.png"))
    out.write_bytes(picture)
