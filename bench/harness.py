"""What the bench scripts share: the server in its own process, timing, tables, peak RSS.

The server runs as ``dagster-wandb-artifacts server`` in a subprocess so that neither our
client nor the other side (the wandb SDK, dagster-wandb) shares a GIL with it, and so that
its own memory can be measured.
"""

from __future__ import annotations

import json
import os
import re
import resource
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LISTENING = re.compile(r"on (http://\S+) ")
SUMMARY_VARIABLE = "BENCH_SUMMARY"


@dataclass(frozen=True)
class ServerProcess:
    base_url: str
    api_key: str
    process: subprocess.Popen[str]

    def peak_rss_mib(self) -> float:
        """The server's peak resident set so far (VmHWM), read while it still runs."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status: peak RSS needs Linux")


@contextmanager
def server_process(
    root: Path, public_url: str | None = None, port: int = 0
) -> Iterator[ServerProcess]:
    """``dagster-wandb-artifacts server`` on a loopback port (0: a free one), from this
    interpreter; ``public_url`` is where its signed URLs point (a proxy in front of it)."""
    api_key = f"bench-{secrets.token_hex(24)}"
    public = ["--public-url", public_url] if public_url else []
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_wandb_artifacts.server.cli",
            "server",
            "--root",
            str(root),
            "--port",
            str(port),
            "--api-key",
            api_key,
            *public,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = _LISTENING.search(process.stdout.readline())
        if match is None:
            raise RuntimeError(f"the server did not start (exit code {process.wait()})")
        yield ServerProcess(match.group(1), api_key, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def stop_process(process: subprocess.Popen, grace: float = 10) -> None:
    """Terminate, then kill when it lingers past ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        # A child can inherit SIGTERM blocked (signal masks survive exec).
        process.kill()
        process.wait(timeout=30)


def sdk_settings(server: ServerProcess | Any) -> Any:
    """``wandb.Settings`` for the real SDK logging into ``server`` (anything with ``base_url``
    and ``api_key``: a bench server process, a test's ``LocalServer``), quietly and without
    the machine and code probes that would only add noise to a timing or a test."""
    import wandb

    return wandb.Settings(
        base_url=server.base_url,
        api_key=server.api_key,
        silent=True,
        x_disable_stats=True,
        x_disable_machine_info=True,
        console="off",
        save_code=False,
        disable_git=True,
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def touch_memory(folder: Path, gib: int) -> None:
    """Write and delete ``gib`` GiB of zeros, so later writes reuse pages the machine has
    already backed. On a VM whose memory the host hands out on first touch (this one: about
    2 s per GiB), the first writer of fresh pages pays for them, and a ratio would measure
    which side of it wrote first, not its own work."""
    scratch = folder / "touch-memory"
    block = bytes(1 << 20)
    with open(scratch, "wb") as file:
        for _ in range(gib * 1024):
            file.write(block)
    scratch.unlink()


def own_peak_rss_mib() -> float:
    """This process's peak resident set (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_json(command: Sequence[str], env: dict[str, str] | None = None) -> dict:
    """Run a child that prints one JSON object as its last stdout line; return that object."""
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(
    headers: Sequence[str], rows: Sequence[Sequence[object]], summary: Sequence[str] = ()
) -> None:
    """Print a Markdown table (it pastes into RESULTS.md as it is).

    The ``summary`` columns of each row also go as JSON lines, with the row's ``target
    <column>`` (else ``target``) cell if the table has one, to the file named by
    $BENCH_SUMMARY: ``python -m bench`` sets it to gather one table of ratios from every script.
    """

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}" if value < 10 else f"{value:.1f}"
        return "" if value is None else str(value)

    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(cell(value) for value in row) + " |")
    sys.stdout.flush()
    destination = os.environ.get(SUMMARY_VARIABLE)
    if not destination:
        return
    with open(destination, "a") as file:
        for row in rows:
            for metric in summary:
                value = row[headers.index(metric)]
                if value is None:
                    continue
                candidates = (f"target {metric}", "target")
                column = next((name for name in candidates if name in headers), None)
                line = {
                    "script": Path(sys.argv[0]).stem,
                    "case": str(row[0]),
                    "metric": metric,
                    "value": cell(value),
                    "target": "" if column is None else cell(row[headers.index(column)]),
                }
                file.write(json.dumps(line) + "\n")
