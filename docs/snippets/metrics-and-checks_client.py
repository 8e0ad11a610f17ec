"""A run's metrics with the client alone: log rows, set the summary, read them back."""

import os

from dagster_wandb_artifacts.client import Api

api = Api(
    {"base_url": os.environ["WANDB_BASE_URL"], "entity": os.environ["WANDB_ENTITY"]},
    api_key=os.environ["WANDB_API_KEY"],
)
run = api.create_run(project=os.environ["WANDB_PROJECT"], job_type="train")
for epoch in range(100):
    run.log({"loss": 1 / (epoch + 1), "epoch": epoch})  # batched through the file stream
run.summary.update({"best_loss": 0.01})  # saved now
run.finish()  # sends what is left, marks the run finished

again = api.run("/".join(run.path))
assert again.summary["loss"] == 1 / 100 and again.summary.best_loss == 0.01
assert len(again.history(samples=10, pandas=False)) == 10  # sampled
assert [row["epoch"] for row in again.scan_history(keys=["epoch"])] == list(range(100))
print(again.url)
