"""Per-asset and per-input configuration, read from ``metadata={"wandb_artifact": {...}}``."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .client import InvalidInputError
from .client.names import validate_alias, validate_name, validate_tag, validate_type

METADATA_KEY = "wandb_artifact"
#: The per-asset key of ``dagster-wandb``, which this package does not read.
LEGACY_KEY = "wandb_artifact_configuration"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SerializationModule(_Strict):
    """The pickler of values no serializer handles, as ``dagster-wandb``'s option."""

    name: Literal["pickle", "dill", "cloudpickle", "joblib"] = "pickle"
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Passed to the module's dump, e.g. {'protocol': 4} or {'compress': 3}.",
    )


class _AddLocal(_Strict):
    local_path: str
    skip_cache: bool = False
    policy: Literal["mutable", "immutable"] = "mutable"


class AddDir(_AddLocal):
    """A local folder added to the version (the arguments of ``Artifact.add_dir``)."""

    name: str | None = Field(default=None, description="Folder inside the artifact.")
    merge: bool = False


class AddFile(_AddLocal):
    """A local file added to the version (the arguments of ``Artifact.add_file``)."""

    name: str | None = Field(default=None, description="Path inside the artifact.")
    is_tmp: bool = False
    overwrite: bool = False


class AddReference(_Strict):
    """A URI tracked by the version (the arguments of ``Artifact.add_reference``)."""

    uri: str
    name: str | None = Field(default=None, description="Path inside the artifact.")
    checksum: bool = True
    max_objects: int | None = Field(default=None, gt=0)


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
    type: str | None = Field(
        default=None, description="Artifact type (default: the IO manager's artifact_type)."
    )
    description: str | None = Field(
        default=None, description="Version description (default: the asset's description)."
    )
    aliases: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    ttl_days: float | None = Field(default=None, gt=0)
    serializer: str | None = Field(
        default=None,
        description="Force a serializer by name: a built-in (pandas-parquet, polars-parquet, "
        "arrow-parquet, numpy, bytes, text, json, wandb-table, pickle, dill, cloudpickle, "
        "joblib) or one passed to the IO manager (default: chosen by the value's type).",
    )
    serialization_module: SerializationModule | None = Field(
        default=None,
        description="The pickler for values no serializer handles (default: the IO manager's).",
    )
    add_dirs: list[AddDir] = Field(
        default_factory=list, description="Local folders added beside the value (add_dir)."
    )
    add_files: list[AddFile] = Field(
        default_factory=list, description="Local files added beside the value (add_file)."
    )
    add_references: list[AddReference] = Field(
        default_factory=list, description="References added beside the value (add_reference)."
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
    def _type(cls, value: str | None) -> str | None:
        return None if value is None else validate_type(value)

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
    get: str | None = Field(
        default=None,
        description="Load only this entry: the object at this name (a table as a DataFrame, "
        "W&B media as the wandb object, a file the IO manager's serializers read, else the "
        "file's bytes). Only that entry is downloaded.",
    )
    get_path: str | None = Field(
        default=None,
        description="Load only this file: its local path (downloaded alone).",
    )

    @model_validator(mode="after")
    def _one_way(self) -> WandbInputConfig:
        chosen = [f for f in ("get", "get_path", "load_as") if getattr(self, f) is not None]
        if len(chosen) > 1:
            raise ValueError(f"choose one of get, get_path and load_as, not {chosen}")
        return self

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
        problems = "; ".join(_problem(model, error) for error in exc.errors())
        raise InvalidInputError(f"{where}: bad metadata['{METADATA_KEY}']: {problems}") from None


def parse_lenient(
    model: type[_Strict], metadata: Mapping[str, Any] | None, serializer_names: list[str]
) -> tuple[Any, list[str]]:
    """The config under ``wandb_artifact`` with each misspelt top-level key read as the one
    it is closest to (``tpye`` as ``type``), an unknown serializer as the closest name, and
    other bad keys left out; and what was read differently. What a typo leaves usable, so a
    value is not lost to it."""
    raw = (metadata or {}).get(METADATA_KEY) or {}
    if hasattr(raw, "value") and isinstance(raw.value, Mapping):
        raw = raw.value
    kept = dict(raw) if isinstance(raw, Mapping) else {}
    notes: list[str] = []
    fields = sorted(model.model_fields)
    for key in [k for k in kept if k not in model.model_fields]:
        value = kept.pop(key)
        close = difflib.get_close_matches(str(key), [f for f in fields if f not in kept], n=1)
        if close:
            kept[close[0]] = value
            notes.append(f"{key!r} read as {close[0]!r}")
    name = kept.get("serializer")
    if isinstance(name, str) and name not in serializer_names:
        close = difflib.get_close_matches(name, serializer_names, n=1)
        kept["serializer"] = close[0] if close else None
        notes.append(f"serializer {name!r} read as {kept['serializer']!r}")
    try:
        return model.model_validate(kept), notes
    except ValidationError as exc:
        bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        notes += [f"{key!r} left out" for key in sorted(bad)]
        return model.model_validate({k: v for k, v in kept.items() if k not in bad}), notes


def _problem(model: type[BaseModel], error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "value"
    if error["type"] != "extra_forbidden":
        return f"{where}: {error['msg']}"
    fields = _fields_at(model, error["loc"][:-1])
    close = difflib.get_close_matches(str(error["loc"][-1]), fields, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(fields)}"
    return f"{where}: unknown key ({hint})"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the (nested) model at ``loc`` accepts: ``add_files.0`` is an ``AddFile``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = current.model_fields[part].annotation
        args = typing.get_args(annotation)
        current = next((a for a in args if isinstance(a, type)), annotation)
    return sorted(current.model_fields)


def misspelt_keys(metadata: Mapping[str, Any] | None, where: str) -> list[str]:
    """Warnings for top-level metadata keys that look like a misspelt ``wandb_artifact``
    (``wandb_artifacts``, ``wandb-artifact``...): those are silently not read otherwise."""
    if not metadata or METADATA_KEY in metadata:
        return []
    return [
        f"{where}: metadata[{key!r}] is not read: did you mean '{METADATA_KEY}'?"
        for key in metadata
        if isinstance(key, str)
        and key != LEGACY_KEY
        and difflib.get_close_matches(key.lower(), [METADATA_KEY], n=1, cutoff=0.8)
    ]
