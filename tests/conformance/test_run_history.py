"""A run's history and summary through ``Api().run(...)``: the same calls through ``wandb``
and through our client, on one server."""

from __future__ import annotations

import pytest

from tests.conformance.harness import Pair
from tests.support import ENTITY

PROJECT = "conf-history"
ROWS = 12


@pytest.fixture(scope="module")
def logged(pair: Pair) -> str:
    """A run of our client with ``ROWS`` rows (``acc`` on every other one) and a summary."""
    run = pair.ours.api.create_run(project=PROJECT, run_id="hist")
    for step in range(ROWS):
        run.log({"loss": 1 / (step + 1), **({"acc": step / ROWS} if step % 2 else {})})
    run.summary.update({"best": 0.5, "nested": {"a": 1}})
    run.finish()
    return f"{ENTITY}/{PROJECT}/hist"


def _run(side, path: str):
    return side.api.run(path)


@pytest.mark.conformance("Api.run")
def test_history_sampled_full_and_by_keys(pair: Pair, logged: str):
    pair.check(lambda side: _run(side, logged).history(pandas=False))
    pair.check(lambda side: len(_run(side, logged).history(samples=5, pandas=False)))
    pair.check(lambda side: _run(side, logged).history(keys=["acc"], pandas=False))
    pair.check(lambda side: list(_run(side, logged).history(pandas=True).columns).sort())
    pair.check(lambda side: _run(side, logged).lastHistoryStep)


@pytest.mark.conformance("Api.run")
@pytest.mark.parametrize("page_size", [1, 5, 1000])
def test_scan_history(pair: Pair, logged: str, page_size: int):
    pair.check(lambda side: list(_run(side, logged).scan_history(page_size=page_size)))
    pair.check(
        lambda side: list(_run(side, logged).scan_history(keys=["acc"], page_size=page_size))
    )
    pair.check(
        lambda side: list(_run(side, logged).scan_history(keys=["loss"], min_step=3, max_step=7))
    )


@pytest.mark.conformance("Api.run")
def test_summary_reads_as_the_sdks_http_summary(pair: Pair, logged: str):
    pair.check(lambda side: dict(_run(side, logged).summary))
    pair.check(lambda side: _run(side, logged).summary["best"])
    pair.check(lambda side: _run(side, logged).summary.best)
    pair.check(lambda side: "loss" in _run(side, logged).summary)
    pair.check(lambda side: sorted(_run(side, logged).summary.keys()))
    pair.check(lambda side: _run(side, logged).summary.get("missing", 3))
    pair.check(lambda side: _run(side, logged).summary["missing"])  # KeyError on both


@pytest.mark.conformance("Api.run")
def test_summary_update_saves_and_item_assignment_does_not(pair: Pair):
    def change(side):
        path = f"{ENTITY}/{PROJECT}/summary-{'sdk' if side.is_sdk else 'ours'}"
        pair.ours.api.create_run(project=PROJECT, run_id=path.rpartition("/")[2]).finish()
        summary = side.api.run(path).summary
        summary["only_here"] = 1
        summary.update({"saved": 2.5})
        again = side.api.run(path)
        again.load(force=True)
        return {key: again.summary.get(key) for key in ("only_here", "saved")}

    pair.check(change)
