"""Push instead of poll: a W&B webhook automation that starts Dagster runs within seconds.

:class:`WandbWebhookReceiver` is a small HTTP server that a W&B automation's webhook POSTs
to. Each request is authenticated (the integration's access token, sent as a Bearer token,
or its signing secret, ``X-Wandb-Signature``), read as an artifact event, and routed by its
collection: it launches a job through dagster-webserver's GraphQL API (``launchRun``), and/or
reports a runless materialization of an asset through the webserver's
``/report_asset_materialization`` endpoint, with the artifact digest as its data version.
Nothing polls W&B.

Give the automation :data:`PAYLOAD` as its payload template. A delivery that W&B retries
(because our answer was lost) is recognised and not acted on twice; a Dagster failure is
answered with 502, so W&B's own retries try again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import requests
from dagster import AssetKey

log = logging.getLogger("dagster_wandb_artifacts.webhooks")

#: The payload template to give the W&B automation (W&B fills in each ``${variable}``).
PAYLOAD: dict[str, str] = {
    "event_type": "${event_type}",
    "event_author": "${event_author}",
    "entity_name": "${entity_name}",
    "project_name": "${project_name}",
    "artifact_collection_name": "${artifact_collection_name}",
    "artifact_version_string": "${artifact_version_string}",
    "artifact_version": "${artifact_version}",
    "alias": "${alias}",
}

MAX_BODY = 1024 * 1024
_REMEMBERED = 10_000

LAUNCH_RUN = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}
"""

REPOSITORIES = """
query Repositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } pipelines { name } } }
    ... on PythonError { message }
  }
}
"""


