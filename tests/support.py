"""Helpers for tests: the real wandb SDK pointed at a server, and raw GraphQL requests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from dagster_wandb_artifacts.server import LocalServer

ENTITY = "ent"
PROJECT = "proj"


def isolate_wandb(home: Path, monkeypatch: Any) -> None:
    """W&B's folders under ``home`` and no W&B settings from the environment, so nothing leaks
    between tests or into $HOME."""
    for variable, folder in {
        "WANDB_DIR": "dir",
        "WANDB_CACHE_DIR": "cache",
        "WANDB_CONFIG_DIR": "config",
        "WANDB_DATA_DIR": "data",
        "WANDB_ARTIFACT_DIR": "artifacts",
    }.items():
        (home / folder).mkdir(parents=True)
        monkeypatch.setenv(variable, str(home / folder))
    for variable in (
        "WANDB_API_KEY",
        "WANDB_BASE_URL",
        "WANDB_ENTITY",
        "WANDB_PROJECT",
        "WANDB_MODE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_ERROR_REPORTING", "false")


def graphql(server: LocalServer, query: str, variables: dict | None = None) -> dict:
    """A GraphQL request of the test's own, to assert on the server's state."""
    reply = requests.post(
        f"{server.base_url}/graphql",
        json={"query": query, "variables": variables or {}},
        auth=("api", server.api_key),
        timeout=30,
    )
    body = reply.json()
    assert reply.status_code == 200 and "errors" not in body, body
    return body["data"]


def sdk_settings(server: LocalServer) -> Any:
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


def sdk_run(server: LocalServer, **init: Any) -> Any:
    """A real ``wandb.init`` run logging into ``server``."""
    import wandb

    init.setdefault("entity", ENTITY)
    init.setdefault("project", PROJECT)
    return wandb.init(settings=sdk_settings(server), **init)


def sdk_api(server: LocalServer) -> Any:
    import wandb

    return wandb.Api(overrides={"base_url": server.base_url}, api_key=server.api_key)


EXAMPLE = Path(__file__).parents[1] / "example_project"


def run_tool(name: str, *args: str, cwd: Path, env: dict[str, str]) -> str:
    """Run a console script of this virtualenv (``dagster``, ``dg``...); its whole output."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name(name)), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return done.stdout if name == "dg" else output


def run_example(cwd: Path, **extra_env: str) -> str:
    """``python -m example_project``, as the README runs it, on the embedded server (no W&B key
    in the environment); its whole output."""
    env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join([str(EXAMPLE), env.get("PYTHONPATH", "")])
    env.update(extra_env)
    return run_tool("python", "-m", "example_project", cwd=cwd, env=env)
