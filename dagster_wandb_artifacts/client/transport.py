"""HTTP transport: one ``requests.Session``, retries with backoff, typed errors.

Retried: 429, 5xx and connection errors, honouring ``Retry-After``. Not retried: every other
4xx (the request itself is wrong). GraphQL goes to ``{base_url}/graphql`` with basic auth
``api:<key>``; file URLs the server hands out are signed and sent without credentials.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_netrc_auth

from .errors import (
    AuthenticationError,
    CommError,
    InvalidInputError,
    NotFoundError,
    ServerError,
    WandbError,
    redact,
)

log = logging.getLogger("dagster_wandb_artifacts.client")

_RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})
_OPERATION = re.compile(r"\b(?:query|mutation)\s+(\w+)")
#: Most requests a transfer keeps in flight to one server; the connection pool keeps as many
#: connections, so none of them pays a new handshake.
MAX_REQUESTS_IN_FLIGHT = 256
_RETRIED_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: attempts, backoff (doubling, with jitter) and a deadline."""

    max_attempts: int = 8
    initial_backoff: float = 2.0
    max_backoff: float = 60.0
    jitter: float = 0.25
    deadline: float | None = None

    def delays(self) -> Iterator[float]:
        """The pause before each retry (one fewer than ``max_attempts``)."""
        delay = self.initial_backoff
        for _ in range(self.max_attempts - 1):
            yield min(self.max_backoff, delay) * (1 + random.uniform(-self.jitter, self.jitter))
            delay *= 2


def _retry_after(response: requests.Response | None, cap: float) -> float | None:
    header = response.headers.get("Retry-After") if response is not None else None
    if not header:
        return None
    try:
        seconds = float(header)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(header)
        seconds = parsed.timestamp() - time.time() if parsed else 0.0
    return max(0.0, min(cap, seconds))


def _error_for(status: int, message: str) -> WandbError:
    if status in (401, 403):
        return AuthenticationError(
            f"{message}: check the API key (WANDB_API_KEY) and that it may access this entity"
        )
    if status == 404:
        return NotFoundError(message)
    if 400 <= status < 500:
        return InvalidInputError(message)
    return ServerError(f"{message}: the server failed; try again later")


def _graphql_error(errors: list[Any]) -> WandbError:
    messages = "; ".join(
        str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
    )
    lowered = messages.lower()
    if "not found" in lowered:
        return NotFoundError(messages)
    if "permission" in lowered or "unauthorized" in lowered or "api key" in lowered:
        return AuthenticationError(messages)
    if "invalid" in lowered or "cannot query field" in lowered or "must" in lowered:
        return InvalidInputError(messages)
    return ServerError(messages)


@functools.lru_cache(maxsize=256)
def _request_start(query: str) -> bytes:
    """A GraphQL request body up to its variables, JSON-encoded once per document: documents
    are a few KiB and the same few are sent over and over."""
    found = _OPERATION.search(query)
    operation = json.dumps(found.group(1) if found else None)
    return f'{{"operationName":{operation},"query":{json.dumps(query)},"variables":'.encode()


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].rsplit('@', 1)[-1]}"


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


class _Session(requests.Session):
    """A session that reads its environment once per origin, not once per request.

    With ``trust_env``, requests parses ``~/.netrc`` and scans ``os.environ`` for proxy and CA
    settings on every request: for a small file that costs more CPU than the transfer. The
    process's environment is taken as fixed from a session's first request to an origin on.
    """

    def __init__(self) -> None:
        super().__init__()
        self._netrc: dict[str, tuple[str, str] | None] = {}
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if self.trust_env and not request.auth and not self.auth:
            origin = _origin(request.url)
            if origin not in self._netrc:
                self._netrc[origin] = get_netrc_auth(request.url)
            # A callable auth stops requests from reading ~/.netrc again.
            request.auth = self._netrc[origin] or _no_auth
        return super().prepare_request(request)

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        if proxies or not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = (_origin(url), stream, verify, cert)
        if key not in self._environment:
            self._environment[key] = super().merge_environment_settings(
                url, {}, stream, verify, cert
            )
        return dict(self._environment[key])


