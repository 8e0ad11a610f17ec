"""Services the distributed tests start as processes of their own: PostgreSQL, Redis, the
artifact server on S3, a Dask cluster and Celery workers. Each start is bounded, each process
is stopped at the end, and each worker gets its own HOME, W&B cache and temp folder."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.harness import stop_process
from tests.support import free_port, tool

REPO = Path(__file__).parents[2]
#: Seconds a service may take to start or stop.
START_SECONDS = 90


class Output:
    """A process's output, read by a thread as it comes (a pipe left unread would block the
    process once full), kept for the test to wait on and to show when something fails."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<exited>")
            self._changed.notify_all()

    def wait_for(self, marker: str, timeout: float = START_SECONDS) -> None:
        """Until a line contains ``marker`` (bounded); fails with the output so far."""
        with self._changed:
            seen = self._changed.wait_for(
                lambda: any(marker in line for line in self.lines) or "<exited>" in self.lines,
                timeout=timeout,
            )
            if not seen or not any(marker in line for line in self.lines):
                raise AssertionError(f"{marker!r} not seen:\n{''.join(self.lines)[-3000:]}")


def launch(argv: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Output]:
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, Output(process)


# PostgreSQL ----------------------------------------------------------------------------------


@dataclass
class Postgres:
    port: int
    user: str = "dagster"
    database: str = "postgres"

    def storage_config(self) -> dict:
        # The driver named: SQLAlchemy 2.1 takes a bare postgresql:// for psycopg 3, while
        # dagster-postgres installs psycopg2.
        url = f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"
        return {"postgres_url": url}


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's ``postgres`` user."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    # Outside pytest's tmp dir, which only root can enter.
    data = Path(tempfile.mkdtemp(prefix="dist-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(data, owner.pw_uid, owner.pw_gid)
    port = free_port()
    try:
        subprocess.run(
            _as_postgres_user(
                [str(binaries / "initdb"), "-D", str(data / "db"), "-U", "dagster"]
                + ["--auth=trust", "--no-sync", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data} "
            "-c fsync=off -c shared_buffers=16MB -c max_connections=100"
        )
        subprocess.run(
            _as_postgres_user(
                [str(binaries / "pg_ctl"), "-D", str(data / "db"), "-o", options]
                + ["-l", str(data / "log"), "-w", "-t", str(START_SECONDS), "start"]
            ),
            check=True,
            capture_output=True,
            timeout=START_SECONDS + 10,
        )
        try:
            yield Postgres(port)
        finally:
            subprocess.run(
                _as_postgres_user(
                    [str(binaries / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop"]
                ),
                capture_output=True,
                timeout=START_SECONDS,
                check=False,
            )
    finally:
        shutil.rmtree(data, ignore_errors=True)


# Redis ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def redis(folder: Path) -> Iterator[str]:
    """A Redis on a free loopback port, nothing persisted; its URL."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    process, output = launch(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        + ["--appendonly", "no", "--dir", str(folder)]
    )
    try:
        output.wait_for("Ready to accept connections")
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_process(process)


# The artifact server -------------------------------------------------------------------------


@dataclass
class ArtifactServer:
    base_url: str
    api_key: str
    root: Path
    process: subprocess.Popen
    output: Output


@contextlib.contextmanager
def artifact_server(root: Path, storage: str, s3_endpoint: str) -> Iterator[ArtifactServer]:
    """``dagster-wandb-artifacts server`` in its own process: database under ``root``, file
    bytes at ``storage`` (an s3:// URL on moto's server)."""
    import secrets

    api_key = secrets.token_hex(20)
    port = free_port()
    env = {
        **os.environ,
        "WANDB_API_KEY": api_key,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
    }
    process, output = launch(
        [tool("dagster-wandb-artifacts"), "server", "--root", str(root), "--port", str(port)]
        + ["--storage", storage],
        env=env,
    )
    try:
        output.wait_for("artifact server on")
        yield ArtifactServer(f"http://127.0.0.1:{port}", api_key, root, process, output)
    finally:
        stop_process(process)


# Workers -------------------------------------------------------------------------------------


@dataclass
class Worker:
    """A worker process and the folders that are its alone."""

    name: str
    home: Path
    process: subprocess.Popen | None = None
    output: Output | None = None

    @property
    def cache(self) -> Path:
        return self.home / "wandb-cache"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cached_versions(self) -> set[str]:
        """Manifest digests of the versions whose files this worker's cache took in."""
        folder = self.cache / "artifacts" / "versions"
        return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


def worker_env(worker: Worker, server: ArtifactServer) -> dict[str, str]:
    """The environment of a worker: the server's URL and key, and folders of its own."""
    for folder in ("home", "wandb-cache", "tmp", "wandb", "wandb-config", "wandb-data"):
        (worker.home / folder).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "DAGSTER_"))}
    env.update(
        HOME=str(worker.home / "home"),
        TMPDIR=str(worker.home / "tmp"),
        WANDB_CACHE_DIR=str(worker.cache),
        WANDB_DIR=str(worker.home / "wandb"),
        WANDB_CONFIG_DIR=str(worker.home / "wandb-config"),
        WANDB_DATA_DIR=str(worker.home / "wandb-data"),
        WANDB_ARTIFACT_DIR=str(worker.home / "wandb" / "artifacts"),
        WANDB_BASE_URL=server.base_url,
        WANDB_API_KEY=server.api_key,
        WANDB_SILENT="true",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
    )
    return env


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[Worker] = field(default_factory=list)


@contextlib.contextmanager
def dask_cluster(folder: Path, server: ArtifactServer, count: int = 2) -> Iterator[DaskCluster]:
    """A scheduler and ``count`` single-threaded workers, each a process (no nanny: the pid
    Dagster records for a step is the worker's)."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    # A step whose worker dies fails the run (KilledWorker) rather than being re-run quietly on
    # the other worker.
    dask_env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    scheduler, output = launch(
        [tool("dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port)]
        + ["--no-dashboard", "--no-show"],
        env=dask_env,
    )
    cluster = DaskCluster(address, scheduler)
    try:
        output.wait_for("Scheduler at")
        for index in range(count):
            worker = Worker(f"dask-{index}", folder / f"dask-{index}")
            env = worker_env(worker, server)
            worker.process, worker.output = launch(
                [tool("dask"), "worker", address, "--nthreads", "1", "--no-nanny"]
                + ["--no-dashboard", "--host", "127.0.0.1", "--name", worker.name]
                + ["--local-directory", str(worker.home / "dask"), "--memory-limit", "0"],
                env=env,
            )
            cluster.workers.append(worker)
        with Client(address, timeout=START_SECONDS) as client:
            client.wait_for_workers(count, timeout=START_SECONDS)
        yield cluster
    finally:
        for worker in cluster.workers:
            if worker.process is not None:
                stop_process(worker.process)
        stop_process(scheduler)


@contextlib.contextmanager
def celery_workers(
    folder: Path,
    server: ArtifactServer,
    broker: str,
    count: int = 2,
    pool: str = "solo",
    settings: dict[str, object] | None = None,
) -> Iterator[list[Worker]]:
    """``count`` Celery workers of dagster-celery's app, each running one task at a time. The
    solo pool runs it in the worker's process (the pid Dagster records for a step is the
    worker's); the prefork pool in a child the worker watches and replaces. ``settings``
    are Celery settings of the workers (dagster-celery's app reads them from a module named
    ``dagster_celery_config`` on the path)."""
    workers = []
    try:
        for index in range(count):
            worker = Worker(f"celery-{index}", folder / f"celery-{index}")
            env = worker_env(worker, server)
            if settings:
                config = worker.home / "config"
                config.mkdir(exist_ok=True)
                lines = [f"{name} = {value!r}\n" for name, value in settings.items()]
                (config / "dagster_celery_config.py").write_text("".join(lines))
                env["PYTHONPATH"] = os.pathsep.join([str(config), env["PYTHONPATH"]])
            worker.process, worker.output = launch(
                [tool("celery"), "-A", "dagster_celery.app", "-b", broker, "--result-backend"]
                + [broker, "worker", "--pool", pool, "--concurrency", "1"]
                + ["--prefetch-multiplier", "1", "-Q", "dagster", "-n", f"{worker.name}@%h"]
                + ["--without-gossip", "--without-mingle", "--without-heartbeat"]
                + ["--loglevel", "INFO"],
                env=env,
            )
            workers.append(worker)
        for worker in workers:
            assert worker.output is not None
            worker.output.wait_for("ready.")
        yield workers
    finally:
        for worker in workers:
            if worker.process is not None:
                stop_process(worker.process)
