"""A chain of 10 small assets: our IO manager against FilesystemIOManager and dagster-wandb.

    python bench/dagster_chain.py [--no-dagster-wandb] [--venv-dir DIR]

All materialize the same chain (bench/chain.py), each on a fresh ephemeral instance, against
one server process. dagster-wandb 0.29.27 cannot share our environment (it needs
``wandb==0.29.0``; we test against 0.31), so it runs in a virtualenv of its own, built on
first use under ``--venv-dir`` and reused afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from chain import timed_materialize
from dagster import FilesystemIOManager
from harness import ServerProcess, print_table, run_json, server_process

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

# dagster-wandb's last release and the last wandb SDK it imports; dagster pinned to the
# release line dagster-wandb 0.29.27 was published with.
DAGSTER_WANDB_REQUIREMENTS = ("dagster-wandb==0.29.27", "wandb==0.29.0", "dagster==1.13.27")
BENCH = Path(__file__).resolve().parent


def default_venv_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "dagster-wandb-artifacts-bench" / "dagster-wandb-0.29.27"


def dagster_wandb_python(venv: Path) -> Path:
    """The venv's interpreter, building the venv first unless a complete one is there."""
    python = venv / "bin" / "python"
    # Written last, so an interrupted build is redone rather than reused half-installed.
    marker = venv / "bench-requirements.txt"
    wanted = "\n".join(DAGSTER_WANDB_REQUIREMENTS)
    if marker.exists() and marker.read_text() == wanted:
        return python
    print(f"building the dagster-wandb virtualenv in {venv} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *DAGSTER_WANDB_REQUIREMENTS], check=True
    )
    marker.write_text(wanted)
    return python


def dagster_wandb_seconds(python: Path, server: ServerProcess, work: Path) -> float:
    # Its own WANDB_* folders, so nothing leaks into the home folder or between runs.
    env = dict(os.environ, WANDB_BASE_URL=server.base_url, WANDB_API_KEY=server.api_key)
    env.update(WANDB_SILENT="true", WANDB_CONSOLE="off")
    for variable in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        (work / variable).mkdir(parents=True)
        env[variable] = str(work / variable)
    return run_json([str(python), str(BENCH / "dagster_wandb_chain.py"), str(work)], env)["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-dagster-wandb", action="store_true", help="skip dagster-wandb")
    parser.add_argument("--venv-dir", type=Path, default=default_venv_dir())
    args = parser.parse_args()
    python = None if args.no_dagster_wandb else dagster_wandb_python(args.venv_dir)
    with (
        tempfile.TemporaryDirectory(prefix="chain-bench-") as tmp,
        server_process(Path(tmp) / "server") as server,
    ):
        work = Path(tmp)
        filesystem = timed_materialize(
            {"io_manager": FilesystemIOManager(base_dir=str(work / "fs"))}
        )
        wandb = WandbArtifactsResource(
            host=server.base_url, api_key=server.api_key, entity="bench", project="chain"
        )
        ours = timed_materialize({"io_manager": WandbArtifactsIOManager(wandb=wandb)})
        again = timed_materialize({"io_manager": WandbArtifactsIOManager(wandb=wandb)})
        theirs = None if python is None else dagster_wandb_seconds(python, server, work / "dw")
    rows: list[list[object]] = [
        ["FilesystemIOManager", filesystem, 1.0, None],
        ["WandbArtifactsIOManager", ours, ours / filesystem, None],
        ["WandbArtifactsIOManager, unchanged re-run", again, again / filesystem, None],
    ]
    if theirs is not None:
        for row in rows:
            row[3] = row[1] / theirs
        rows.append(["dagster-wandb 0.29.27 (wandb 0.29.0)", theirs, theirs / filesystem, 1.0])
    print_table(["io manager", "s", "/ FilesystemIOManager", "/ dagster-wandb"], rows)


if __name__ == "__main__":
    main()
