"""The conformance suite: the real ``wandb`` SDK and our client side by side on one server.

Each test names the seed names it checks with ``@pytest.mark.conformance("Artifact.delete", ...)``;
the verdicts are gathered here into the conformance table (see ``names.py``), printed at the end
of the run and kept in pytest's cache under ``conformance/table``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagster_wandb_artifacts.server import LocalServer
from tests.conformance import names
from tests.conformance.harness import Pair, SdkFailsOnServer, Side
from tests.support import ENTITY, PROJECT, isolate_wandb

#: Verdicts of the conformance tests that ran, by seed name.
VERDICTS: dict[str, list[str]] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "conformance(*names): the seed names this test compares with the wandb SDK"
    )


def _verdict(report: pytest.TestReport, call: pytest.CallInfo) -> str | None:
    if hasattr(report, "wasxfail") and not report.passed:
        return names.FAILING if report.wasxfail.startswith("server") else names.DIFFERENT
    if report.passed:
        return names.SAME
    if report.failed:
        if call.excinfo is not None and call.excinfo.errisinstance(SdkFailsOnServer):
            return names.FAILING
        return names.DIFFERENT
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    marker = item.get_closest_marker("conformance")
    if marker is not None and report.when == "call":
        verdict = _verdict(report, call)
        if verdict is not None:
            for name in marker.args:
                VERDICTS.setdefault(name, []).append(verdict)
    return report


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if not VERDICTS:
        return
    table = names.table(VERDICTS)
    if getattr(config, "cache", None) is not None:  # absent with -p no:cacheprovider
        config.cache.set("conformance/table", table)
    counts = names.counts(table)
    terminalreporter.section("conformance with wandb " + names.sdk_version())
    terminalreporter.write_line(" / ".join(f"{count} {verdict}" for verdict, count in counts))
    if config.option.verbose > 0:
        for name, verdict in sorted(table.items()):
            terminalreporter.write_line(f"  {verdict:10} {name}")


@pytest.fixture(scope="package")
def conformance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One embedded server for the whole suite, and W&B's folders for the SDK beside it."""
    root = tmp_path_factory.mktemp("conformance")
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_wandb(root / "wandb-home", monkeypatch)
        # Its webhooks point at loopback, which only an administrator's allow-list opens.
        with LocalServer(root / "server", webhook_allow=["127.0.0.1"]) as running:
            yield running


@pytest.fixture(scope="package")
def pair(conformance_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Pair:
    """The real ``wandb.Api`` and ours, both on the suite's server, with ``ent/proj`` defaults."""
    import wandb

    from dagster_wandb_artifacts.client import Api, Artifact, ArtifactCache, RetryPolicy

    overrides = {"base_url": conformance_server.base_url, "entity": ENTITY, "project": PROJECT}
    theirs = wandb.Api(overrides=dict(overrides), api_key=conformance_server.api_key)
    ours = Api(
        api_key=conformance_server.api_key,
        overrides=dict(overrides),
        retry=RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.05),
        cache=ArtifactCache(tmp_path_factory.mktemp("cache")),
    )
    return Pair(sdk=Side("sdk", theirs, wandb.Artifact), ours=Side("ours", ours, Artifact))


_projects = itertools.count()


@pytest.fixture
def project() -> str:
    """A project of the test's own on the suite's server (the server is shared)."""
    return f"conf-{next(_projects)}"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A small folder to add to artifacts: ``a.txt``, ``sub/b.txt``."""
    root = tmp_path / "files"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.txt").write_text("beta\n")
    return root
