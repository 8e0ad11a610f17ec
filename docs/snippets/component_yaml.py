"""The Component's defs.yaml of the lineage page (component_defs.yaml): every attribute
resolves, and the definitions hold what it declares, without calling W&B."""

from pathlib import Path

import dagster as dg
import yaml

from dagster_wandb_artifacts import WandbArtifactsComponent

document = yaml.safe_load((Path(__file__).parent / "component_defs.yaml").read_text())
assert document["type"] == "dagster_wandb_artifacts.WandbArtifactsComponent"
component = WandbArtifactsComponent.resolve_from_yaml(yaml.safe_dump(document["attributes"]))
defs = component.build_defs(dg.ComponentTree.for_test().load_context)
keys = {spec.key.to_user_string() for spec in defs.assets}
assert keys == {"labels", "models/detector"}, keys
assert [sensor.name for sensor in defs.sensors] == ["wandb_artifact_sensor"]
assert component.resource().local_root == ".wandb-artifacts"
print(sorted(keys))
