"""The benchmark chain through dagster-wandb's IO manager; runs in dagster-wandb's own venv.

    WANDB_BASE_URL=... WANDB_API_KEY=... python bench/dagster_wandb_chain.py WORK_DIR REPEAT

``bench/dagster_chain.py`` builds that venv and starts this. It prints the median seconds of
REPEAT materializations, each into a project of its own, as JSON; the W&B run files and
dagster-wandb's download cache go to WORK_DIR.
"""

from __future__ import annotations

import json
import os
import sys

from chain import median_materialize
from dagster import make_values_resource
from dagster_wandb import wandb_artifacts_io_manager, wandb_resource


def resources(work: str, index: int) -> dict[str, object]:
    return {
        "wandb_config": make_values_resource(entity=str, project=str).configured(
            {"entity": "bench", "project": f"dagster-wandb-{index}"}
        ),
        "wandb_resource": wandb_resource.configured(
            {"api_key": {"env": "WANDB_API_KEY"}, "host": os.environ["WANDB_BASE_URL"]}
        ),
        "io_manager": wandb_artifacts_io_manager.configured({"base_dir": work}),
    }


def main() -> None:
    work, repeat = sys.argv[1], int(sys.argv[2])
    seconds = median_materialize(lambda index: resources(work, index), repeat)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
