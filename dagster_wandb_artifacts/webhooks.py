"""Push instead of poll: a W&B webhook automation that starts Dagster runs within seconds.

:class:`WandbWebhookReceiver` is a small HTTP server that a W&B automation's webhook POSTs
to. Each request is checked before it is read as an event: its ``Content-Length`` (a body of
at most :data:`MAX_BODY` bytes, a malformed or negative length is a 400), its proof (the
integration's signing secret: ``X-Wandb-Signature`` over the timestamp, the delivery ID and
the body; or its access token, sent as a Bearer token), its age (``X-Wandb-Timestamp`` within
``max_age`` seconds) and its delivery ID (``X-Wandb-Delivery``, remembered in a file that
survives restarts, so a replayed delivery is not acted on twice). It is then routed by its
collection: it launches a job through dagster-webserver's GraphQL API (``launchRun``), and/or
reports a runless materialization of an asset through the webserver's
``/report_asset_materialization`` endpoint, with the artifact digest as its data version.
Nothing polls W&B.

Give the automation :data:`PAYLOAD` as its payload template. A delivery that W&B retries
(because our answer was lost) is answered with what it did the first time; a Dagster failure
is answered with 502, so W&B's own retries try again.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
from dagster import AssetKey

from .formats.webhook_signature import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_matches,
)

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
#: Seconds a delivery's timestamp may be old (or ahead, for clocks apart) to be accepted.
MAX_AGE_SECONDS = 300
DELIVERIES_FILE = "wandb-webhook-deliveries.jsonl"
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,12}")

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


class DeliveryLog:
    """The deliveries a receiver acted on, in a JSON-lines file that survives restarts.

    An ID needs remembering only while its timestamp is accepted (``max_age`` either way),
    so older entries are dropped when the file is loaded: it stays small.
    """

    def __init__(self, path: str | Path, max_age: float) -> None:
        self.path = Path(path)
        self._max_age = max_age
        self._lock = threading.Lock()
        self._done: dict[str, tuple[float, list[str]]] = {}
        self._pending: set[str] = set()
        self._load()

    def _load(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        oldest = time.time() - 2 * self._max_age
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                    delivery, at, done = entry["id"], float(entry["at"]), list(entry["done"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a crash
                if at >= oldest:
                    self._done[delivery] = (at, done)
        kept = "".join(
            json.dumps({"id": key, "at": at, "done": done}) + "\n"
            for key, (at, done) in self._done.items()
        )
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temporary.write_text(kept)
        os.replace(temporary, self.path)

    def begin(self, delivery: str) -> list[str] | None:
        """None when the delivery is new (and now being handled); else what it did."""
        with self._lock:
            if delivery in self._done:
                return self._done[delivery][1]
            if delivery in self._pending:
                # Retryable: the sender comes back once the first attempt has finished.
                raise WebhookError(503, f"delivery {delivery} is being handled: retry later")
            self._pending.add(delivery)
            return None

    def end(self, delivery: str, done: list[str] | None) -> None:
        """The delivery was handled (``done``), or failed (None: a retry may try again)."""
        with self._lock:
            self._pending.discard(delivery)
            if done is None:
                return
            at = time.time()
            self._done[delivery] = (at, done)
            with self.path.open("a") as file:
                file.write(json.dumps({"id": delivery, "at": at, "done": done}) + "\n")
                file.flush()
                os.fsync(file.fileno())


def content_length(value: str | None) -> int:
    """A request's ``Content-Length``: digits only, at most :data:`MAX_BODY`."""
    if value is None:
        raise WebhookError(411, "a Content-Length is required")
    if not _DIGITS.fullmatch(value.strip()):
        raise WebhookError(400, f"malformed Content-Length {value[:40]!r}")
    length = int(value)
    if length > MAX_BODY:
        raise WebhookError(413, f"bodies are at most {MAX_BODY} bytes")
    return length


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
    the one it signs deliveries with (prefer it: a token proves the sender, a signature also
    the body, its time and its delivery ID). One of them is required: the receiver starts
    Dagster runs for whoever can reach it. ``deliveries_path`` is the file that remembers
    the deliveries acted on (default ``$DAGSTER_HOME/wandb-webhook-deliveries.jsonl``).
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
        deliveries_path: str | Path | None = None,
        max_age: float = MAX_AGE_SECONDS,
    ) -> None:
        if not token and not signing_secret:
            raise ValueError("give the webhook's token or signing_secret: requests must be proven")
        if deliveries_path is None:
            if not os.environ.get("DAGSTER_HOME"):
                raise ValueError(
                    "give deliveries_path (or set DAGSTER_HOME): the receiver remembers the "
                    "deliveries it acted on there, so that a replay is refused after a restart"
                )
            deliveries_path = Path(os.environ["DAGSTER_HOME"]) / DELIVERIES_FILE
        self.dagster = DagsterWebserver(dagster_url)
        self.routes = list(routes)
        self._token = token
        self._signing_secret = signing_secret
        self._path = path
        self._max_age = max_age
        self.deliveries = DeliveryLog(deliveries_path, max_age)
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
        if self._signing_secret:
            sent = headers.get(SIGNATURE_HEADER.lower(), "")
            stamp = headers.get(TIMESTAMP_HEADER.lower(), "")
            delivery = headers.get(DELIVERY_HEADER.lower(), "")
            if sent and signature_matches(self._signing_secret, stamp, delivery, body, sent):
                return True
        if self._token:
            sent = headers.get("authorization", "")
            return hmac.compare_digest(sent.encode(), f"Bearer {self._token}".encode())
        return False

    def _fresh_delivery(self, headers: Mapping[str, str]) -> str:
        """The delivery's ID, once its timestamp is recent enough."""
        stamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        delivery = headers.get(DELIVERY_HEADER.lower(), "")
        if not _DIGITS.fullmatch(stamp) or not _DELIVERY_ID.fullmatch(delivery):
            raise WebhookError(400, f"a delivery carries {TIMESTAMP_HEADER} and {DELIVERY_HEADER}")
        if abs(time.time() - int(stamp)) > self._max_age:
            raise WebhookError(401, f"stale delivery: signed more than {self._max_age:g} s away")
        return delivery

    def handle(self, body: bytes, headers: Mapping[str, str]) -> list[str]:
        """Act on one request; what was done (``run:<id>``, ``materialized:<key>``). A
        delivery already acted on is answered with what it did, and not acted on again."""
        headers = {k.lower(): v for k, v in headers.items()}
        if not self._proven(body, headers):
            raise WebhookError(401, "missing or wrong token or signature")
        delivery = self._fresh_delivery(headers)
        try:
            event = WandbEvent.from_payload(json.loads(body))
        except ValueError as exc:
            raise WebhookError(400, "the body is not JSON") from exc
        remembered = self.deliveries.begin(delivery)
        if remembered is not None:
            log.info("W&B delivery %s again: already handled", delivery)
            return remembered
        done: list[str] = []
        try:
            for route in self.routes:
                if route.takes(event):
                    done.extend(self._act(route, event))
        except BaseException:
            self.deliveries.end(delivery, None)  # not done: the sender's retry may act
            raise
        self.deliveries.end(delivery, done)
        with self._lock:
            self.handled.append((event, done))
        return done

    def _act(self, route: WebhookRoute, event: WandbEvent) -> list[str]:
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
        log.info("W&B %s of %s: %s", event.event_type, event.version_string, ", ".join(done))
        return done

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Seconds a client may take between two reads: a slow one cannot hold a thread.
            timeout = 30

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                status, answer = 200, {}
                try:
                    if self.path.split("?")[0] != receiver._path:
                        raise WebhookError(404, "not found")
                    body = self.rfile.read(content_length(self.headers.get("content-length")))
                    answer = {"done": receiver.handle(body, dict(self.headers))}
                except WebhookError as exc:
                    status, answer = exc.status, {"error": str(exc)}
                    # An unread body is not waited for: the connection ends with the answer.
                    self.close_connection = True
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
