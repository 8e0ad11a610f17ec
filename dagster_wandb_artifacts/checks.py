"""Checks of ``wandb_artifact`` metadata before an asset runs, not after.

By default the IO manager checks, when it is set up and before any step body runs, the
metadata the run's job snapshot holds (:func:`check_run`: inputs' ``AssetIn``/``In`` and ops'
``Out`` metadata). An asset's own metadata is not in the snapshot, and Dagster gives an IO
manager no public way to see it before the body: a typo there is reported by
``handle_output``, which logs the value first so the work is kept. ``check_definitions(defs)``
checks everything when the definitions load, so ``dagster definitions validate`` and ``dg
check defs`` report a typo with the asset's name before anything runs. All warn about
``dagster-wandb``'s old key and misspelt top-level keys.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from dagster import DagsterInstance, DagsterRun, Definitions

from .client import InvalidInputError
from .config import (
    LEGACY_KEY,
    METADATA_KEY,
    WandbArtifactConfig,
    WandbInputConfig,
    misspelt_keys,
    parse,
)


class LegacyMetadataWarning(UserWarning):
    """Metadata in ``dagster-wandb``'s format, or under a misspelt key, which this package
    does not read."""


def legacy_key_hint(metadata: Mapping[str, Any] | None, where: str) -> str | None:
    """The migration hint when ``metadata`` uses ``dagster-wandb``'s key, else None."""
    if not metadata or LEGACY_KEY not in metadata:
        return None
    return (
        f"{where}: metadata['{LEGACY_KEY}'] is dagster-wandb's key and is ignored; move its "
        f"options to metadata['{METADATA_KEY}'] (name, type, description, aliases: see the "
        "README's migration section)"
    )


def metadata_problems(
    model: type,
    metadata: Mapping[str, Any] | None,
    where: str,
    serializer_names: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """(errors, warnings) of one asset's or input's metadata: a bad ``wandb_artifact``, an
    unknown serializer (with the names known, when given); the legacy or a misspelt key."""
    warned = [hint] if (hint := legacy_key_hint(metadata, where)) else []
    warned += misspelt_keys(metadata, where)
    try:
        config = parse(model, metadata, where)
    except InvalidInputError as exc:
        return [str(exc)], warned
    name = getattr(config, "serializer", None)
    if serializer_names and name is not None and name not in serializer_names:
        close = difflib.get_close_matches(name, serializer_names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(serializer_names)}"
        return [f"{where}: unknown serializer {name!r} ({hint})"], warned
    return [], warned


def check_run(
    instance: DagsterInstance, run: DagsterRun, serializer_names: Sequence[str]
) -> list[str]:
    """Check the ``wandb_artifact`` metadata of the inputs and op outputs of a run's job, from
    the job snapshot Dagster stored for the run; raises :class:`~.client.InvalidInputError`
    listing each problem, returns the warnings. Called when the IO manager is set up, before
    any step body runs, so a typo costs no work."""
    problems: list[str] = []
    warned: list[str] = []
    snapshot = instance.get_job_snapshot(run.job_snapshot_id)
    for op in snapshot.node_defs_snapshot.op_def_snaps:
        for output in op.output_def_snaps:
            named = f" output {output.name!r}" if output.name != "result" else ""
            where = f"op {op.name!r}{named}"
            errors, warnings_ = metadata_problems(
                WandbArtifactConfig, output.metadata, where, serializer_names
            )
            problems += errors
            warned += warnings_
        for input_def in op.input_def_snaps:
            errors, warnings_ = metadata_problems(
                WandbInputConfig, input_def.metadata, f"op {op.name!r}, input {input_def.name!r}"
            )
            problems += errors
            warned += warnings_
    if problems:
        raise InvalidInputError(
            f"{len(problems)} bad '{METADATA_KEY}' metadata, found before any step ran: "
            + "; ".join(problems)
        )
    return warned


def check_definitions(defs: Definitions) -> Definitions:
    """``defs``, once every ``wandb_artifact`` metadata in it is valid; else an
    :class:`~.client.InvalidInputError` that lists each problem with its asset's name.

    Example::

        defs = check_definitions(Definitions(assets=[...], resources={...}))
    """
    check_all(defs)
    return defs


def check_all(*all_defs: Definitions) -> None:
    """Raise an :class:`~.client.InvalidInputError` listing every bad ``wandb_artifact``
    metadata of ``all_defs`` (and the legacy or misspelt keys beside them, since a failed load
    shows no warning); else warn about those keys (:class:`LegacyMetadataWarning`)."""
    problems: list[str] = []
    warned: list[str] = []
    for defs in all_defs:
        errors, warnings_ = definitions_problems(defs)
        problems += errors
        warned += warnings_
    if problems:
        also = f". Also: {'; '.join(warned)}" if warned else ""
        raise InvalidInputError(
            f"{len(problems)} bad '{METADATA_KEY}' metadata: " + "; ".join(problems) + also
        )
    for hint in warned:
        warnings.warn(hint, LegacyMetadataWarning, stacklevel=3)


def definitions_problems(defs: Definitions) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the ``wandb_artifact`` metadata of ``defs``' assets and their
    inputs, each named by asset."""
    problems: list[str] = []
    warned: list[str] = []

    def check(model: type, metadata: Mapping[str, Any] | None, where: str) -> None:
        errors, warnings_ = metadata_problems(model, metadata, where)
        problems.extend(errors)
        warned.extend(warnings_)

    for assets_def in defs.resolve_asset_graph().assets_defs:
        for spec in assets_def.specs:
            check(WandbArtifactConfig, spec.metadata, f"asset {spec.key.to_user_string()}")
        if not assets_def.is_executable:
            continue
        owner = ", ".join(sorted(key.to_user_string() for key in assets_def.keys))
        for input_def in assets_def.node_def.input_defs:
            where = f"asset {owner}, input {input_def.name!r}"
            check(WandbInputConfig, input_def.metadata, where)
    return problems, warned
