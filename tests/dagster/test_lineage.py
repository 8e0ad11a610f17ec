"""W&B lineage built with the real SDK, seen as Dagster asset specs and sensor observations."""

from __future__ import annotations

from pathlib import Path

from dagster import (
    AssetKey,
    DagsterInstance,
    Definitions,
    MetadataValue,
    asset,
    build_sensor_context,
)

from dagster_wandb_artifacts import WandbArtifactsIOManager
from dagster_wandb_artifacts.lineage import (
    asset_key_for,
    wandb_artifact_sensor,
    wandb_artifact_specs,
)
from dagster_wandb_artifacts.naming import collection_name
from tests.support import sdk_run


def sdk_log(server, name: str, type_name: str, text: str, uses=(), job_type="job", aliases=()):
    import wandb

    run = sdk_run(server, job_type=job_type)
    for used in uses:
        run.use_artifact(f"ent/proj/{used}:latest")
    artifact = wandb.Artifact(name, type=type_name)
    with artifact.new_file("content.txt") as file:
        file.write(text)
    run.log_artifact(artifact, aliases=list(aliases))
    artifact.wait()
    run.finish()


def test_keys_invert_the_io_manager_naming():
    for path in (["raw"], ["warehouse", "raw"], ["a-b", "c d"]):
        assert asset_key_for(collection_name(path)) == AssetKey(path)


def test_specs_deps_and_sensor_from_sdk_lineage(server, resource, wandb_home):
    sdk_log(server, "dataset", "dataset", "rows")
    sdk_log(server, "model", "model", "weights", uses=["dataset"], job_type="train")
    sdk_log(server, "report", "report", "scores", uses=["model"], job_type="evaluate")

    specs = {spec.key: spec for spec in wandb_artifact_specs(resource)}
    assert set(specs) == {AssetKey("dataset"), AssetKey("model"), AssetKey("report")}
    assert specs[AssetKey("model")].deps[0].asset_key == AssetKey("dataset")
    assert [d.asset_key for d in specs[AssetKey("report")].deps] == [AssetKey("model")]
    assert specs[AssetKey("dataset")].deps == []
    model = specs[AssetKey("model")]
    assert model.kinds == {"wandb"}
    assert model.metadata["wandb/type"] == "model" and model.metadata["wandb/version"] == "v0"
    assert model.metadata["wandb/url"].value.endswith("/ent/proj/artifacts/model/model/v0")
    only_models = wandb_artifact_specs(resource, types=["model"])
    assert [s.key for s in only_models] == [AssetKey("model")]

    # A Dagster asset downstream of an external one, in one graph with no node twice.
    @asset(deps=[], ins={})
    def evaluation(model: str) -> int:
        return len(model)

    defs = Definitions(
        assets=[*specs.values(), evaluation],
        resources={"io_manager": WandbArtifactsIOManager(wandb=resource), "wandb": resource},
    )
    graph_keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert {AssetKey("model"), AssetKey("evaluation")} <= graph_keys

    watched = wandb_artifact_sensor(
        resource, list(specs.values()), alias="latest", report_existing=True
    )
    instance = DagsterInstance.ephemeral()

    def evaluate(cursor):
        return watched(build_sensor_context(instance=instance, cursor=cursor))

    first = evaluate(None)
    assert {e.asset_key for e in first.asset_events} == set(specs)  # reported once, as asked
    assert all(
        e.metadata["wandb/url"] == MetadataValue.url(e.metadata["wandb/url"].value)
        for e in first.asset_events
    )
    data_versions = {e.asset_key: e.tags["dagster/data_version"] for e in first.asset_events}
    assert data_versions[AssetKey("model")] == specs[AssetKey("model")].metadata["wandb/digest"]
    assert evaluate(first.cursor).asset_events == []  # no change: nothing

    sdk_log(server, "model", "model", "new weights", uses=["dataset"], job_type="train")
    changed = evaluate(first.cursor)
    assert [e.asset_key for e in changed.asset_events] == [AssetKey("model")]
    # A restart with the saved cursor reports nothing again.
    assert evaluate(changed.cursor).asset_events == []

    from dagster import define_asset_job

    triggering = wandb_artifact_sensor(
        resource, [specs[AssetKey("model")]], name="trigger", job=define_asset_job("retrain")
    )
    baseline = triggering(build_sensor_context(instance=instance))
    # The first tick records what is there: nothing changed, so no run and no event.
    assert baseline.run_requests == [] and baseline.asset_events == []
    sdk_log(server, "model", "model", "newer weights", uses=["dataset"], job_type="train")
    requested = triggering(build_sensor_context(instance=instance, cursor=baseline.cursor))
    assert len(requested.run_requests) == 1
    assert (
        triggering(build_sensor_context(instance=instance, cursor=requested.cursor)).run_requests
        == []
    )

    production = wandb_artifact_sensor(
        resource, [specs[AssetKey("model")]], alias="production", name="production_sensor"
    )

    def evaluate_production(cursor):
        return production(build_sensor_context(instance=instance, cursor=cursor))

    api = resource.get_api()
    v0 = api.artifact("model:v0")
    v0.aliases.append("production")
    v0.save()
    moved_once = evaluate_production(None)
    assert moved_once.asset_events == []  # the baseline
    v1 = api.artifact("model:v1")
    v1.aliases.append("production")
    v1.save()  # the alias moves to v1: one event
    moved = evaluate_production(moved_once.cursor)
    assert [e.metadata["wandb/version"].value for e in moved.asset_events] == ["v1"]
    assert evaluate_production(moved.cursor).asset_events == []


