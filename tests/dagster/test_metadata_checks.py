"""Checks by default: a typo in ``wandb_artifact`` metadata fails the run before any asset
body runs (the work is not lost), with "did you mean"; misspelt and legacy keys warn."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import (
    AssetIn,
    DagsterInstance,
    DagsterResourceFunctionError,
    asset,
    materialize,
)

from dagster_wandb_artifacts.client import InvalidInputError


def _marking(marker: Path, **decorator):
    """An asset whose body writes ``marker``: proof that its work ran."""

    @asset(**decorator)
    def marked() -> int:
        marker.write_text("ran")
        return 1

    return marked


@pytest.mark.parametrize(
    ("metadata", "expected", "fixed"),
    [
        ({"tpye": "model"}, "tpye: unknown key (did you mean 'type'?)", {"type": "model"}),
        ({"alais": ["x"]}, "alais: unknown key (did you mean 'aliases'?)", {"aliases": ["x"]}),
        (
            {"serializer": "jsn", "description": "kept"},
            "unknown serializer 'jsn' (did you mean 'json'?)",
            {"serializer": "json", "description": "kept"},
        ),
    ],
)
def test_an_asset_metadata_typo_keeps_the_work_and_fails_the_step(
    resources, api, server, tmp_path, metadata, expected, fixed
):
    """Dagster has no public route to an asset's own metadata before its body runs: the
    value is logged under the valid settings, the step fails with "did you mean", and the
    re-run with the fixed metadata uploads nothing new."""
    marker = tmp_path / "ran"
    typo = _marking(marker, name="typo", metadata={"wandb_artifact": metadata})

    with pytest.raises(InvalidInputError) as caught:
        materialize([typo], resources=resources)
    assert expected in str(caught.value) and "asset typo" in str(caught.value)
    assert "logged anyway" in str(caught.value)
    assert marker.exists()  # the body ran once...
    kept = api.artifact("typo:latest")  # ...and its value is in W&B
    if "description" in metadata:
        assert kept.description == "kept"
    puts = server.requests["PUT object"]
    fixed_asset = _marking(marker, name="typo", metadata={"wandb_artifact": fixed})
    assert materialize([fixed_asset], resources=resources).success
    assert server.requests["PUT object"] == puts  # the same files: nothing uploaded again
    assert api.artifact("typo:latest").digest == kept.digest


def test_definitions_check_finds_an_asset_typo_before_anything_runs(tmp_path):
    from dagster import Definitions

    from dagster_wandb_artifacts import check_definitions

    typo = _marking(tmp_path / "ran", name="typo", metadata={"wandb_artifact": {"tpye": "x"}})
    with pytest.raises(InvalidInputError, match="did you mean 'type'"):
        check_definitions(Definitions(assets=[typo]))


def test_an_input_typo_fails_before_the_body_runs(resources, tmp_path):
    marker = tmp_path / "ran"
    source = _marking(tmp_path / "source-ran", name="source")

    @asset(ins={"source": AssetIn(metadata={"wandb_artifact": {"get_pth": "x"}})})
    def reader(source: int) -> int:
        marker.write_text("ran")
        return source

    with pytest.raises(DagsterResourceFunctionError) as caught:
        materialize([source, reader], resources=resources)
    assert isinstance(caught.value.__cause__, InvalidInputError)
    assert "did you mean 'get_path'" in str(caught.value.__cause__)
    assert "before any step ran" in str(caught.value.__cause__)
    assert not marker.exists() and not (tmp_path / "source-ran").exists()


def test_misspelt_and_legacy_top_level_keys_warn_at_run_time(resources, api, tmp_path):
    misspelt = _marking(
        tmp_path / "a", name="misspelt", metadata={"wandb_artifacts": {"type": "model"}}
    )
    legacy = _marking(
        tmp_path / "b",
        name="legacy",
        metadata={"wandb_artifact_configuration": {"type": "model"}},
    )
    instance = DagsterInstance.ephemeral()
    result = materialize([misspelt, legacy], resources=resources, instance=instance)
    assert result.success  # the keys are not read: a warning, and the defaults apply
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30]
    assert any("metadata['wandb_artifacts'] is not read: did you mean" in w for w in warnings)
    assert any("'wandb_artifact_configuration'] is dagster-wandb's key" in w for w in warnings)
    assert api.artifact("misspelt:latest").type == "dataset"
