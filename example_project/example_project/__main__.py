"""``python -m example_project``: materialize the whole example once, and say where it went.

1. Log the ``calibration`` table the way another team would, outside Dagster (a plain
   W&B run), unless it exists already.
2. Run the ``daily`` job for the three most recent days (one artifact version per day).
3. Run the ``main`` job: the reference archive, the model trained on those days, and its
   evaluation against the calibration table.

Runs are recorded in the Dagster instance of ``$DAGSTER_HOME``, by default ``.dagster/`` in
the current folder, so the ``dg dev`` command printed at the end shows them. The W&B
backend is checked first (a few seconds at most), before anything runs. The console shows
Dagster's INFO events and above (the full log of every run is in the Dagster UI), then a
summary: every artifact with its link, and the commands to browse them, printed with the
executables of this interpreter's environment so that they run as printed.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from dagster import DagsterInstance

from dagster_wandb_artifacts.client import Artifact, WandbError

from .definitions import days, defs, wandb

#: Seconds to wait for the W&B backend before giving up.
CHECK_SECONDS = 5.0
#: The example's console: Dagster's INFO events and above (its DEBUG events stay in the UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
#: The folder of the example's pyproject.toml, the project `dg dev` serves.
PROJECT_DIR = Path(__file__).resolve().parents[1]
#: The collections the example makes, in the order of the pipeline.
COLLECTIONS = (
    "sensors.raw_measurements",
    "sensors.cleaned_measurements",
    "sensor_archive",
    "power_model",
    "evaluation",
    "calibration",
)


#: The folder of this interpreter's console scripts ("../.venv/bin" made absolute, with its
#: symlinks kept: the virtualenv's, not the interpreter it links to).
BIN = Path(os.path.normpath(sys.executable)).parent


def executable(name: str) -> str:
    """A console script of this interpreter's environment, by the path that runs it whether
    or not the environment is activated."""
    return str(BIN / name)


def log_calibration() -> None:
    api = wandb.get_api()
    if api.artifact_exists("calibration:latest"):
        return
    run = api.create_run(job_type="calibrate")
    table = Artifact("calibration", "dataset", description="Offsets measured on the bench.")
    with table.new_file("offsets.json") as file:
        file.write('{"offset": 0.5}')
    run.log_artifact(table)
    run.finish()


def dagster_instance() -> DagsterInstance:
    """``$DAGSTER_HOME``'s instance, made in ``.dagster/`` here when it is not set."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text("# Dagster instance of the example: the defaults (runs stored here).\n")
    return DagsterInstance.get()


def main() -> int:
    if wandb.is_local:
        root = Path(wandb.local_root).resolve()
        print(
            f"Using the embedded W&B-compatible server in {root} (no account needed; set "
            "WANDB_API_KEY to log to W&B instead)."
        )
    else:
        print(
            f"Using W&B at {wandb.host}, project {wandb.project}, because WANDB_API_KEY is set "
            "(unset it to use the embedded server instead)."
        )
    try:
        wandb.check(timeout=CHECK_SECONDS)
    except WandbError as exc:
        print(f"Stopped before running anything: {exc}", file=sys.stderr)
        return 1
    instance = dagster_instance()
    log_calibration()
    for day in days.get_partition_keys()[-3:]:
        result = defs.resolve_job_def("daily").execute_in_process(
            partition_key=day, instance=instance, run_config=QUIET
        )
        if not result.success:
            return 1
    main_job = defs.resolve_job_def("main")
    if not main_job.execute_in_process(instance=instance, run_config=QUIET).success:
        return 1
    print_summary()
    return 0


def print_summary() -> None:
    """Every artifact with its link, then the commands that show them and the runs."""
    api = wandb.get_api()
    print(f"\n=== Done: {len(COLLECTIONS)} artifacts, each with the page that shows it ===")
    for name in COLLECTIONS:
        artifact = api.artifact(f"{name}:latest")
        link = (
            f"{wandb.app_url}/{artifact.entity}/{artifact.project}/artifacts/"
            f"{artifact.type}/{artifact.collection_name}/{artifact.version}"
        )
        print(f"  {artifact.source_name:<36} {artifact.type:<10} {link}")
    if wandb.is_local:
        root = Path(wandb.local_root).resolve()
        port = urlsplit(wandb.local_url).port or 80
        print(
            f"\nThe links open once the artifact server runs (user 'api', password in "
            f"{root / 'api-key'}):\n"
            f"  {executable('dagster-wandb-artifacts')} server --root {root} --port {port}"
        )
    dagster_url = defs.resources["io_manager"].dagster_url
    port = urlsplit(dagster_url).port or 80
    print(
        f"\nThe runs, materializations and lineage in the Dagster UI, at {dagster_url}:\n"
        f"  DAGSTER_HOME={os.environ['DAGSTER_HOME']} {executable('dg')} dev "
        f"--target-path {PROJECT_DIR} -p {port}"
    )
    print(
        f"\n(Or activate the environment first, source {BIN / 'activate'}, "
        "to type the commands by their names.)"
    )


if __name__ == "__main__":
    sys.exit(main())
