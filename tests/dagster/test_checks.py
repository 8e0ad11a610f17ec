"""``wandb_artifact`` metadata is checked when the definitions load: ``dagster definitions
validate`` names the asset with a typo, and ``dagster-wandb``'s old key is warned about."""

from __future__ import annotations

import textwrap

import pytest
from dagster import AssetIn, Definitions, asset, materialize

from dagster_wandb_artifacts import WandbArtifactsIOManager, check_definitions
from dagster_wandb_artifacts.checks import LegacyMetadataWarning
from dagster_wandb_artifacts.client import InvalidInputError
from tests.support import run_process, tool

TYPO = """
import dagster as dg
from dagster_wandb_artifacts import check_definitions


@dg.asset(metadata={"wandb_artifact": {"type": "model", "aliase": ["best"]}})
def trained_model() -> dict:
    return {}


defs = check_definitions(dg.Definitions(assets=[trained_model]))
"""


def test_dagster_definitions_validate_names_the_asset_with_a_typo(tmp_path):
    (tmp_path / "defs.py").write_text(textwrap.dedent(TYPO))
    done = run_process([tool("dagster"), "definitions", "validate", "-f", "defs.py"], cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "asset trained_model: bad metadata['wandb_artifact']: aliase" in output


def test_every_input_and_asset_is_checked_and_the_old_key_is_warned_about():
    @asset(metadata={"wandb_artifact": {"type": "bad type!"}})
    def raw() -> int:
        return 1

    @asset(ins={"raw": AssetIn(metadata={"wandb_artifact": {"alais": "v1"}})})
    def cleaned(raw: int) -> int:
        return raw

    with pytest.raises(InvalidInputError) as raised:
        check_definitions(Definitions(assets=[raw, cleaned]))
    assert "2 bad 'wandb_artifact' metadata" in str(raised.value)
    assert "asset raw: bad metadata['wandb_artifact']: type" in str(raised.value)
    assert "asset cleaned, input 'raw': bad metadata['wandb_artifact']: alais" in str(raised.value)

    @asset(metadata={"wandb_artifact_configuration": {"aliases": ["x"]}})
    def legacy() -> int:
        return 1

    with pytest.warns(
        LegacyMetadataWarning, match="move its options to metadata\\['wandb_artifact'\\]"
    ):
        assert check_definitions(Definitions(assets=[legacy])).assets == [legacy]


def test_the_io_manager_warns_about_the_old_key_in_the_step_log(resource):
    from dagster import DagsterInstance

    @asset(metadata={"wandb_artifact_configuration": {"aliases": ["x"]}})
    def legacy() -> int:
        return 1

    instance = DagsterInstance.ephemeral()
    result = materialize(
        [legacy],
        resources={"io_manager": WandbArtifactsIOManager(wandb=resource)},
        instance=instance,
    )
    assert result.success
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30]
    assert any("'wandb_artifact_configuration'] is dagster-wandb's key" in w for w in warnings)
