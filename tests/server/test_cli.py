"""The command line: a description, help on every subcommand and option, ``--version`` at
every level, and every failure a user can cause one line on stderr with a non-zero exit
code, never a traceback; a real server stops cleanly on SIGINT and SIGTERM."""

from __future__ import annotations

import importlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
import requests

from dagster_wandb_artifacts import __version__
from dagster_wandb_artifacts.client import Api, Artifact
from dagster_wandb_artifacts.server import LocalServer
from dagster_wandb_artifacts.server.cli import cli, main
from tests.support import CLI, run_process, start_process, wait_for_line

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return run_process([*CLI, *args])


def _one_line_error(done: subprocess.CompletedProcess, code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    return line


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_the_console_script_is_this_main():
    (entry,) = re.findall(
        r'^dagster-wandb-artifacts = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M
    )
    module, _, function = entry.partition(":")
    assert getattr(importlib.import_module(module), function) is main


def test_help_describes_the_tool_and_every_option():
    top = _run("--help")
    assert top.returncode == 0
    assert "embedded W&B-compatible server" in " ".join(top.stdout.split())
    assert _run("--version").stdout.strip() == f"dagster-wandb-artifacts {__version__}"
    server = _run("server", "--help").stdout
    assert "port to listen on (default 8080)" in " ".join(server.split())
    # Every option of every command says what it is for.
    for path, command in _commands(cli):
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{' '.join(path)} {param.opts[0]} has no help"


@pytest.mark.parametrize(
    ("command", "says", "not_says"),
    [
        (["server", "scrub"], "md5", "--public-url"),
        (["integration", "webhook"], "--secret-ref", "--team"),
        (["integration", "slack"], "--team", "--secret-ref"),
        (["user"], "--email", "--public-url"),
    ],
)
def test_every_subcommand_has_help_of_its_own(command, says, not_says):
    done = _run(*command, "--help")
    assert done.returncode == 0
    assert f"Usage: dagster-wandb-artifacts {' '.join(command)} [OPTIONS]" in done.stdout
    assert says in done.stdout and not_says not in done.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["server"],
        ["server", "scrub"],
        ["user"],
        ["integration"],
        ["integration", "webhook"],
        ["integration", "slack"],
    ],
)
def test_version_at_every_level(command):
    done = _run(*command, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"dagster-wandb-artifacts {__version__}"


@pytest.mark.parametrize(
    "command",
    [
        ["user", "--email", "a@example.com"],
        ["integration", "webhook", "--name", "n", "--url", "http://127.0.0.1:1/"],
        ["integration", "slack", "--name", "n", "--url", "http://127.0.0.1:1/"],
        ["server", "scrub"],
    ],
)
def test_a_missing_or_wrong_root_is_one_line_and_creates_nothing(tmp_path, command):
    missing = tmp_path / "missing"
    line = _one_line_error(_run(*command, "--root", str(missing)), 1)
    assert f"no folder {missing}" in line
    assert not missing.exists()
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    line = _one_line_error(_run(*command, "--root", str(wrong)), 1)
    assert f"{wrong} holds no server (no server.db)" in line
    assert list(wrong.iterdir()) == []  # no new database where one was expected
    line = _one_line_error(_run(*command), 2)
    assert "Missing option '--root'" in line


def test_the_server_without_root_and_a_root_that_is_a_file(tmp_path):
    line = _one_line_error(_run("server"), 2)
    assert "missing option '--root'" in line
    assert line.endswith("(see dagster-wandb-artifacts server --help)")
    file = tmp_path / "file"
    file.write_text("")
    line = _one_line_error(_run("server", "--root", str(file), "--port", "0"), 1)
    assert f"--root {file} is a file" in line


def test_a_user_that_exists_is_one_line(tmp_path):
    with LocalServer(tmp_path / "root"):
        pass
    args = ["user", "--root", str(tmp_path / "root"), "--email", "ann@example.com"]
    assert _run(*args).returncode == 0
    line = _one_line_error(_run(*args), 1)
    assert "a user with email 'ann@example.com' exists" in line


def test_a_port_in_use_is_one_line_naming_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run("server", "--root", str(tmp_path / "root"), "--port", str(port))
    line = _one_line_error(done, 1)
    assert f"cannot listen on 127.0.0.1:{port}" in line and f"port {port}?" in line


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_the_server_says_how_to_browse_and_stops_cleanly(tmp_path, sent):
    root = tmp_path / "root"
    env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
    process = start_process([*CLI, "server", "--root", str(root), "--port", "0"], env=env)
    try:
        first = wait_for_line(process, "artifact server on", timeout=60)
        url = first.split(" on ")[1].split()[0]
        assert requests.get(f"{url}/healthz", timeout=60).status_code < 500  # it serves
        process.send_signal(sent)
        process.wait(timeout=60)  # its few lines fit in the pipe
        # Read through the text wrapper, which may hold lines already (communicate() would
        # read the pipe beneath it); stderr goes to the same pipe.
        rest = process.stdout.read()
    finally:
        process.kill()
    output = first + rest
    assert f"Open {url} in a browser: user 'api', password the API key in {root / 'api-key'}" in (
        output
    )
    assert process.returncode == 0, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    assert output.strip().splitlines()[-1] == "Server stopped."


def test_keys_stay_private_and_a_new_root_ignores_itself_in_git(tmp_path):
    if sys.platform == "win32":
        pytest.skip("POSIX modes")
    root = tmp_path / "root"
    with LocalServer(root):
        pass
    assert (root / ".gitignore").read_text() == "*\n"
    for name in ("api-key", "url-signing-secret", "server.db"):
        assert (root / name).stat().st_mode & 0o077 == 0, name


def test_a_server_root_inside_a_git_repository_leaves_git_status_empty(tmp_path, wandb_home):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo)]
    assert run_process([*git, "init", "-q"]).returncode == 0
    root = repo / ".wandb-artifacts"
    with LocalServer(root) as server:
        api = Api({"base_url": server.base_url}, api_key=server.api_key)
        run = api.create_run(job_type="test")
        artifact = Artifact("table", "dataset")
        with artifact.new_file("rows.json") as file:
            file.write("[1, 2]")
        run.log_artifact(artifact)
        run.finish()
        assert _run("user", "--root", str(root), "--email", "bo@example.com").returncode == 0
    assert (root / "keys" / "bo").is_file() and (root / "api-key").is_file()
    status = run_process([*git, "status", "--porcelain", "--untracked-files=all"])
    assert status.returncode == 0 and status.stdout == ""
