"""Checks of ``wandb_artifact`` metadata when the definitions load, not after an asset ran.

``check_definitions(defs)`` validates every asset's and every input's ``wandb_artifact``
metadata, so ``dagster definitions validate`` and ``dg check defs`` report a typo with the
asset's name before anything runs, and warns about ``dagster-wandb``'s old key.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from dagster import Definitions

from .client import InvalidInputError
from .config import METADATA_KEY, WandbArtifactConfig, WandbInputConfig, parse

#: The per-asset key of ``dagster-wandb`` 0.29, which this package does not read.
LEGACY_KEY = "wandb_artifact_configuration"


class LegacyMetadataWarning(UserWarning):
    """Metadata in ``dagster-wandb``'s format, which this package ignores."""


def legacy_key_hint(metadata: Mapping[str, Any] | None, where: str) -> str | None:
    """The migration hint when ``metadata`` uses ``dagster-wandb``'s key, else None."""
    if not metadata or LEGACY_KEY not in metadata:
        return None
    return (
        f"{where}: metadata['{LEGACY_KEY}'] is dagster-wandb's key and is ignored; move its "
        f"options to metadata['{METADATA_KEY}'] (name, type, description, aliases: see the "
        "README's migration section)"
    )


def check_definitions(defs: Definitions) -> Definitions:
    """``defs``, once every ``wandb_artifact`` metadata in it is valid; else an
    :class:`~.client.InvalidInputError` that lists each problem with its asset's name.

    Example::

        defs = check_definitions(Definitions(assets=[...], resources={...}))
    """
    problems: list[str] = []

    def check(model: type, metadata: Mapping[str, Any] | None, where: str) -> None:
        hint = legacy_key_hint(metadata, where)
        if hint is not None:
            warnings.warn(hint, LegacyMetadataWarning, stacklevel=3)
        try:
            parse(model, metadata, where)
        except InvalidInputError as exc:
            problems.append(str(exc))

    for assets_def in defs.resolve_asset_graph().assets_defs:
        for spec in assets_def.specs:
            check(WandbArtifactConfig, spec.metadata, f"asset {spec.key.to_user_string()}")
        if not assets_def.is_executable:
            continue
        owner = ", ".join(sorted(key.to_user_string() for key in assets_def.keys))
        for input_def in assets_def.node_def.input_defs:
            where = f"asset {owner}, input {input_def.name!r}"
            check(WandbInputConfig, input_def.metadata, where)
    if problems:
        raise InvalidInputError(
            f"{len(problems)} bad '{METADATA_KEY}' metadata: " + "; ".join(problems)
        )
    return defs
