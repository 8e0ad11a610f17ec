"""The command line: a description, ``--version``, help on every option, and a port in use
as one line that names it."""

from __future__ import annotations

import socket
import subprocess

from dagster_wandb_artifacts import __version__
from tests.support import run_process, tool


def _run(*args: str) -> subprocess.CompletedProcess:
    return run_process([tool("dagster-wandb-artifacts"), *args])


def test_help_describes_the_tool_and_every_option():
    top = _run("--help")
    assert top.returncode == 0
    assert "embedded W&B-compatible artifact server" in " ".join(top.stdout.split())
    assert _run("--version").stdout.strip() == f"dagster-wandb-artifacts {__version__}"
    server = _run("server", "--help").stdout
    assert "port to listen on (default 8080)" in " ".join(server.split())


def test_a_port_in_use_is_one_line_naming_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run("server", "--root", str(tmp_path / "root"), "--port", str(port))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert f"cannot listen on 127.0.0.1:{port}" in line and f"port {port}?" in line
