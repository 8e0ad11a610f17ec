"""Screenshot of the example's asset lineage in the Dagster UI, for the README.

    python docs/screenshot.py [--out docs/lineage.png]

Runs the example once (embedded server, a temporary Dagster home), serves it with
dagster-webserver on loopback and photographs the lineage page with headless Chromium
(Debian's ``chromium`` package: ``apt-get install chromium``; nothing is downloaded).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

EXAMPLE = Path(__file__).parents[1] / "example_project"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1600,900",
    "--virtual-time-budget=20000",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "lineage.png"))
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("needs Debian's chromium: apt-get install chromium", file=sys.stderr)
        return 2
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="example-ui-") as tmp:
        work = Path(tmp)
        (work / "home").mkdir()
        # No first-visit community dialog over the graph, no telemetry.
        (work / "home" / "dagster.yaml").write_text(
            "nux:\n  enabled: false\ntelemetry:\n  enabled: false\n"
        )
        env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
        env.update({"DAGSTER_HOME": str(work / "home"), "PYTHONPATH": str(EXAMPLE)})
        subprocess.run(
            [sys.executable, "-m", "example_project"],
            cwd=work,
            env=env,
            check=True,
            capture_output=True,
        )
        port = free_port()
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
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            session = requests.Session()
            session.mount(
                "http://",
                HTTPAdapter(max_retries=Retry(connect=120, backoff_factor=0.1, backoff_max=1.0)),
            )
            session.get(f"http://127.0.0.1:{port}/server_info", timeout=30).raise_for_status()
            url = f"http://127.0.0.1:{port}/asset-groups/default/lineage"
            subprocess.run(
                [
                    chromium,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={work / 'chromium'}",
                    f"--screenshot={Path(args.out).resolve()}",
                    url,
                ],
                check=True,
                capture_output=True,
                timeout=180,
            )
        finally:
            webserver.terminate()
            webserver.wait(timeout=60)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
