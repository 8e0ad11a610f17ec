"""A chain of 10 small assets: our IO manager against FilesystemIOManager and dagster-wandb.

    python bench/dagster_chain.py [--no-dagster-wandb] [--venv-dir DIR] [--repeat 3]

All materialize the same chain (bench/chain.py), each on a fresh ephemeral instance, against
one server process; each time is the median of --repeat materializations. dagster-wandb
0.29.27 cannot share our environment (it needs ``wandb==0.29.0``; we test against 0.31), so
it runs in a virtualenv of its own, built on first use under ``--venv-dir`` and reused.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from chain import interleaved_medians, median_materialize
from dagster import FilesystemIOManager
from harness import ServerProcess, report, run_json, server_process

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


def dagster_wandb_seconds(
    python: Path, server: ServerProcess, work: Path, repeat: int
) -> float | None:
    """Seconds of its materialization, or None when it failed (its error is on stderr)."""
    # Its own WANDB_* folders, so nothing leaks into the home folder or between runs.
    env = dict(os.environ, WANDB_BASE_URL=server.base_url, WANDB_API_KEY=server.api_key)
    env.update(WANDB_SILENT="true", WANDB_CONSOLE="off")
    for variable in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        (work / variable).mkdir(parents=True)
        env[variable] = str(work / variable)
    command = [str(python), str(BENCH / "dagster_wandb_chain.py"), str(work), str(repeat)]
    try:
        return run_json(command, env)["seconds"]
    except subprocess.CalledProcessError:
        # The other rows still stand; a failure against our server is a finding to report.
        print("dagster-wandb failed against our server: see its traceback above", file=sys.stderr)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-dagster-wandb", action="store_true", help="skip dagster-wandb")
    parser.add_argument("--venv-dir", type=Path, default=default_venv_dir())
    parser.add_argument("--repeat", type=int, default=3, help="materializations per median")
    args = parser.parse_args()
    python = None if args.no_dagster_wandb else dagster_wandb_python(args.venv_dir)
    with (
        tempfile.TemporaryDirectory(prefix="chain-bench-") as tmp,
        server_process(Path(tmp) / "server") as server,
    ):
        work = Path(tmp)

        def filesystem_io(index: int) -> dict[str, object]:
            return {"io_manager": FilesystemIOManager(base_dir=str(work / f"fs-{index}"))}

        def ours_io(project: str) -> dict[str, object]:
            wandb = WandbArtifactsResource(
                host=server.base_url, api_key=server.api_key, entity="bench", project=project
            )
            return {"io_manager": WandbArtifactsIOManager(wandb=wandb)}

        # Dagster's first materialization in a process pays its warm-up: not in any median.
        median_materialize(filesystem_io, 1)
        # A project per round for the first runs, so each logs new versions; then each round
        # re-runs round 0's project unchanged, logging none.
        medians = interleaved_medians(
            {
                "filesystem": filesystem_io,
                "ours": lambda index: ours_io(f"chain-{index}"),
                "again": lambda index: ours_io("chain-0"),
            },
            args.repeat,
        )
        filesystem, ours, again = (medians[name] for name in ("filesystem", "ours", "again"))
        theirs = (
            None
            if python is None
            else dagster_wandb_seconds(python, server, work / "dw", args.repeat)
        )
    # The reference of each ratio column is left blank in its own row (it would be 1).
    rows: list[list[object]] = [
        ["FilesystemIOManager", filesystem, None, None, None, None],
        ["WandbArtifactsIOManager", ours, ours / filesystem, None, "<= 1.5", "<= 0.2"],
        ["WandbArtifactsIOManager, unchanged re-run", again, again / filesystem, None, None, None],
    ]
    if theirs is not None:
        for row in rows:
            row[3] = row[1] / theirs
        rows.append(
            ["dagster-wandb 0.29.27 (wandb 0.29.0)", theirs, theirs / filesystem] + [None] * 3
        )
    elif python is not None:
        rows.append(["dagster-wandb 0.29.27 (wandb 0.29.0)", "failed"] + [None] * 4)
    ratios = ["/ FilesystemIOManager", "/ dagster-wandb"]
    report(
        ["io manager", "s", *ratios, *(f"target {ratio}" for ratio in ratios)],
        rows,
        summary=ratios,
    )


if __name__ == "__main__":
    main()
