"""HTTP transport: one ``requests.Session``, retries with backoff, typed errors.

Retried: 429, 5xx and connection errors, honouring ``Retry-After``, each retry announced (a
Dagster warning in a step, see :mod:`.progress`) and all of a call's retries bounded in time.
Not retried: every other 4xx (the request itself is wrong). GraphQL goes to
``{base_url}/graphql`` with basic auth ``api:<key>``; file URLs the server hands out are
signed and sent without credentials.
"""

from __future__ import annotations

import contextvars
import email.utils
import functools
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import requests
from requests.adapters import HTTPAdapter
from requests.hooks import default_hooks
from requests.structures import CaseInsensitiveDict
from requests.utils import get_netrc_auth, super_len

from . import progress
from .errors import (
    AuthenticationError,
    CommError,
    InvalidInputError,
    NotFoundError,
    ServerError,
    WandbError,
    redact,
)

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


_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "dagster_wandb_artifacts_time_limit", default=None
)
_refused_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "dagster_wandb_artifacts_refused_limit", default=None
)
#: The cause ``_describe`` gives a connection nobody accepted.
_REFUSED = "connection refused"


@contextmanager
def time_limited(seconds: float) -> Iterator[None]:
    """Calls in this block wait at most ``seconds`` per request and retry for at most
    ``seconds`` after their first failure (teardown, discovery, pre-flight checks)."""
    token = _limit.set(seconds)
    try:
        yield
    finally:
        _limit.reset(token)


