"""A TCP proxy on loopback that makes a local server look far away: delay each way, optional
rate cap per direction.

    python bench/latency_proxy.py --target 127.0.0.1:8080 --rtt-ms 40 [--rate-mbit 1000]

prints ``listening on 127.0.0.1:<port>`` and relays until killed. ``LatencyProxy`` runs the
same in a thread of its own (the tests use it).

What it emulates, per direction:
- **Delay.** Every byte reaches the other side ``rtt / 2`` after the proxy read it.
- **Rate.** One link per direction, shared by every connection (as an access link is): bytes
  leave at most at ``rate`` bytes a second, one chunk after the other, then travel the delay.
- **Connection setup.** A new connection reaches the server one round trip after it was
  accepted (TCP's handshake; no TLS).
- **Window** (optional). At most ``window`` bytes of a connection are unacknowledged: a chunk
  counts against it from when it is read until one round trip later (delivery plus the ACK's
  way back), which caps one connection at ``window / rtt`` as a TCP window does.

It binds 127.0.0.1 only. Bytes are relayed as they are: it speaks TCP, not HTTP, so the
server must sign its file URLs for the proxy's address (``--public-url``), or transfers
bypass it.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

_CHUNK = 256 * 1024
#: In-flight bytes per connection and direction when no window is given: enough to fill
#: 1 Gbit/s at 150 ms, bounded so a fast sender cannot make the proxy hold a whole file.
_UNBOUNDED_WINDOW = 64 * 1024**2


@dataclass(frozen=True)
class Path:
    """The emulated network between the client and the server."""

    rtt: float
    #: Bytes a second in each direction, or None for no cap.
    rate: float | None = None
    #: Unacknowledged bytes allowed per connection and direction, or None for no TCP window.
    window: int | None = None


class _Link:
    """One direction's bottleneck: chunks leave one after the other at ``rate``."""

    def __init__(self, delay: float, rate: float | None) -> None:
        self.delay, self.rate = delay, rate
        self._free_at = 0.0

    def arrival(self, size: int) -> float:
        """When a chunk read now reaches the other side."""
        now = time.monotonic()
        if self.rate is None:
            return now + self.delay
        leaves = max(now, self._free_at) + size / self.rate
        self._free_at = leaves
        return leaves + self.delay


class _Window:
    """Bytes of one direction of one connection that are not acknowledged yet."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self._released = asyncio.Event()

    async def take(self, size: int) -> None:
        while self.used and self.used + size > self.limit:
            self._released.clear()
            await self._released.wait()
        self.used += size

    def give(self, size: int) -> None:
        self.used -= size
        self._released.set()


async def _relay(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link, path: Path
) -> None:
    """Copy ``reader`` through ``link`` to ``writer``; half-close ``writer`` at the end."""
    loop = asyncio.get_running_loop()
    window = _Window(path.window or _UNBOUNDED_WINDOW)
    pending: deque[tuple[float, bytes]] = deque()
    arrived = asyncio.Event()
    done = False

    async def receive() -> None:
        nonlocal done
        try:
            while data := await reader.read(_CHUNK):
                await window.take(len(data))
                pending.append((link.arrival(len(data)), data))
                arrived.set()
        except ConnectionError:
            pass
        finally:
            done = True
            arrived.set()

    async def deliver() -> None:
        while True:
            while not pending:
                if done:
                    return
                arrived.clear()
                await arrived.wait()
            due, data = pending.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
            # The ACK travels back: the window opens one delay after delivery.
            loop.call_later(path.rtt / 2 if path.window else 0, window.give, len(data))

    receiving = asyncio.ensure_future(receive())
    try:
        await deliver()
        if writer.can_write_eof():
            writer.write_eof()
    except ConnectionError:
        pass
    finally:
        receiving.cancel()


class _Proxy:
    def __init__(self, target: tuple[str, int], path: Path) -> None:
        self.target, self.path = target, path
        self.links = (_Link(path.rtt / 2, path.rate), _Link(path.rtt / 2, path.rate))
        self.connections = 0

    async def handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        upstream, downstream = self.links
        server: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        server = asyncio.get_running_loop().create_future()

        # Nothing is read from the client before the server is there: the request leaves
        # once the handshake's round trip is over.
        async def to_server() -> None:
            await _relay(client_reader, (await server)[1], upstream, self.path)

        async def to_client() -> None:
            await _relay((await server)[0], client_writer, downstream, self.path)

        relays = asyncio.gather(to_server(), to_client(), return_exceptions=True)
        server_writer = None
        try:
            await asyncio.sleep(self.path.rtt)  # SYN, SYN-ACK
            server_reader, server_writer = await asyncio.open_connection(*self.target)
            server.set_result((server_reader, server_writer))
            await relays
        except (OSError, asyncio.CancelledError):
            # Cancelled: the proxy is stopping; the connection just ends.
            relays.cancel()
        finally:
            for writer in (client_writer, server_writer):
                if writer is not None:
                    writer.close()


class LatencyProxy:
    """The proxy on a free 127.0.0.1 port, served by an event loop in a daemon thread.

    Use as a context manager; ``address`` is ``host:port`` to point a client at.
    """

    def __init__(self, target: str, path: Path, port: int = 0) -> None:
        host, _, target_port = target.rpartition(":")
        self._proxy = _Proxy((host, int(target_port)), path)
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self.address = ""

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        return self._proxy.connections

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._proxy.handle, "127.0.0.1", self._port), self._loop
        ).result(timeout=10)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.address = f"{host}:{port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 now, for a proxy and a server that must know
    each other's address before either starts (all probed at once: a port just released is
    the next one the kernel hands out)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def path_from(rtt_ms: float, rate_mbit: float | None, window_mib: float | None) -> Path:
    return Path(
        rtt=rtt_ms / 1000,
        rate=rate_mbit * 1e6 / 8 if rate_mbit else None,
        window=int(window_mib * 1024**2) if window_mib else None,
    )


async def _serve(target: str, path: Path, port: int) -> None:
    host, _, target_port = target.rpartition(":")
    proxy = _Proxy((host, int(target_port)), path)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", port)
    bound_host, bound_port = server.sockets[0].getsockname()[:2]
    print(f"listening on {bound_host}:{bound_port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port of the server")
    parser.add_argument("--rtt-ms", type=float, required=True, help="round trip time")
    parser.add_argument("--rate-mbit", type=float, help="cap per direction, Mbit/s")
    parser.add_argument("--window-mib", type=float, help="TCP window per connection, MiB")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    args = parser.parse_args()
    path = path_from(args.rtt_ms, args.rate_mbit, args.window_mib)
    asyncio.run(_serve(args.target, path, args.port))


if __name__ == "__main__":
    main()
