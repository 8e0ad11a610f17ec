"""Where the server may connect for a webhook, and the bounded POST that connects there.

A webhook makes the server send a request to an address its creator chose, so the address is
checked when the request is made, not only when the integration is saved: the host is
resolved, every address it resolves to must be public (not loopback, link-local, private,
multicast, unspecified, reserved, nor the server's own), unless the administrator allowed it
(``--allow-webhook-target`` / ``LocalServer(webhook_allow=...)``), and the connection goes to
the very address that was checked, so a DNS answer that changes between the check and the
connection (rebinding) cannot redirect it. Only http(s) is spoken, redirects are not
followed, and every attempt is bounded: connect time, total time, bytes of answer read.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(Exception):
    """The URL may not be reached from this server (scheme, address): never retried."""


@dataclass(frozen=True)
class Limits:
    """Bounds of one attempt: seconds to connect, seconds in all, bytes of answer read."""

    connect_seconds: float = 5.0
    #: A receiver may act before it answers (the Dagster receiver launches a run).
    total_seconds: float = 30.0
    response_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        # The total bound cuts a connected socket: it must not run out while connecting.
        if not 0 < self.connect_seconds < self.total_seconds:
            raise ValueError("connect_seconds must be positive and below total_seconds")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress

    @property
    def key(self) -> str:
        return target_key(f"{self.scheme}://{self.host}:{self.port}")


def target_key(url: str) -> str:
    """``host:port`` of a URL: what deliveries are served fairly by."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    return f"{(parts.hostname or '').lower()}:{port}"


def _network(entry: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(entry.strip().strip("[]"), strict=False)
    except ValueError as exc:
        raise ValueError(
            f"webhook target {entry!r} is not an IP address or network (e.g. 127.0.0.1, "
            "10.0.0.0/8, ::1)"
        ) from exc


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4 address mapped into IPv6 (``::ffff:127.0.0.1``) is judged as the IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _forbidden(address: IPAddress) -> str | None:
    for reason in (
        "loopback",
        "link_local",
        "private",
        "multicast",
        "unspecified",
        "reserved",
    ):
        if getattr(address, f"is_{reason}"):
            return reason.replace("_", "-")
    return None


@dataclass
class EgressPolicy:
    """The administrator's allow-list, and the addresses this server itself listens on."""

    allow: tuple[IPNetwork, ...] = ()
    own: set[tuple[IPAddress, int]] = field(default_factory=set)

    @classmethod
    def allowing(cls, entries: Iterable[str]) -> EgressPolicy:
        return cls(tuple(_network(entry) for entry in entries))

    def serving_at(self, host: str, port: int) -> None:
        """Note an address this server listens on (every local one for 0.0.0.0 or ::)."""
        address = _plain(ipaddress.ip_address(host))
        hosts: set[IPAddress] = {address}
        if address.is_unspecified:
            hosts |= {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
            try:
                names = socket.getaddrinfo(socket.gethostname(), None)
            except OSError:
                names = []
            hosts |= {_plain(ipaddress.ip_address(info[4][0].split("%")[0])) for info in names}
        self.own |= {(host_address, port) for host_address in hosts}

    def check(self, url: str) -> Target:
        """The target to connect to: every address the host resolves to is checked, and the
        first one is the one connected to."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise TargetRefused(f"only http(s) webhooks are sent, not {parts.scheme or url!r}")
        if not parts.hostname or parts.username or parts.password:
            raise TargetRefused("a webhook's URL is http(s)://host[:port]/path, without userinfo")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise TargetRefused(f"bad port in {url!r}") from exc
        try:
            infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"cannot resolve {parts.hostname!r}: {exc}") from exc
        addresses = [_plain(ipaddress.ip_address(info[4][0].split("%")[0])) for info in infos]
        if not addresses:
            raise TargetRefused(f"{parts.hostname!r} resolves to no address")
        for address in addresses:
            self._check_address(parts.hostname, address, port)
        path = parts.path or "/"
        return Target(
            parts.scheme,
            parts.hostname,
            port,
            f"{path}?{parts.query}" if parts.query else path,
            addresses[0],
        )

    def _check_address(self, host: str, address: IPAddress, port: int) -> None:
        if (address, port) in self.own:
            raise TargetRefused(f"{host} ({address}:{port}) is this server itself")
        if any(address in network for network in self.allow):
            return
        if reason := _forbidden(address):
            raise TargetRefused(
                f"{host} resolves to {address}, a {reason} address: the server's administrator "
                "may allow it with --allow-webhook-target"
            )


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to the checked address, whatever the host's name resolves to now."""

    def __init__(self, target: Target, limits: Limits) -> None:
        super().__init__(target.host, target.port, timeout=limits.connect_seconds)
        self._address = str(target.address)
        # Once connected, only the attempt's total time bounds a read (see ``post``).
        self._read_timeout = limits.total_seconds

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(self._read_timeout)


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int
    #: The first bytes of the answer (at most ``Limits.response_bytes``).
    body: bytes


def post(target: Target, body: bytes, headers: Mapping[str, str], limits: Limits) -> Answer:
    """POST ``body`` to the target within the limits (raises OSError or HTTPException when
    the target fails or runs out of time). The answer is read up to the byte bound and the
    connection closed: a target's reply never grows the server."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, limits)
    # The total bound: a target that answers one byte at a time beats every per-read
    # timeout, so a timer cuts the connection when the attempt's time is up.
    expired = threading.Event()
    timer = threading.Timer(limits.total_seconds, _cut, (connection, expired))
    timer.daemon = True
    timer.start()
    try:
        connection.request("POST", target.path, body=body, headers=dict(headers))
        reply = connection.getresponse()
        received = reply.read(limits.response_bytes) if reply.status != 204 else b""
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set():
            raise TimeoutError(f"no answer within {limits.total_seconds:g} s") from exc
        raise
    finally:
        timer.cancel()
        connection.close()
    if expired.is_set():
        raise TimeoutError(f"no answer within {limits.total_seconds:g} s")
    return Answer(reply.status, received)


def _cut(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing to cut
            sock.shutdown(socket.SHUT_RDWR)
