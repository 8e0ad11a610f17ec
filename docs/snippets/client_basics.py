"""The client: log a version, fetch it by alias, download it, change its aliases, make the
next version from it. Server and key come from WANDB_BASE_URL and WANDB_API_KEY."""

import os
from pathlib import Path

Path("data").mkdir()
Path("data/rows.csv").write_text("x,y\n1,2\n2,4\n")

# --8<-- [start:log]
from dagster_wandb_artifacts.client import Api, Artifact

api = Api(overrides={"entity": os.environ["WANDB_ENTITY"], "project": "demo"})
run = api.create_run(job_type="prepare")
artifact = Artifact("dataset", type="dataset", metadata={"rows": 2})
artifact.add_dir("data/")
run.log_artifact(artifact, aliases=["best"])
run.finish()

v0 = api.artifact("dataset:best")
folder = v0.download()  # ./artifacts/dataset:v0, through the shared cache
v0.aliases.append("prod")
v0.save()
draft = v0.new_draft()  # incremental: only changed files are uploaded
# --8<-- [end:log]

assert v0.version == "v0" and (Path(folder) / "rows.csv").read_text().startswith("x,y")
assert set(api.artifact("dataset:prod").aliases) >= {"best", "prod", "latest"}
assert "rows.csv" in draft.manifest.entries
print(v0.qualified_name, v0.digest)
