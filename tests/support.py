"""Helpers for tests: the real wandb SDK pointed at a server, and raw GraphQL requests."""

from __future__ import annotations

import ctypes
import os
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from bench.harness import sdk_settings
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


#: ``dagster-wandb-artifacts``, the console script, run from this interpreter.
CLI = [sys.executable, "-m", "dagster_wandb_artifacts.server.cli"]


def tool(name: str) -> str:
    """The path of a console script of this virtualenv (``dagster``, ``dg``...)."""
    return str(Path(sys.executable).with_name(name))


def run_process(
    argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run a command to its end (bounded); its exit code and text output, for the test to
    judge."""
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def start_process(
    argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Start a long-running command (a server) with its output readable line by line."""
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def run_tool(name: str, *args: str, cwd: Path, env: dict[str, str]) -> str:
    """Run a console script of this virtualenv (``dagster``, ``dg``...); its whole output."""
    done = run_process([tool(name), *args], cwd=cwd, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return done.stdout if name == "dg" else output


def run_example(cwd: Path, **extra_env: str) -> str:
    """``python -m example_project``, as the README runs it, on the embedded server (no W&B key
    in the environment); its whole output."""
    env = {k: v for k, v in os.environ.items() if k not in ("WANDB_API_KEY", "DAGSTER_HOME")}
    env["PYTHONPATH"] = os.pathsep.join([str(EXAMPLE), env.get("PYTHONPATH", "")])
    env.update(extra_env)
    return run_tool("python", "-m", "example_project", cwd=cwd, env=env)


class Lines:
    """A progress sink (what ``reporting_to`` takes) that keeps what it is told."""

    def __init__(self) -> None:
        self.infos: list[str] = []
        self.warnings: list[str] = []

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)

    def info(self, msg: str) -> None:
        self.infos.append(msg)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_line(process: subprocess.Popen, marker: str, timeout: float) -> str:
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


@contextmanager
def server_process(root: Path, port: int, api_key: str) -> Iterator[subprocess.Popen]:
    """``dagster-wandb-artifacts server`` in a process of its own, so a test can kill it
    mid-transfer the way a server dies."""
    env = {**os.environ, "WANDB_API_KEY": api_key}
    process = start_process(
        [*CLI, "server", "--root", str(root), "--port", str(port)],
        env=env,
    )
    try:
        wait_for_line(process, "artifact server on", timeout=60)
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


_IN_MODIFY = 0x2  # <sys/inotify.h>: a file in the watched folder was written
_INOTIFY_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name


def _watch_writes(folders: list[Path]) -> tuple[int, dict[int, Path]]:
    """An inotify descriptor that turns readable when a file in ``folders`` is written, and
    the folder of each of its watches."""
    libc = ctypes.CDLL(None, use_errno=True)
    descriptor = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
    if descriptor < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    watches = {}
    for folder in folders:
        watch = libc.inotify_add_watch(descriptor, os.fsencode(folder), _IN_MODIFY)
        if watch < 0:
            os.close(descriptor)
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder}")
        watches[watch] = folder
    return descriptor, watches


def _written_files(descriptor: int, watches: dict[int, Path]) -> Iterator[Path]:
    buffer = os.read(descriptor, 64 * 1024)
    offset = 0
    while offset < len(buffer):
        watch, _, _, length = _INOTIFY_EVENT.unpack_from(buffer, offset)
        offset += _INOTIFY_EVENT.size
        yield watches[watch] / os.fsdecode(buffer[offset : offset + length].rstrip(b"\0"))
        offset += length


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # received and moved away meanwhile
        return 0


def kill_once_an_upload_starts(
    process: subprocess.Popen, root: Path, min_bytes: int = 1024**2
) -> threading.Thread:
    """A thread that kills the server process as soon as an upload has put ``min_bytes`` in
    its staging folder: the server dies in the middle of a big file's transfer (small files
    sent before it pass). The kernel reports the server's writes (inotify, watched from
    before this returns), so the kill follows at once."""
    staging = root / "staging"

    def receiving(path: Path) -> bool:
        return path.name.startswith("upload-") and _size(path) >= min_bytes

    # Staging files are per server process (a subfolder, made as the server started).
    descriptor, watches = _watch_writes([f for f in staging.iterdir() if f.is_dir()])

    # Readable once the server has exited: nothing more to wait for then.
    exited = os.pidfd_open(process.pid)

    def kill_when_receiving() -> None:
        deadline = time.monotonic() + 120
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(descriptor, selectors.EVENT_READ)
                selector.register(exited, selectors.EVENT_READ)
                # Bytes that landed before the watch began are seen on disk.
                if any(map(receiving, staging.rglob("upload-*"))):
                    process.kill()
                    return
                while ready := selector.select(deadline - time.monotonic()):
                    if any(key.fd == exited for key, _ in ready):
                        return
                    if any(map(receiving, _written_files(descriptor, watches))):
                        process.kill()
                        return
        finally:
            os.close(descriptor)
            os.close(exited)

    thread = threading.Thread(target=kill_when_receiving, daemon=True)
    thread.start()
    return thread


def seed_big_collection(store: Any, versions: int, files: int, consumers: int = 0) -> None:
    """``ent/big``: a collection ``many`` of ``versions`` committed versions, the newest
    (``latest``) with ``files`` files in 100 folders, logged by run ``producer`` and used by
    ``consumers`` runs that each log a version of ``out``: the scale the web UI must page.
    Written straight into the store, since logging that much through the API takes minutes."""
    project = store.ensure_project("ent", "big")
    type_row = store.ensure_type(project["id"], "dataset")
    sequence = store.ensure_sequence(project["id"], type_row, "many")
    outputs = store.ensure_sequence(project["id"], type_row, "out")
    producer, _ = store.upsert_run("ent", "big", "producer", {"job_type": "prepare"})

    def add_version(collection_id: int, index: int, run_id: int) -> int:
        cursor = db.execute(
            "INSERT INTO artifacts (sequence_id, type_id, digest, digest_algorithm, state, "
            "created_by_run_id, created_at, updated_at) "
            "VALUES (?, ?, ?, 'MANIFEST_MD5', 'COMMITTED', ?, '2026', '2026')",
            (collection_id, type_row["id"], f"{collection_id}-{index:030x}", run_id),
        )
        db.execute(
            "INSERT INTO memberships (collection_id, artifact_id, version_index, created_at) "
            "VALUES (?, ?, ?, '2026')",
            (collection_id, cursor.lastrowid, index),
        )
        return cursor.lastrowid

    with store.write() as db:
        for index in range(versions):
            last = add_version(sequence["id"], index, producer["id"])
        db.execute(
            "INSERT INTO aliases (collection_id, artifact_id, alias) VALUES (?, ?, 'latest')",
            (sequence["id"], last),
        )
        db.executemany(
            "INSERT INTO artifact_files (artifact_id, name, md5, size) VALUES (?, ?, ?, 1)",
            ((last, f"shard-{i % 100:03d}/part-{i:06d}.bin", f"{i:032x}") for i in range(files)),
        )
        for index in range(consumers):
            run, _ = store.upsert_run("ent", "big", f"consumer-{index}", {"job_type": "train"})
            db.execute(
                "INSERT INTO artifact_uses (run_id, artifact_id, created_at) VALUES (?, ?, '2026')",
                (run["id"], last),
            )
            add_version(outputs["id"], index, run["id"])
