"""Screenshots of the example for the README: its asset lineage in the Dagster UI, and a
version's lineage in the embedded server's web UI.

    python docs/screenshot.py [--out docs/lineage.png] [--ui-out docs/ui-lineage.png]

Runs the example once (embedded server, a temporary Dagster home), serves it with
dagster-webserver on loopback and photographs its lineage page, then photographs the lineage
page of ``power_model:v0`` in the embedded server, with headless Chromium (Debian's
``chromium`` package: ``apt-get install chromium``; nothing is downloaded).
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

from dagster_wandb_artifacts.server import LocalServer

EXAMPLE = Path(__file__).parents[1] / "example_project"
UI_PAGE = "/local/dagster-example/artifacts/model/power_model/v0/lineage"
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
    "--virtual-time-budget=20000",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "lineage.png"))
    parser.add_argument("--ui-out", default=str(Path(__file__).parent / "ui-lineage.png"))
    parser.add_argument("--ui-only", action="store_true", help="skip the Dagster UI picture")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("needs Debian's chromium: apt-get install chromium", file=sys.stderr)
        return 2
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
        if not args.ui_only:
            photograph_dagster(chromium, work, env, args.out)
        with LocalServer(work / ".wandb-artifacts") as server:
            # Basic auth in the URL: Chromium sends it with every request of the page.
            signed_in = server.base_url.replace("://", f"://api:{server.api_key}@", 1)
            photograph(chromium, work, signed_in + UI_PAGE, args.ui_out, "2180,400")
    print(f"wrote {args.ui_out if args.ui_only else f'{args.out} and {args.ui_out}'}")
    return 0


def photograph_dagster(chromium: str, work: Path, env: dict[str, str], out: str) -> None:
    bin_dir = Path(sys.executable).parent
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
        photograph(chromium, work, url, out)
    finally:
        webserver.terminate()
        webserver.wait(timeout=60)


def photograph(chromium: str, work: Path, url: str, out: str, size: str = "1600,900") -> None:
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--window-size={size}",
            f"--user-data-dir={work / 'chromium'}",
            f"--screenshot={Path(out).resolve()}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


if __name__ == "__main__":
    sys.exit(main())
