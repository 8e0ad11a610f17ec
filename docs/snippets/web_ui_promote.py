"""Promote a version through the web UI's form, as a browser does, and read the link back
with the client: the form runs the same mutation as the SDK's ``link``."""

import os
import re

import requests

from dagster_wandb_artifacts.client import Api, Artifact

base_url, key = os.environ["WANDB_BASE_URL"], os.environ["WANDB_API_KEY"]
entity, project = os.environ["WANDB_ENTITY"], os.environ["WANDB_PROJECT"]
api = Api(overrides={"base_url": base_url, "entity": entity, "project": project})

run = api.create_run(job_type="train")
model = Artifact("churn-model", "model")
with model.new_file("weights.txt") as file:
    file.write("0.5")
version = run.log_artifact(model)
run.finish()

page_url = f"{base_url}/{entity}/{project}/artifacts/model/churn-model/{version.version}"
page = requests.get(page_url, auth=("api", key), timeout=30).text
csrf_token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)[1]
form = {"csrf_token": csrf_token, "registry": "model", "collection": "churn"}
form["aliases"] = "production"  # comma-separated, as typed in the dialog
done = requests.post(f"{page_url}/actions/link", data=form, auth=("api", key), timeout=30)
assert done.ok and "/registry/model" in done.url  # the registry page shows the new link

promoted = api.artifact("wandb-registry-model/churn:production")
assert promoted.digest == version.digest and "production" in promoted.aliases
print("promoted:", promoted.name, promoted.aliases)