@contextmanager
def refusals_fail_fast(seconds: float) -> Iterator[None]:
    """Calls in this block give up on a refused connection ``seconds`` after the first failure
    (a pre-flight check: nothing listens there), while timeouts and 5xx keep their retries."""
    token = _refused_limit.set(seconds)
    try:
        yield
    finally:
        _refused_limit.reset(token)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: attempts, backoff (doubling, with jitter) and a deadline.

    ``deadline`` bounds the seconds a call keeps retrying after its first failure (the time a
    long upload took before it failed does not count); ``None`` leaves only ``max_attempts``.
    """

    max_attempts: int = 8
    initial_backoff: float = 2.0
    max_backoff: float = 60.0
    jitter: float = 0.25
    deadline: float | None = 30.0

    def delays(self) -> Iterator[float]:
        """The pause before each retry (one fewer than ``max_attempts``)."""
        delay = self.initial_backoff
        for _ in range(self.max_attempts - 1):
            yield min(self.max_backoff, delay) * (1 + random.uniform(-self.jitter, self.jitter))
            delay *= 2

    def start(self, what: str) -> Retries:
        """The retries of one call of ``what`` (``"PUT https://..."``)."""
        return Retries(self, what)


class Retries:
    """The retries of one call: each failure gets the pause before the next try, announced
    with what failed, the attempt and the wait, or ``None`` when no try is left."""

    def __init__(self, policy: RetryPolicy, what: str) -> None:
        self._policy = policy
        self._what = what
        self._delays = policy.delays()
        self._first_failure: float | None = None
        self._deadline: float | None = None
        self._planned = policy.max_attempts
        #: The number of the attempt that just failed.
        self.attempt = 1

    @property
    def elapsed(self) -> float:
        """Seconds since the first failure."""
        return 0.0 if self._first_failure is None else time.monotonic() - self._first_failure

    def next_delay(self, failure: str, suggested: float | None = None) -> float | None:
        if self._first_failure is None:
            self._first_failure = time.monotonic()
            self._deadline = self._deadline_for(failure)
            self._planned = self._attempts_within(self._deadline)
        delay = next(self._delays, None)
        if delay is None:
            return None
        delay = suggested or delay
        deadline = self._deadline
        if deadline is not None:
            remaining = deadline - self.elapsed
            if remaining < 0.05:
                return None
            delay = min(delay, remaining)  # a last try at the deadline, not none at all
        bound = f", giving up {deadline:g} s after the first failure" if deadline else ""
        progress.warn(
            f"{self._what} failed ({failure}): attempt {self.attempt} of at most "
            f"{self._planned}, next try in {delay:.1f} s{bound}"
        )
        self.attempt += 1
        return delay

    def _deadline_for(self, failure: str) -> float | None:
        """The policy's deadline, shortened by the block's time limit and, for a refused
        connection, by :func:`refusals_fail_fast`."""
        deadline = self._policy.deadline
        limits = [_limit.get()]
        if failure.endswith(_REFUSED):
            limits.append(_refused_limit.get())
        for limit in limits:
            if limit is not None:
                deadline = limit if deadline is None else min(deadline, limit)
        return deadline

    def _attempts_within(self, deadline: float | None) -> int:
        """The most attempts the pauses ahead leave room for before ``deadline`` (fewer when
        the requests themselves take time), so that "attempt n of m" is never an overstatement."""
        pauses = list(self._delays)  # sampled once: the count and the pauses agree
        self._delays = iter(pauses)
        attempts, waited = 1, 0.0
        for pause in pauses:
            if deadline is not None:
                remaining = deadline - waited
                if remaining < 0.05:
                    break
                pause = min(pause, remaining)
            waited += pause
            attempts += 1
        return attempts


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


def _describe(exc: Exception) -> str:
    """A short cause: requests' messages nest urllib3's whole retry story."""
    text = str(exc)
    for cause in (
        "Connection refused",
        "Connection reset",
        "Name or service not known",
        "timed out",
        "Broken pipe",
        "Remote end closed connection",
    ):
        if cause.lower() in text.lower():
            return f"{type(exc).__name__}: {cause.lower()}"
    return type(exc).__name__


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
        signed: bool = False,
        body_factory: Callable[[], IO[bytes] | Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries; ``body_factory`` gives a fresh body (a reopened file) per try.

        ``signed``: ``url`` is a file URL the server signed, sent as it is (see
        :meth:`_send_signed`); only ``data``, ``headers``, ``stream`` and ``timeout`` apply.
        """
        limit = _limit.get()
        kwargs.setdefault("timeout", self.timeout if limit is None else min(self.timeout, limit))
        if authenticated:
            kwargs["auth"] = ("api", self._api_key or "")
        where = f"{method} {self._redact(url.split('?')[0])}"
        retries = self.retry.start(where)
        while True:
            body = body_factory() if body_factory is not None else None
            failure: str
            response: requests.Response | None = None
            try:
                if body is not None:
                    kwargs["data"] = body
                response = self._send_signed(method, url, **kwargs) if signed else None
                if response is None:
                    if signed and body_factory is not None and body is not None:
                        if hasattr(body, "close"):
                            body.close()
                        body = kwargs["data"] = body_factory()
                    response = self._session.request(method, url, **kwargs)
            except _RETRIED_EXCEPTIONS as exc:
                failure = self._redact(_describe(exc))
            else:
                if response.status_code not in _RETRIED_STATUS:
                    if response.status_code >= 400:
                        detail = self._redact(response.text[:500])
                        raise _error_for(
                            response.status_code,
                            f"{where} answered {response.status_code}: {detail}",
                        )
                    return response
                failure = f"HTTP {response.status_code}"
            finally:
                if body is not None and hasattr(body, "close"):
                    body.close()
            delay = retries.next_delay(failure, _retry_after(response, self.retry.max_backoff))
            if delay is None:
                raise CommError(
                    f"{where} failed after {retries.attempt} attempts in "
                    f"{retries.elapsed:.0f} s ({failure}): check that the server is reachable, "
                    "then retry"
                )
            if response is not None:
                response.close()
            time.sleep(delay)

    def _send_signed(
        self,
        method: str,
        url: str,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        timeout: float | None = None,
    ) -> requests.Response | None:
        """One request straight through the session's adapter; None when it was redirected.

        A signed URL needs none of what ``Session.request`` adds per request (cookies, auth,
        hooks, URL re-quoting, settings merged again): for a small file that preparation
        costs about as much CPU as the rest of the transfer. A redirect (W&B may send a file
        URL on to its storage) is left to the session, which follows it as requests does.
        """
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = CaseInsensitiveDict(self._session.headers)
        prepared.headers.update(headers or {})
        prepared.body = data
        if data is not None and "Content-Length" not in prepared.headers:
            prepared.headers["Content-Length"] = str(super_len(data))
        prepared.hooks = default_hooks()
        settings = self._session.merge_environment_settings(url, {}, stream, None, None)
        response = self._session.get_adapter(url).send(prepared, timeout=timeout, **settings)
        if response.is_redirect:
            response.close()
            return None
        if not stream:
            response.content  # noqa: B018 - read whole, which hands the connection back
        return response

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
