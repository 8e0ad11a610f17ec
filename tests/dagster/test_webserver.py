"""The example as the Dagster UI shows it: metadata, lineage and data versions through
dagster-webserver's GraphQL API on loopback."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from dagster_wandb_artifacts.client import Api
from dagster_wandb_artifacts.server import LocalServer
from tests.support import EXAMPLE, run_example

ASSETS = """
{
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    kinds
    assetMaterializations(limit: 1) {
      tags { key value }
      metadataEntries {
        label
        ... on TextMetadataEntry { text }
        ... on UrlMetadataEntry { url }
      }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_line(process: subprocess.Popen, marker: str, timeout: float) -> str:
    """Read the process's output until a line contains ``marker`` (bounded by ``timeout``)."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return line
    raise AssertionError(f"{marker!r} not seen in time:\n{''.join(seen)[-3000:]}")


def test_webserver_shows_metadata_lineage_and_data_versions(tmp_path, wandb_home):
    home = tmp_path / "dagster-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
    env.update(
        {
            "DAGSTER_HOME": str(home),
            "PYTHONPATH": os.pathsep.join([str(EXAMPLE), env.get("PYTHONPATH", "")]),
        }
    )
    run_example(tmp_path, DAGSTER_HOME=str(home))
    bin_dir = Path(sys.executable).parent

    port = _free_port()
    webserver = subprocess.Popen(
        [
            str(bin_dir / "dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            "example_project.definitions",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_line(webserver, "Serving dagster-webserver", timeout=180)
        # The line comes just before the server binds: retry refused connections, bounded.
        session = requests.Session()
        retry = Retry(connect=60, backoff_factor=0.05, backoff_max=1.0)
        session.mount("http://", HTTPAdapter(max_retries=retry))
        reply = session.post(f"http://127.0.0.1:{port}/graphql", json={"query": ASSETS}, timeout=60)
        nodes = {"/".join(n["assetKey"]["path"]): n for n in reply.json()["data"]["assetNodes"]}
    finally:
        webserver.terminate()
        webserver.wait(timeout=60)

    assert set(nodes) == {
        "sensors/raw_measurements",
        "sensors/cleaned_measurements",
        "power_model",
        "evaluation",
        "sensor_archive",
        "calibration",
    }
    assert [d["path"] for d in nodes["power_model"]["dependencyKeys"]] == [
        ["sensors", "cleaned_measurements"]
    ]
    assert sorted(tuple(d["path"]) for d in nodes["evaluation"]["dependencyKeys"]) == [
        ("calibration",),
        ("power_model",),
    ]
    assert nodes["calibration"]["kinds"] == ["wandb"]
    assert nodes["calibration"]["assetMaterializations"] == []  # made outside Dagster

    with LocalServer(tmp_path / ".wandb-artifacts") as server:
        api = Api(
            {"base_url": server.base_url, "project": "dagster-example"}, api_key=server.api_key
        )
        for key, node in nodes.items():
            if key == "calibration":
                continue
            (materialization,) = node["assetMaterializations"]
            entries = {
                e["label"]: e.get("text") or e.get("url")
                for e in materialization["metadataEntries"]
            }
            tags = {t["key"]: t["value"] for t in materialization["tags"]}
            collection = key.replace("/", ".")
            logged = api.artifact(f"{collection}:{entries['wandb/version']}")
            assert tags["dagster/data_version"] == logged.digest == entries["wandb/digest"]
            assert entries["wandb/collection"] == f"local/dagster-example/{collection}"
            assert entries["wandb/url"].startswith("http://127.0.0.1:8080/local/dagster-example/")
            assert entries["dagster/uri"] == (
                f"wandb-artifact://local/dagster-example/{collection}:{logged.version}"
            )