class GraphQLClient:
    """Requests to one W&B server: GraphQL, authenticated endpoints and signed file URLs."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        user_agent: str = "dagster-wandb-artifacts",
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        if session is None:
            session = _Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=MAX_REQUESTS_IN_FLIGHT)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        session.headers["User-Agent"] = user_agent
        self._session = session
        self._round_trip: float | None = None

    def __repr__(self) -> str:
        return f"<GraphQLClient {self._base_url}>"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def session(self) -> requests.Session:
        return self._session

    @property
    def round_trip(self) -> float | None:
        """Seconds of the fastest GraphQL request so far: the network's round trip plus the
        least the server takes for a request (None before the first)."""
        return self._round_trip

    def _redact(self, text: str) -> str:
        return redact(text, self._api_key)

    def request(
        self,
        method: str,
        url: str,
        *,
        authenticated: bool = False,
        body_factory: Callable[[], IO[bytes] | Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries; ``body_factory`` gives a fresh body (a reopened file) per try."""
        kwargs.setdefault("timeout", self.timeout)
        if authenticated:
            kwargs["auth"] = ("api", self._api_key or "")
        started = time.monotonic()
        delays = self.retry.delays()
        attempt = 0
        while True:
            attempt += 1
            body = body_factory() if body_factory is not None else None
            failure: str
            response: requests.Response | None = None
            try:
                if body is not None:
                    kwargs["data"] = body
                response = self._session.request(method, url, **kwargs)
            except _RETRIED_EXCEPTIONS as exc:
                failure = f"{type(exc).__name__}"
            else:
                if response.status_code not in _RETRIED_STATUS:
                    if response.status_code >= 400:
                        detail = self._redact(response.text[:500])
                        where = self._redact(url.split("?")[0])
                        raise _error_for(
                            response.status_code,
                            f"{method} {where} answered {response.status_code}: {detail}",
                        )
                    return response
                failure = f"HTTP {response.status_code}"
            finally:
                if body is not None and hasattr(body, "close"):
                    body.close()
            delay = next(delays, None)
            elapsed = time.monotonic() - started
            if delay is None or (
                self.retry.deadline is not None and elapsed + delay > self.retry.deadline
            ):
                raise CommError(
                    f"{method} {self._redact(url.split('?')[0])} failed after {attempt} "
                    f"attempts ({failure}): check that the server is reachable, then retry"
                )
            delay = _retry_after(response, self.retry.max_backoff) or delay
            log.debug("retrying %s %s after %s (%.2fs)", method, url.split("?")[0], failure, delay)
            if response is not None:
                response.close()
            time.sleep(delay)

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one GraphQL document; its ``data``, or a typed error."""
        encoded_variables = json.dumps(variables or {}, allow_nan=False).encode()
        started = time.monotonic()
        response = self.request(
            "POST",
            f"{self._base_url}/graphql",
            authenticated=True,
            data=_request_start(query) + encoded_variables + b"}",
            headers={"Content-Type": "application/json"},
        )
        elapsed = time.monotonic() - started
        if self._round_trip is None or elapsed < self._round_trip:
            self._round_trip = elapsed
        try:
            body = response.json()
        except ValueError as exc:
            raise ServerError(
                f"the server's GraphQL reply is not JSON ({self._redact(response.text[:200])})"
            ) from exc
        if not isinstance(body, dict):
            raise ServerError("the server's GraphQL reply is not an object")
        if body.get("errors"):
            raise _graphql_error(
                [
                    self._redact(str(e.get("message", e)))
                    if isinstance(e, dict)
                    else self._redact(str(e))
                    for e in body["errors"]
                ]
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise ServerError("the server's GraphQL reply has no data")
        return data
