"""The benchmarks' latency proxy delays, caps and relays bytes intact (bench/latency_proxy.py)."""

from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from bench.latency_proxy import LatencyProxy, Path


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(1 << 16):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[str]:
    """A TCP echo server on loopback, as ``host:port``."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "{}:{}".format(*server.server_address)
    finally:
        server.shutdown()
        server.server_close()


def _connect(address: str) -> socket.socket:
    host, _, port = address.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _exchange(connection: socket.socket, payload: bytes) -> bytes:
    """Send ``payload`` while reading its echo back, as one request and its reply would."""
    received = bytearray()
    sender = threading.Thread(target=connection.sendall, args=(payload,))
    sender.start()
    while len(received) < len(payload):
        chunk = connection.recv(1 << 20)
        assert chunk, "the proxy closed the connection early"
        received += chunk
    sender.join()
    return bytes(received)


def test_each_exchange_takes_a_round_trip_and_a_new_connection_one_more(echo: str) -> None:
    rtt = 0.08
    with LatencyProxy(echo, Path(rtt=rtt)) as proxy, _connect(proxy.address) as connection:
        started = time.monotonic()
        assert _exchange(connection, b"ping") == b"ping"
        first = time.monotonic() - started
        started = time.monotonic()
        assert _exchange(connection, b"again") == b"again"
        second = time.monotonic() - started
    assert first >= 2 * rtt  # the handshake's round trip, then the request's
    assert rtt <= second < 2 * rtt
    assert proxy.connections == 1


def test_the_rate_cap_bounds_throughput_and_bytes_arrive_intact(echo: str) -> None:
    payload = os.urandom(2_000_000)
    rate = 10e6
    with LatencyProxy(echo, Path(rtt=0.01, rate=rate)) as proxy, _connect(proxy.address) as c:
        started = time.monotonic()
        assert _exchange(c, payload) == payload
        elapsed = time.monotonic() - started
    assert elapsed >= len(payload) / rate


def test_the_rate_cap_is_shared_by_connections(echo: str) -> None:
    payload = os.urandom(1_000_000)
    rate = 10e6
    with LatencyProxy(echo, Path(rtt=0.01, rate=rate)) as proxy:
        connections = [_connect(proxy.address) for _ in range(2)]
        started = time.monotonic()
        results: list[bytes] = []
        threads = [
            threading.Thread(target=lambda c=c: results.append(_exchange(c, payload)))
            for c in connections
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        elapsed = time.monotonic() - started
        for connection in connections:
            connection.close()
    assert results == [payload, payload]
    assert elapsed >= 2 * len(payload) / rate


def test_a_window_caps_one_connection_at_a_window_per_round_trip(echo: str) -> None:
    payload = os.urandom(2 * 1024**2)
    rtt, window = 0.05, 256 * 1024
    with LatencyProxy(echo, Path(rtt=rtt, window=window)) as proxy, _connect(proxy.address) as c:
        started = time.monotonic()
        assert _exchange(c, payload) == payload
        elapsed = time.monotonic() - started
    assert elapsed >= (len(payload) // window - 1) * rtt
