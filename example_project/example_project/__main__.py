"""``python -m example_project``: materialize the whole example once, and say where it went.

1. Log the ``calibration`` table the way another team would, outside Dagster (a plain
   W&B run), unless it exists already.
2. Run the ``daily`` job for the three most recent days (one artifact version per day).
3. Run the ``main`` job: the reference archive, the model trained on those days, and its
   evaluation against the calibration table.

Runs are recorded in the Dagster instance of ``$DAGSTER_HOME``, by default ``.dagster/`` in
the current folder, so the ``dagster dev`` command printed at the end shows them. The W&B
backend is checked first (a few seconds at most), before anything runs.
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
            partition_key=day, instance=instance
        )
        if not result.success:
            return 1
    if not defs.resolve_job_def("main").execute_in_process(instance=instance).success:
        return 1
    api = wandb.get_api()
    print("\nArtifacts:")
    for name in (
        "sensors.raw_measurements",
        "sensors.cleaned_measurements",
        "sensor_archive",
        "power_model",
        "evaluation",
        "calibration",
    ):
        artifact = api.artifact(f"{name}:latest")
        print(f"  {artifact.qualified_name:<55} {artifact.type:<11} {artifact.digest}")
    if wandb.is_local:
        port = urlsplit(wandb.local_url).port or 80
        print(
            f"\nBrowse them: dagster-wandb-artifacts server --root {root} --port {port}  (then "
            f"open {wandb.local_url}/{artifact.entity}/{artifact.project}/artifacts/"
            f"evaluation/evaluation/latest, user 'api', password in {root / 'api-key'})"
        )
    dagster_url = defs.resources["io_manager"].dagster_url
    print(
        f"See the runs, materializations and lineage in Dagster: "
        f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev -m example_project.definitions "
        f"-p {urlsplit(dagster_url).port or 80}  (then open {dagster_url})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
