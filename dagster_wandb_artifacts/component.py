"""``WandbArtifactsComponent``: the resource, the IO manager, W&B-backed external assets and
an optional sensor, declared in YAML for ``dg``.

Example ``defs.yaml`` (``dg scaffold defs dagster_wandb_artifacts.WandbArtifactsComponent
wandb`` writes a commented one)::

    type: dagster_wandb_artifacts.WandbArtifactsComponent
    attributes:
      host: local
      local_root: .wandb-artifacts
      project: pipelines
      external_assets:
        - collection: labels
          type: dataset
        - collection: detector
          type: model
          alias: production
          key: [models, detector]
      sensor:
        minimum_interval_seconds: 60

Every option left out takes the resource's (or the IO manager's) default, so the YAML and
Python mean the same thing. When it loads, the component checks the ``wandb_artifact``
metadata of every asset in the project's defs folder (``check_metadata``, on by default), so
``dg check defs`` names a typo before anything runs. The external assets are declared, not
discovered, so loading the definitions never calls W&B (``dg check defs`` works offline);
use :func:`~.lineage.wandb_artifact_specs` in Python to discover collections and their
lineage.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import Field

from .checks import check_all
from .config import METADATA_KEY
from .io_manager import WandbArtifactsIOManager
from .lineage import asset_key_for, wandb_artifact_sensor
from .resource import LOCAL_HOST, WandbArtifactsResource

#: Component fields passed on to the resource, and to the IO manager, when set.
_RESOURCE_OPTIONS = tuple(name for name in WandbArtifactsResource.model_fields if name != "api_key")
_IO_MANAGER_OPTIONS = (
    "artifact_type",
    "download_dir",
    "dagster_url",
    "serialization_module",
    "serialization_parameters",
)


class ExternalCollection(dg.Model, dg.Resolvable):
    """One W&B collection made outside Dagster, as an external asset."""

    collection: str = Field(description="The W&B collection name.")
    type: str = Field(default="dataset", description="Its artifact type.")
    alias: str = Field(default="latest", description="The version downstream assets load.")
    key: Sequence[str] | None = Field(
        default=None, description="Asset key (default: from the collection name)."
    )
    description: str | None = None
    entity: str | None = None
    project: str | None = None


class SensorOptions(dg.Model, dg.Resolvable):
    """A sensor that reports new versions of the external assets (see
    :func:`~.lineage.wandb_artifact_sensor`); its first tick records a baseline."""

    name: str = "wandb_artifact_sensor"
    alias: str | None = Field(
        default=None, description="Watch this alias (default: each asset's own alias)."
    )
    minimum_interval_seconds: int = 60
    report_as: Literal["materialization", "observation"] = "materialization"
    report_existing: bool = Field(
        default=False, description="Report the versions there are on the first tick, once."
    )
    running: bool = Field(default=False, description="Start the sensor running.")


#: What ``dg scaffold defs`` writes: every option, the ones with defaults commented out.
SCAFFOLD_YAML = """\
type: TYPE_NAME

attributes:
  # The backend, chosen explicitly: W&B (an API URL, the key read from api_key_env_var), or
  # "local" for the embedded W&B-compatible server in local_root (no account, no network).
  host: https://api.wandb.ai
  api_key_env_var: WANDB_API_KEY
  project: dagster
  # entity: my-team                  # default: the API key's default entity
  # local_root: .wandb-artifacts     # host: local only
  # local_url: http://127.0.0.1:8080 # where `dagster-wandb-artifacts server` serves (links)
  # timeout: 60                      # seconds per HTTP request
  # retry_timeout: 30                # seconds a failed call keeps retrying, then the step fails
  # cache_dir: ~/.cache/wandb        # the artifact cache, shared with the wandb SDK
  # storage_options:                 # fsspec options per scheme, for reference artifacts
  #   s3: {endpoint_url: "http://127.0.0.1:9000"}
  # io_manager_key: io_manager
  # artifact_type: dataset           # type of new collections
  # download_dir: /tmp/wandb-artifacts
  # dagster_url: http://localhost:3000  # Dagster UI URL written into W&B runs
  # serialization_module: pickle     # pickler of values no serializer handles: pickle,
  #                                  # dill, cloudpickle or joblib
  # serialization_parameters: {}     # passed to its dump, e.g. {protocol: 5}
  # check_metadata: true             # when the defs load, check every asset's wandb_artifact
  #                                  # metadata in the defs folder (dg check defs)

  # W&B collections made outside Dagster, as external assets that Dagster assets can load:
  external_assets: []
  # external_assets:
  #   - collection: detector
  #     type: model
  #     alias: production            # the version downstream assets load
  #     key: [models, detector]      # default: from the collection name

  # A sensor reporting their new versions (its first tick records what is there):
  # sensor:
  #   minimum_interval_seconds: 60
  #   report_as: materialization     # or observation (staleness only)
  #   report_existing: false         # true: report the current versions once
  #   running: false
"""


class WandbArtifactsScaffolder(dg.Scaffolder):
    """``dg scaffold defs``: a ``defs.yaml`` with every option, commented."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        if request.scaffold_format != "yaml":
            dg.scaffold_component(request)
            return
        (request.target_path / "defs.yaml").write_text(
            SCAFFOLD_YAML.replace("TYPE_NAME", request.type_name)
        )


