"""The example as the Dagster UI shows it: metadata, lineage and data versions through
dagster-webserver's GraphQL API on loopback."""

from __future__ import annotations

import os

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from dagster_wandb_artifacts.client import Api
from dagster_wandb_artifacts.server import LocalServer
from tests.support import EXAMPLE, free_port, run_example, start_process, tool, wait_for_line

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


def test_the_first_run_leaves_what_the_printed_dg_dev_command_shows(tmp_path, wandb_home):
    """The README's first command, then the ``dg dev`` command it prints, as printed: every
    asset materialized, with W&B links on the ports configured for the two servers."""
    readme = (EXAMPLE.parent / "README.md").read_text()
    # The command this test follows is the README's.
    assert "(cd example_project && ../.venv/bin/python -m example_project)" in readme
    port, server_port = free_port(), free_port()
    output = run_example(
        tmp_path,
        DAGSTER_WEBSERVER_URL=f"http://127.0.0.1:{port}",
        WANDB_ARTIFACTS_SERVER_URL=f"http://127.0.0.1:{server_port}",
    )
    (dev_line,) = [line for line in output.splitlines() if " dev --target-path " in line]
    home = tmp_path / ".dagster"
    dg = tool("dg")
    assert dev_line.strip() == f"DAGSTER_HOME={home} {dg} dev --target-path {EXAMPLE} -p {port}"
    assert f"--port {server_port}" in output  # the browse command, on the port of the links
    variable, *command = dev_line.split()
    env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
    env.update(
        {
            variable.split("=")[0]: variable.split("=", 1)[1],
            "PYTHONPATH": os.pathsep.join([str(EXAMPLE), env.get("PYTHONPATH", "")]),
        }
    )
    webserver = start_process(command, cwd=tmp_path, env=env)
    try:
        wait_for_line(webserver, "Serving dagster-webserver", timeout=180)
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
            assert entries["wandb/url"].startswith(
                f"http://127.0.0.1:{server_port}/local/dagster-example/"
            )
            run = logged.logged_by()
            assert run.config["dagster_run_url"].startswith(f"http://127.0.0.1:{port}/runs/")
            assert entries["dagster/uri"] == (
                f"wandb-artifact://local/dagster-example/{collection}:{logged.version}"
            )