def test_collections_written_by_the_io_manager_are_not_duplicated(server, resource):
    from dagster import materialize

    @asset
    def features() -> list:
        return [1, 2]

    materialize([features], resources={"io_manager": WandbArtifactsIOManager(wandb=resource)})
    sdk_log(server, "scores", "report", "ok", uses=["features"], job_type="score")
    specs = wandb_artifact_specs(resource)
    assert [s.key for s in specs] == [AssetKey("scores")]
    assert [d.asset_key for d in specs[0].deps] == [AssetKey("features")]


def test_new_external_versions_make_downstream_stale_and_eager_react(server, resource):
    from dagster import AutomationCondition, evaluate_automation_conditions, materialize

    sdk_log(server, "detector", "model", "weights v0")
    (spec,) = wandb_artifact_specs(resource)
    sensor_def = wandb_artifact_sensor(resource, [spec])

    @asset(automation_condition=AutomationCondition.eager())
    def scored(detector: Path) -> str:
        return (detector / "content.txt").read_text().upper()

    defs = Definitions(
        assets=[spec, scored], resources={"io_manager": WandbArtifactsIOManager(wandb=resource)}
    )
    instance = DagsterInstance.ephemeral()

    def observe(cursor):
        result = sensor_def(build_sensor_context(instance=instance, cursor=cursor))
        for event in result.asset_events:
            instance.report_runless_asset_event(event)
        return result

    cursor = observe(None).cursor
    assert materialize(
        [spec, scored],
        selection=[scored.key],
        instance=instance,
        resources={"io_manager": WandbArtifactsIOManager(wandb=resource)},
    ).success

    def status() -> str:
        # Dagster's staleness resolver (what the UI shows); it has no public entry point.
        from dagster._core.definitions.data_version import CachingStaleStatusResolver
        from dagster._core.loader import LoadingContextForTest

        resolver = CachingStaleStatusResolver(
            instance, defs.resolve_asset_graph(), LoadingContextForTest(instance)
        )
        return resolver.get_status(AssetKey("scored")).value

    assert status() == "FRESH"
    first = evaluate_automation_conditions(defs=defs, instance=instance)
    quiet = evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert quiet.total_requested == 0

    sdk_log(server, "detector", "model", "weights v1")
    (reported,) = observe(cursor).asset_events  # the new version, as a runless materialization
    assert (
        reported.tags["dagster/data_version"]
        == resource.get_api().artifact("detector:latest").digest
    )
    assert status() == "STALE"
    reacting = evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
    assert reacting.total_requested == 1
    assert reacting.get_requested_partitions(AssetKey("scored")) == {None}
