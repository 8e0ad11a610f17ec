"""Listings, run filters and the Registry, on a version logged first."""

import os

from dagster_wandb_artifacts.client import Api, Artifact

entity = os.environ["WANDB_ENTITY"]
api = Api(overrides={"entity": entity, "project": "pipelines"})
run = api.create_run(job_type="train", config={"lr": 0.01})
model = Artifact("detector", type="model", metadata={"accuracy": 0.93})
with model.new_file("weights.txt") as file:
    file.write("0.5 0.25")
run.log_artifact(model)
run.finish()
v0 = api.artifact("detector:v0", type="model")

# --8<-- [start:listing]
api.artifact_types(f"{entity}/pipelines")  # ArtifactTypes
api.artifact_type("model", "pipelines").collections()  # ArtifactCollections
collection = api.artifact_collection("model", "pipelines/detector")
collection.tags = ["vision"]
collection.save()
versions = api.artifacts("model", "pipelines/detector", per_page=10)  # newest first
runs = api.runs(
    f"{entity}/pipelines",
    filters={"$and": [{"state": "finished"}, {"config.lr": {"$lt": 0.1}}]},
    order="-created_at",
)
# --8<-- [end:listing]
assert [a.version for a in versions] == ["v0"]
assert [r.id for r in runs] == [run.id]

# --8<-- [start:registry]
registry = api.create_registry(
    "models", visibility="organization", description="Candidates", artifact_types=["model"]
)
v0.link("wandb-registry-models/detector", aliases=["production"])  # type-checked
found = api.registries(filter={"name": {"$regex": "model"}}).collections(
    filter={"name": "detector"}
).versions(filter={"$or": [{"alias": "production"}, {"metadata.accuracy": {"$gt": 0.9}}]})
# --8<-- [end:registry]
assert [v.source_name for v in found] == ["detector:v0"]
print(registry.name, [v.name for v in found])
