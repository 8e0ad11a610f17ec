"""``WandbArtifactsResource``: the W&B client for assets, on W&B or on the embedded server."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    ConfigurableResource,
    EnvVar,
    InitResourceContext,
    OpExecutionContext,
)
from pydantic import Field, PrivateAttr

from .client import (
    Api,
    ArtifactCache,
    AuthenticationError,
    CommError,
    InvalidInputError,
    RetryPolicy,
    Run,
    WandbError,
)
from .client.progress import reporting_to, warn
from .client.transport import refusals_fail_fast, time_limited
from .runs import STEP_RUNS, finish_step_runs, finish_unfinished, open_step_run
from .server import LocalServer

#: ``host`` value that selects the embedded server.
LOCAL_HOST = "local"
#: Environment variable for ``local_url``: where ``dagster-wandb-artifacts server`` serves.
SERVER_URL_ENV = "WANDB_ARTIFACTS_SERVER_URL"
DEFAULT_LOCAL_URL = "http://127.0.0.1:8080"
#: Seconds the pre-flight check retries a refused connection (nothing listens at the host:
#: waiting for the whole retry_timeout would only delay the error); timeouts and 5xx keep it.
REFUSED_CHECK_SECONDS = 2.0
#: (API URL, sha256 of the key) pairs that passed the pre-flight check in this process.
_checked: set[tuple[str, str]] = set()
_checked_lock = threading.Lock()


class WandbArtifactsResource(ConfigurableResource):
    """W&B Artifacts for Dagster assets: gives ops and assets an :class:`~.client.Api`.

    Choose the backend explicitly: a W&B server URL (with an API key), or ``host="local"``
    for the embedded W&B-compatible server on ``local_root`` (no account, no network).

    Example::

        from dagster import Definitions, EnvVar

        wandb = WandbArtifactsResource(
            api_key=EnvVar("WANDB_API_KEY"), entity="my-team", project="pipelines"
        )
        local = WandbArtifactsResource(host="local", local_root=".wandb-artifacts",
                                       project="pipelines")

        @asset
        def report(wandb: WandbArtifactsResource) -> None:
            wandb.get_api().artifact("model:production").download()
    """

    api_key: str | None = Field(
        default=None,
        description="W&B API key; use EnvVar('WANDB_API_KEY'). Optional for host='local'.",
    )
    host: str = Field(
        default="https://api.wandb.ai",
        description="W&B API URL, or 'local' for the embedded server on local_root.",
    )
    local_root: str = Field(
        default=".wandb-artifacts",
        description="Folder of the embedded server (database, files, API key) for host='local'.",
    )
    local_url: str = Field(
        default_factory=lambda: os.environ.get(SERVER_URL_ENV, DEFAULT_LOCAL_URL),
        description="Where `dagster-wandb-artifacts server --root LOCAL_ROOT` serves; links "
        f"written into Dagster metadata in embedded mode point there (default ${SERVER_URL_ENV}, "
        f"else {DEFAULT_LOCAL_URL}).",
    )
    entity: str | None = Field(default=None, description="Default W&B entity (team or user).")
    project: str = Field(default="dagster", description="Default W&B project.")
    timeout: float = Field(default=60.0, description="Seconds before one HTTP request fails.")
    retry_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a failed call keeps retrying (each retry is a Dagster warning) "
        "before the step fails.",
    )
    cache_dir: str | None = Field(
        default=None,
        description="Artifact cache folder (default $WANDB_CACHE_DIR or ~/.cache/wandb).",
    )
    storage_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="fsspec options per scheme for reference artifacts, e.g. "
        "{'s3': {'endpoint_url': ...}}; credentials otherwise come from the usual s3fs/gcsfs "
        "configuration.",
    )

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _server: LocalServer | None = PrivateAttr(default=None)
    _api: Api | None = PrivateAttr(default=None)

    @property
    def is_local(self) -> bool:
        return self.host == LOCAL_HOST

    def get_api(self) -> Api:
        """The client for this process (the embedded server starts on first use)."""
        with self._lock:
            if self._api is None:
                self._api = self._connect()
            return self._api

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Before the step's code runs: a wrong key or host fails the step now, not after it.
        if context.log is not None:
            with reporting_to(context.log):
                self.check()
        else:
            self.check()

    def check(self, timeout: float | None = None) -> None:
        """Pre-flight: one cheap authenticated request (the viewer), once per process for a
        host and key, bounded by ``timeout`` (default ``retry_timeout``) seconds. Runs that an
        earlier teardown could not finish are finished then.

        Raises :class:`~.client.CommError` (unreachable) or
        :class:`~.client.AuthenticationError` (refused key), naming the host.
        """
        api = self.get_api()
        if self.is_local:
            return
        checked = (api.base_url, hashlib.sha256((self.api_key or "").encode()).hexdigest())
        with _checked_lock:
            seen = checked in _checked
        with time_limited(timeout or self.retry_timeout):
            if not seen:
                with refusals_fail_fast(REFUSED_CHECK_SECONDS):
                    self._check_viewer(api)
            try:
                finish_unfinished(api)
            except WandbError as exc:
                warn(f"could not finish W&B runs left running by an earlier step: {exc}")
        with _checked_lock:
            _checked.add(checked)

    def _check_viewer(self, api: Api) -> None:
        try:
            api.viewer  # noqa: B018 - the request is the check
        except CommError as exc:
            raise CommError(
                f"W&B at {self.host} cannot be reached ({exc}); checked before the step's "
                "code runs: check host= (WANDB_BASE_URL) and the network"
            ) from None
        except AuthenticationError:
            raise AuthenticationError(
                f"W&B at {self.host} refused the API key; checked before the step's code runs: "
                "check api_key= (WANDB_API_KEY)"
            ) from None

    def _connect(self) -> Api:
        cache = ArtifactCache(self.cache_dir) if self.cache_dir else None
        retry = RetryPolicy(deadline=self.retry_timeout)
        overrides: dict[str, Any] = {"project": self.project}
        if self.entity:
            overrides["entity"] = self.entity
        if self.is_local:
            self._server = LocalServer(Path(self.local_root), api_key=self.api_key).start()
            overrides["base_url"] = self._server.base_url
            return Api(
                overrides,
                self.timeout,
                self._server.api_key,
                retry=retry,
                cache=cache,
                storage_options=self.storage_options,
            )
        if not self.host.startswith(("http://", "https://")):
            raise InvalidInputError(
                f"host must be a W&B API URL (https://...) or 'local', not {self.host!r}"
            )
        # An EnvVar is resolved by Dagster in a run; outside one (definitions that call W&B
        # as they load, a script) it is still the variable's name: read it here.
        api_key = self.api_key.get_value() if isinstance(self.api_key, EnvVar) else self.api_key
        if not api_key:
            raise AuthenticationError(
                f"no API key for {self.host}: set api_key=EnvVar('WANDB_API_KEY'), or use "
                "host='local' for the embedded server"
            )
        overrides["base_url"] = self.host
        return Api(
            overrides,
            self.timeout,
            api_key,
            retry=retry,
            cache=cache,
            storage_options=self.storage_options,
        )

    @property
    def app_url(self) -> str:
        """Base of the links written into Dagster metadata: valid after this process ends."""
        return self.local_url.rstrip("/") if self.is_local else self.get_api().app_url

    def run_for(self, context: AssetExecutionContext | OpExecutionContext) -> Run:
        """The W&B run of the current step: the run that uses the step's inputs and logs its
        outputs through the IO manager (created on first use, in ``project``/``entity``),
        finished when the step's resources are torn down (``crashed`` if the step failed).

        It has the SDK's run surface: ``log(data, step=None, commit=None)``, ``summary``
        (``update`` saves), ``config``, ``id``, ``url``. Rows go to W&B in batches through
        the run's file stream; the IO manager sends what is left when the output is logged.

        Example::

            @asset
            def model(context: AssetExecutionContext, wandb: WandbArtifactsResource):
                run = wandb.run_for(context)
                for epoch in range(10):
                    run.log({"loss": train_one_epoch()})
        """
        op_context = (
            context.op_execution_context if isinstance(context, AssetExecutionContext) else context
        )
        return STEP_RUNS.hand_to_body(
            open_step_run(
                self.get_api(),
                dagster_run_id=op_context.run_id,
                step_key=op_context.get_step_execution_context().step.key,
                job_name=op_context.job_name,
                op_name=op_context.op_def.name,
                project=self.project,
                entity=self.entity,
                dagster_url=os.environ.get("DAGSTER_WEBSERVER_URL", "http://localhost:3000"),
            )
        )

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        # Before the embedded server stops: the step's runs send what they logged (only a
        # Dagster run's own: a resource built outside one leaves other runs alone).
        if context.run is not None:
            finish_step_runs(context)
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._api = None