@dg.scaffold_with(WandbArtifactsScaffolder)
class WandbArtifactsComponent(dg.Component, dg.Model, dg.Resolvable):
    """W&B Artifacts for a Dagster project: the resource (as ``wandb``), the IO manager (as
    ``io_manager_key``), external assets for W&B collections and an optional sensor on them.
    Options left out take the resource's defaults (``host``: W&B's cloud)."""

    host: str | None = Field(
        default=None, description="W&B API URL, or 'local' (default https://api.wandb.ai)."
    )
    api_key_env_var: str | None = Field(
        default="WANDB_API_KEY", description="Environment variable holding the API key."
    )
    local_root: str | None = Field(default=None, description="Embedded server folder.")
    local_url: str | None = Field(default=None, description="Where its server serves.")
    entity: str | None = None
    project: str | None = None
    timeout: float | None = Field(default=None, description="Seconds per HTTP request.")
    retry_timeout: float | None = Field(
        default=None, description="Seconds a failed call keeps retrying."
    )
    cache_dir: str | None = None
    storage_options: dict[str, dict[str, Any]] | None = None
    io_manager_key: str = "io_manager"
    artifact_type: str | None = None
    download_dir: str | None = None
    dagster_url: str | None = Field(
        default=None, description="Dagster UI URL written into W&B runs."
    )
    serialization_module: Literal["pickle", "dill", "cloudpickle", "joblib"] | None = Field(
        default=None, description="Pickler of values no serializer handles (default pickle)."
    )
    serialization_parameters: dict[str, Any] | None = Field(
        default=None, description="Passed to the pickler's dump, e.g. {protocol: 5}."
    )
    external_assets: list[ExternalCollection] = Field(default_factory=list)
    sensor: SensorOptions | None = Field(
        default=None, description="A sensor on the external assets' new versions."
    )
    check_metadata: bool = Field(
        default=True,
        description="When the definitions load, check the wandb_artifact metadata of every "
        "asset of the project's defs folder (dg check defs names each typo).",
    )

    def resource(self) -> WandbArtifactsResource:
        options = {name: getattr(self, name) for name in _RESOURCE_OPTIONS}
        options = {name: value for name, value in options.items() if value is not None}
        # The embedded server keeps its own key.
        if self.api_key_env_var and self.host != LOCAL_HOST:
            options["api_key"] = dg.EnvVar(self.api_key_env_var)
        return WandbArtifactsResource(**options)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        resource = self.resource()
        specs = [
            dg.AssetSpec(
                key=dg.AssetKey(list(external.key))
                if external.key
                else asset_key_for(external.collection),
                description=external.description,
                kinds={"wandb"},
                metadata={
                    METADATA_KEY: {
                        "name": external.collection,
                        "type": external.type,
                        "entity": external.entity or self.entity,
                        "project": external.project or self.project,
                    },
                    "wandb/alias": external.alias,
                    "wandb/type": external.type,
                },
            )
            for external in self.external_assets
        ]
        io_options = {name: getattr(self, name) for name in _IO_MANAGER_OPTIONS}
        sensors = []
        if self.sensor is not None and specs:
            sensors.append(
                wandb_artifact_sensor(
                    resource,
                    specs,
                    name=self.sensor.name,
                    alias=self.sensor.alias,
                    minimum_interval_seconds=self.sensor.minimum_interval_seconds,
                    report_as=self.sensor.report_as,
                    report_existing=self.sensor.report_existing,
                    default_status=dg.DefaultSensorStatus.RUNNING
                    if self.sensor.running
                    else dg.DefaultSensorStatus.STOPPED,
                )
            )
        if self.check_metadata and not _checking.get():
            # Another W&B component built while this one checks need not check again (and
            # must not: it would build this one, which is not built yet).
            token = _checking.set(True)
            try:
                check_all(dg.Definitions(assets=specs), *_other_defs(context))
            finally:
                _checking.reset(token)
        return dg.Definitions(
            assets=specs,
            sensors=sensors,
            resources={
                "wandb": resource,
                self.io_manager_key: WandbArtifactsIOManager(
                    wandb=resource,
                    **{name: value for name, value in io_options.items() if value is not None},
                ),
            },
        )


#: True while a component checks the defs folder.
_checking: ContextVar[bool] = ContextVar("wandb_artifacts_checking", default=False)
#: What Dagster's defs loader skips in a defs folder.
_IGNORED = ("__pycache__", ".*")


def _other_defs(context: dg.ComponentLoadContext) -> Iterator[dg.Definitions]:
    """The definitions of every other module and folder of the defs folder: the siblings of
    this component and of each folder above it. ``context.build_defs`` builds each once for
    the whole load (Dagster caches it), so checking them costs no second build."""
    root, own = context.defs_module_path.resolve(), context.path.resolve()
    if not own.is_relative_to(root) or own == root:
        return
    folder = root
    for part in own.relative_to(root).parts:
        for entry in sorted(folder.iterdir()):
            if entry.name != part and _holds_defs(entry):
                yield context.build_defs(entry)
        folder = folder / part


def _holds_defs(path: Path) -> bool:
    """Whether Dagster's loader finds definitions at ``path``: a Python module, or a folder
    with a component file or a Python module somewhere inside."""
    if any(path.match(pattern) for pattern in _IGNORED):
        return False
    if path.is_file():
        return path.suffix == ".py"
    if path.is_dir():
        marked = any((path / name).is_file() for name in ("defs.yaml", "component.yaml"))
        return marked or any(_holds_defs(child) for child in path.iterdir())
    return False
