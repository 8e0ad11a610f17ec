"""Every request bound (and the check of served objects) can be set where a server is
started: ``--limit NAME=VALUE`` and ``--no-verify-reads`` on the command line, ``limits`` and
``verify_reads`` in Python; a bad setting is one line naming it."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from dagster_wandb_artifacts.server import Limits, LocalServer, api_key_path
from tests.server.test_server import MEMBERSHIP, commit, create_pending
from tests.support import CLI, graphql, run_process, start_process

DEEP = """{ project(name: "p") { runs { edges { node {
  project { runs { edges { node { id } } } } } } } } }"""


def _server(*args: str) -> list[str]:
    return [*CLI, "server", *args]


def _refusals(url: str, key: str) -> tuple[requests.Response, requests.Response]:
    deep = requests.post(f"{url}/graphql", json={"query": DEEP}, auth=("api", key), timeout=30)
    big = requests.post(
        f"{url}/graphql",
        json={"query": "{ viewer { entity } }", "variables": {"pad": "x" * 3000}},
        auth=("api", key),
        timeout=30,
    )
    return deep, big


def test_limits_set_on_the_command_line_bound_requests(tmp_path):
    root = tmp_path / "root"
    limits = ["--limit", "max_depth=6", "--limit", "graphql_body_bytes = 2000"]
    process = start_process(
        _server("--root", str(root), "--port", "0", *limits, "--no-verify-reads"),
        env={k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"},
    )
    try:
        url = process.stdout.readline().split(" on ")[1].split()[0]
        server = SimpleNamespace(base_url=url, api_key=api_key_path(root).read_text().strip())
        deep, big = _refusals(server.base_url, server.api_key)
        served = _serve_a_corrupt_object(server, root)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert deep.status_code == 400 and "at most 6 (limit max_depth)" in deep.text
    assert big.status_code == 413 and "at most 2000 (graphql_body_bytes)" in big.text
    # Not hashed as served: the corrupt object is passed on and left where it is.
    assert served.content == b"CORRUPT"
    assert not (root / "storage" / "corrupt").exists()


def _serve_a_corrupt_object(server: SimpleNamespace, root: Path) -> requests.Response:
    commit(server, create_pending(server, {"a.txt": b"correct"})["id"])
    node = graphql(server, MEMBERSHIP, {"name": "raw:v0"})["project"]
    md5_hex = hashlib.md5(b"correct").hexdigest()
    (root / "storage" / "objects" / md5_hex[:2] / md5_hex[2:]).write_bytes(b"CORRUPT")
    (file,) = node["artifactCollectionMembership"]["files"]["edges"]
    return requests.get(file["node"]["directUrl"], timeout=30)


def test_limits_set_in_python_by_name(tmp_path):
    with LocalServer(tmp_path / "root", limits={"max_depth": 3, "graphql_body_bytes": "2000"}) as s:
        deep, big = _refusals(s.base_url, s.api_key)
    assert deep.status_code == 400 and "limit max_depth" in deep.text
    assert big.status_code == 413 and "graphql_body_bytes" in big.text
    bad = {
        "max_cost": (1.5, "a positive integer, not 1.5"),
        "max_depth": ("deep", "a positive integer, not 'deep'"),
        "max_aliases": (True, "a positive integer, not True"),
        "query_seconds": ("inf", "a positive number, not 'inf'"),
        "metadata_bytes": (-1, "a positive integer, not -1"),
    }
    for name, (value, message) in bad.items():
        with pytest.raises(ValueError, match=f"^limit {name} must be {re.escape(message)}$"):
            LocalServer(tmp_path / "other", limits={name: value})
    assert not (tmp_path / "other").exists()  # refused before anything is created


def test_the_help_names_every_limit_and_its_default():
    text = " ".join(run_process(_server("--help")).stdout.split())
    for limit in dataclasses.fields(Limits):
        assert f"{limit.name} (default {limit.default})" in text
    assert "--no-verify-reads" in text


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("max_depth=0", "limit max_depth must be a positive integer, not '0'"),
        ("max_dept=3", "unknown limit 'max_dept'; the limits are: graphql_body_bytes,"),
        ("max_depth", "--limit takes NAME=VALUE, not 'max_depth'"),
    ],
)
def test_a_bad_limit_is_one_line_naming_it(tmp_path, setting, message):
    done = run_process(_server("--root", str(tmp_path / "root"), "--port", "0", "--limit", setting))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert message in line and "Traceback" not in done.stderr
    assert not (tmp_path / "root").exists()  # refused before anything is created