class WebhookError(Exception):
    """A request that cannot be acted on; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WandbEvent:
    """An artifact event as the webhook payload (:data:`PAYLOAD`) describes it."""

    event_type: str
    version_string: str
    alias: str
    author: str
    digest: str | None
    metadata: Mapping[str, Any]

    @property
    def collection(self) -> str:
        """``entity/project/collection`` of the version."""
        return self.version_string.rpartition(":")[0]

    @property
    def version(self) -> str:
        return self.version_string.rpartition(":")[2]

    @classmethod
    def from_payload(cls, payload: Any) -> WandbEvent:
        if not isinstance(payload, dict):
            raise WebhookError(
                400, "expected a JSON object (see dagster_wandb_artifacts.webhooks.PAYLOAD)"
            )
        version_string = payload.get("artifact_version_string")
        event_type = payload.get("event_type")
        if not isinstance(version_string, str) or ":" not in version_string:
            raise WebhookError(400, "the payload has no artifact_version_string")
        if not isinstance(event_type, str) or not event_type:
            raise WebhookError(400, "the payload has no event_type")
        version = payload.get("artifact_version")
        version = version if isinstance(version, dict) else {}
        metadata = version.get("metadata")
        return cls(
            event_type=event_type,
            version_string=version_string,
            alias=str(payload.get("alias") or ""),
            author=str(payload.get("event_author") or ""),
            digest=version.get("digest") if isinstance(version.get("digest"), str) else None,
            metadata=metadata if isinstance(metadata, dict) else {},
        )

    def tags(self) -> dict[str, str]:
        tags = {"wandb/artifact": self.version_string, "wandb/event": self.event_type}
        if self.alias:
            tags["wandb/alias"] = self.alias
        if self.author:
            tags["wandb/author"] = self.author
        return tags


@dataclass(frozen=True)
class WebhookRoute:
    """What an event of one W&B collection (``entity/project/name``) does in Dagster.

    ``job``: the job to launch (its run carries the ``wandb/artifact`` tag and the run config
    that ``run_config`` returns for the event); ``asset_key``: the asset to report
    materialized. ``events`` and ``aliases`` narrow which events act (aliases apply to alias
    events: "``production`` moved").
    """

    collection: str
    job: str | None = None
    asset_key: AssetKey | Sequence[str] | str | None = None
    events: frozenset[str] = frozenset({"CREATE_ARTIFACT", "ADD_ARTIFACT_ALIAS", "LINK_MODEL"})
    aliases: frozenset[str] | None = None
    run_config: Callable[[WandbEvent], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.job is None and self.asset_key is None:
            raise ValueError(f"route for {self.collection!r}: give a job, an asset_key, or both")

    def takes(self, event: WandbEvent) -> bool:
        if event.collection != self.collection or event.event_type not in self.events:
            return False
        return (
            self.aliases is None
            or event.event_type != "ADD_ARTIFACT_ALIAS"
            or (event.alias in self.aliases)
        )

    @property
    def key(self) -> AssetKey | None:
        if self.asset_key is None or isinstance(self.asset_key, AssetKey):
            return self.asset_key
        if isinstance(self.asset_key, str):
            return AssetKey.from_user_string(self.asset_key)
        return AssetKey(list(self.asset_key))


class DagsterWebserver:
    """The two calls the receiver makes to a dagster-webserver."""

    def __init__(self, url: str, timeout: float = 30.0, headers: Mapping[str, str] | None = None):
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update(headers or {})
        self._jobs: dict[str, tuple[str, str]] = {}

    def _graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self._session.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=self._timeout,
        )
        reply.raise_for_status()
        body = reply.json()
        if body.get("errors"):
            raise WebhookError(502, f"Dagster GraphQL: {body['errors'][0].get('message')}")
        return body["data"]

    def _locate(self, job: str) -> tuple[str, str]:
        """(code location, repository) holding ``job``; looked up again after a miss, as
        code locations reload."""
        if job not in self._jobs:
            found = self._graphql(REPOSITORIES)["repositoriesOrError"]
            for repository in found.get("nodes") or []:
                for pipeline in repository["pipelines"]:
                    place = (repository["location"]["name"], repository["name"])
                    self._jobs[pipeline["name"]] = place
        if job not in self._jobs:
            raise WebhookError(404, f"no job named {job!r} in this Dagster deployment")
        return self._jobs[job]

    def launch_run(self, job: str, run_config: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        location, repository = self._locate(job)
        params = {
            "selector": {
                "repositoryLocationName": location,
                "repositoryName": repository,
                "jobName": job,
            },
            "runConfigData": dict(run_config),
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        result = self._graphql(LAUNCH_RUN, {"executionParams": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            detail = result.get("message") or result.get("errors") or result["__typename"]
            raise WebhookError(502, f"Dagster did not launch {job!r}: {detail}")
        return result["run"]["runId"]

    def report_materialization(
        self, key: AssetKey, data_version: str | None, metadata: Mapping[str, Any]
    ) -> None:
        body: dict[str, Any] = {"metadata": dict(metadata)}
        if data_version:
            body["data_version"] = data_version
        reply = self._session.post(
            f"{self.url}/report_asset_materialization/{'/'.join(key.path)}",
            json=body,
            timeout=self._timeout,
        )
        if not reply.ok:
            raise WebhookError(502, f"Dagster refused the materialization: {reply.text[:200]}")


class WandbWebhookReceiver:
    """Receives W&B webhook automations and turns them into Dagster runs and materializations.

    Example::

        receiver = WandbWebhookReceiver(
            "http://127.0.0.1:3000",
            [WebhookRoute("team/proj/classifier", job="deploy", asset_key="classifier",
                          aliases=frozenset({"production"}))],
            token=os.environ["WANDB_WEBHOOK_TOKEN"],
        )
        with receiver:
            ...  # point a W&B webhook integration at receiver.url

    ``token`` is the secret the W&B integration sends as its access token; ``signing_secret``
    the one it signs payloads with. One of them is required: the receiver starts Dagster runs
    for whoever can reach it.
    """

    def __init__(
        self,
        dagster_url: str,
        routes: Sequence[WebhookRoute],
        *,
        token: str | None = None,
        signing_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/wandb",
    ) -> None:
        if not token and not signing_secret:
            raise ValueError("give the webhook's token or signing_secret: requests must be proven")
        self.dagster = DagsterWebserver(dagster_url)
        self.routes = list(routes)
        self._token = token
        self._signing_secret = signing_secret
        self._path = path
        self._seen: OrderedDict[tuple[str, ...], list[str]] = OrderedDict()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread: threading.Thread | None = None
        #: Each event acted on, with what it did (for logs and tests).
        self.handled: list[tuple[WandbEvent, list[str]]] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self._path}"

    def _proven(self, body: bytes, headers: Mapping[str, str]) -> bool:
        if self._token:
            sent = headers.get("authorization", "")
            if hmac.compare_digest(sent.encode(), f"Bearer {self._token}".encode()):
                return True
        if self._signing_secret:
            expected = hmac.new(self._signing_secret.encode(), body, hashlib.sha256).hexdigest()
            signature = headers.get("x-wandb-signature", "")
            return hmac.compare_digest(signature.encode(), expected.encode())
        return False

    def handle(self, body: bytes, headers: Mapping[str, str]) -> list[str]:
        """Act on one request; what was done (``run:<id>``, ``materialized:<key>``)."""
        if not self._proven(body, {k.lower(): v for k, v in headers.items()}):
            raise WebhookError(401, "missing or wrong token or signature")
        try:
            event = WandbEvent.from_payload(json.loads(body))
        except ValueError as exc:
            raise WebhookError(400, "the body is not JSON") from exc
        done = []
        for route in self.routes:
            if route.takes(event):
                done.extend(self._act(route, event))
        with self._lock:
            self.handled.append((event, done))
        return done

    def _act(self, route: WebhookRoute, event: WandbEvent) -> list[str]:
        identity = (event.event_type, event.version_string, event.alias, route.collection)
        identity = (*identity, route.job or "", str(route.key))
        with self._lock:
            if identity in self._seen:
                return self._seen[identity]
        done = []
        if route.key is not None:
            metadata = {
                "wandb/version": event.version,
                "wandb/artifact": event.version_string,
                "wandb/event": event.event_type,
            }
            self.dagster.report_materialization(route.key, event.digest, metadata)
            done.append(f"materialized:{route.key.to_user_string()}")
        if route.job is not None:
            run_config = route.run_config(event) if route.run_config else {}
            run_id = self.dagster.launch_run(route.job, run_config, event.tags())
            done.append(f"run:{run_id}")
        with self._lock:
            self._seen[identity] = done
            while len(self._seen) > _REMEMBERED:
                self._seen.popitem(last=False)
        log.info("W&B %s of %s: %s", event.event_type, event.version_string, ", ".join(done))
        return done

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                status, answer = 200, {}
                try:
                    if self.path.split("?")[0] != receiver._path:
                        raise WebhookError(404, "not found")
                    length = int(self.headers.get("content-length") or 0)
                    if length > MAX_BODY:
                        raise WebhookError(413, f"bodies are at most {MAX_BODY} bytes")
                    body = self.rfile.read(length)
                    answer = {"done": receiver.handle(body, dict(self.headers))}
                except WebhookError as exc:
                    status, answer = exc.status, {"error": str(exc)}
                except requests.RequestException as exc:
                    status, answer = 502, {"error": f"Dagster unreachable: {type(exc).__name__}"}
                encoded = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> WandbWebhookReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="wandb-webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(10)
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in this thread (the ``receiver`` command)."""
        self._server.serve_forever()

    def __enter__(self) -> WandbWebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
