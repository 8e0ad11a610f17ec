"""``python -m example_project``: materialize the whole example once, and say where it went.

1. Log the ``calibration`` table the way another team would, outside Dagster (a plain
   W&B run), unless it exists already.
2. Run the ``daily`` job for the three most recent days (one artifact version per day).
3. Run the ``main`` job: the reference archive, the model trained on those days, and its
   evaluation against the calibration table.

Uses the Dagster instance of ``$DAGSTER_HOME`` when set (so ``dagster dev`` shows the runs),
else a temporary one.
"""

import os
import sys
from pathlib import Path

from dagster import DagsterInstance

from dagster_wandb_artifacts.client import Artifact

from .definitions import days, defs, wandb


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


def main() -> int:
    if wandb.is_local:
        root = Path(wandb.local_root).resolve()
        print(
            f"Using the embedded W&B-compatible server in {root} (no account needed; set "
            "WANDB_API_KEY to log to W&B instead)."
        )
    else:
        print(f"Logging to W&B at {wandb.host}, project {wandb.project}.")
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    instance = instance or DagsterInstance.ephemeral()
    log_calibration()
    for day in days.get_partition_keys()[-3:]:
        result = defs.get_job_def("daily").execute_in_process(partition_key=day, instance=instance)
        if not result.success:
            return 1
    if not defs.get_job_def("main").execute_in_process(instance=instance).success:
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
        print(
            f"\nBrowse them: dagster-wandb-artifacts server --root {root}  (then open "
            f"{wandb.local_url}/{artifact.entity}/{artifact.project}/artifacts/"
            f"evaluation/evaluation/latest, user 'api', password in {root / 'api-key'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
