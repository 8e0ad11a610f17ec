"""Per-asset and per-input configuration, read from ``metadata={"wandb_artifact": {...}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .client import InvalidInputError
from .client.names import validate_alias, validate_name, validate_tag, validate_type

METADATA_KEY = "wandb_artifact"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WandbArtifactConfig(_Strict):
    """How one asset's outputs are logged (``AssetSpec``/``@asset`` metadata).

    Example::

        @asset(metadata={"wandb_artifact": {"type": "model", "aliases": ["candidate"]}})
        def model() -> bytes: ...
    """

    name: str | None = Field(
        default=None, description="Collection name (default: the asset key, prefixes kept)."
    )
    entity: str | None = None
    project: str | None = None
    type: str = "dataset"
    description: str | None = Field(
        default=None, description="Version description (default: the asset's description)."
    )
    aliases: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    ttl_days: float | None = Field(default=None, gt=0)
    serializer: str | None = Field(
        default=None,
        description="Force a serializer: pandas-parquet, polars-parquet, numpy, bytes, text, "
        "json or pickle (default: chosen by the value's type).",
    )
    link: str | None = Field(
        default=None,
        description="Also link each new version into this portfolio or Registry collection: "
        "'[[entity/]project/]portfolio' or 'wandb-registry-model/collection'.",
    )
    link_aliases: list[str] = Field(default_factory=list, description="Aliases on the link.")
    protected_aliases: list[str] = Field(
        default_factory=lambda: ["production", "prod", "staging"],
        description="Aliases not moved (and links not made) from a Dagster+ branch deployment.",
    )
    move_protected_aliases_in_branches: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else validate_name(value)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return validate_type(value)

    @field_validator("aliases", "link_aliases")
    @classmethod
    def _aliases(cls, value: list[str]) -> list[str]:
        return [validate_alias(alias) for alias in value]

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return [validate_tag(tag) for tag in value]


class WandbInputConfig(_Strict):
    """How one input is loaded (``AssetIn(metadata={"wandb_artifact": {...}})``).

    Example::

        @asset(ins={"data": AssetIn(metadata={"wandb_artifact": {"alias": "v3"}})})
        def train(data: pathlib.Path): ...
    """

    alias: str | None = Field(
        default=None, description="Pin a version ('v3') or alias ('production') to load."
    )
    load_as: Literal["value", "path", "upath", "artifact"] | None = Field(
        default=None,
        description="What the asset receives: the value, a local path (downloaded), a lazy "
        "UPath (wandb-artifact://, read on demand) or the Artifact (default: from the "
        "parameter's annotation, else the value).",
    )
    allow_missing_partitions: bool = Field(
        default=False,
        description="Skip upstream partitions that have no version instead of failing.",
    )
    allow_pickle: bool = Field(
        default=False,
        description="Unpickle a version this IO manager did not write (e.g. dagster-wandb's).",
    )

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str | None) -> str | None:
        return None if value is None else validate_alias(value)


def parse(model: type[_Strict], metadata: Mapping[str, Any] | None, where: str) -> Any:
    """The config under ``wandb_artifact`` in ``metadata``, with an error naming a bad key."""
    raw = (metadata or {}).get(METADATA_KEY) or {}
    if isinstance(raw, model):
        return raw
    if hasattr(raw, "value") and isinstance(raw.value, Mapping):  # a Dagster MetadataValue
        raw = raw.value
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where}: metadata['{METADATA_KEY}'] must be a dict")
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'value'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidInputError(f"{where}: bad metadata['{METADATA_KEY}']: {problems}") from None
