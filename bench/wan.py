"""Our client and the wandb SDK 0.31 across an emulated internet path, in one run.

    python bench/wan.py [--rtts 40,150] [--files 1000,10000] [--big-mib 1024]
                        [--rate-mbit 1000] [--chain/--no-chain]

The server runs on loopback behind ``bench/latency_proxy.py`` (a process of its own per path):
RTT/2 of delay each way plus a round trip per new connection, no bandwidth cap for the small
files, ``Api().artifact`` and the Dagster chain; a cap of --rate-mbit per direction, shared by
every connection, for the big file. Both sides talk to the same proxy and server.

Per RTT: log (``log_artifact`` alone, and init + log + finish) and cold load of each
--files count of 1-64 KiB files, ours and the SDK's (as in ``sdk_compare.py``); the same for
one --big-mib file under the cap, against the floor the cap sets for its bytes;
``Api().artifact(name)`` (median of 10) in round trips; the Dagster chain of 10 assets
(bench/chain.py) with our IO manager, and the round trips on its critical path: the time
covered by at least one of our HTTP requests in flight, over the RTT (requests that overlap
count once). One sample each: the heavy cases take minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from chain import timed_materialize
from dagster import FilesystemIOManager
from harness import (
    ServerProcess,
    report,
    server_process,
    stop_process,
    timed,
    touch_memory,
)
from latency_proxy import free_ports
from sdk_compare import (
    WANDB_DIRS,
    big_file,
    cold_loads,
    empty,
    ours_api,
    ours_log,
    sdk_log,
    small_files,
)

from dagster_wandb_artifacts import WandbArtifactsIOManager, WandbArtifactsResource

BENCH = Path(__file__).resolve().parent
SMALL_TARGET = 0.5
#: Big file: at most this many times the cap's floor, and at most the SDK's time.
FLOOR_TARGET = 1.1
_LISTENING = re.compile(r"listening on (\S+)")


@contextmanager
def far_server(root: Path, rtt_ms: float, rate_mbit: float | None) -> Iterator[ServerProcess]:
    """The server on ``root`` as seen through a latency proxy in a process of its own; the
    server signs its file URLs for the proxy, so file transfers cross it too."""
    port, server_port = free_ports(2)
    with server_process(root, f"http://127.0.0.1:{port}", server_port) as server:
        target = server.base_url.split("://", 1)[1]
        command = [sys.executable, str(BENCH / "latency_proxy.py"), "--target", target]
        command += ["--rtt-ms", str(rtt_ms), "--port", str(port)]
        if rate_mbit:
            command += ["--rate-mbit", str(rate_mbit)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            match = _LISTENING.search(process.stdout.readline())
            if match is None:
                raise RuntimeError(f"the proxy did not start (exit code {process.wait()})")
            yield ServerProcess(f"http://{match.group(1)}", server.api_key, server.process)
        finally:
            stop_process(process)


def _label(request: requests.PreparedRequest) -> str:
    """A request as the profile names it: its GraphQL operation, else method and path kind."""
    body = request.body if isinstance(request.body, bytes) else b""
    found = _OPERATION.match(body[:200])
    if found:
        return found.group(1).decode()
    path = (request.path_url or "").split("?")[0]
    return f"{request.method} {'/'.join(path.split('/')[:3])}"


_OPERATION = re.compile(rb'\{"operationName":"(\w+)"')


class RequestLog:
    """When each HTTP request of this process was in flight (from send to its reply's
    headers), to find the round trips on the critical path."""

    def __init__(self) -> None:
        self._spans: list[tuple[float, float, str]] = []
        self._lock = threading.Lock()
        # The adapter, not the session: file transfers to signed URLs skip the session.
        original = requests.adapters.HTTPAdapter.send

        def send(adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kw):
            started = time.perf_counter()
            try:
                return original(adapter, request, **kw)
            finally:
                with self._lock:
                    self._spans.append((started, time.perf_counter(), _label(request)))

        requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]

    @contextmanager
    def recording(self) -> Iterator[list[tuple[float, float, str]]]:
        spans: list[tuple[float, float, str]] = []
        with self._lock:
            self._spans = spans
        yield spans

    @staticmethod
    def busy_seconds(spans: list[tuple[float, float, str]]) -> float:
        """The time at least one request was in flight."""
        total, end = 0.0, float("-inf")
        for start, stop, _ in sorted(spans):
            if stop > end:
                total += stop - max(start, end)
                end = stop
        return total


def both_sides(
    server: ServerProcess, work: Path, name: str, source: Callable[[Path], Path]
) -> dict[str, tuple[float, float]]:
    """(ours, SDK) seconds of logging (whole, alone) and of a cold load of our version, each
    side logging bytes of its own from ``source(folder)``."""
    sdk_whole, sdk_alone = sdk_log(server, f"sdk-{name}", source(work / "sdk"))
    api = ours_api(server, empty(work / "ours-cache"))
    ours_whole, ours_alone = ours_log(api, f"ours-{name}", source(work / "ours"))
    return {
        "whole": (ours_whole, sdk_whole),
        "alone": (ours_alone, sdk_alone),
        "load": cold_loads(server, f"bench/bench/ours-{name}:latest", work),
    }


def small_cases(
    server: ServerProcess, work: Path, rtt_ms: float, files: int, index: int
) -> list[tuple[object, ...]]:
    label = f"{files:,} files of 1-64 KiB"
    name = f"small-{rtt_ms:g}-{files}-{index}"
    times = both_sides(server, work, name, lambda folder: small_files(folder, files))
    target = f"<= {SMALL_TARGET}"
    return [
        (f"log {label}, log_artifact alone", rtt_ms, *times["alone"], None, target),
        (f"log {label}, init + log + finish", rtt_ms, *times["whole"], None, target),
        (f"cold load {label}", rtt_ms, *times["load"], None, target),
    ]


def big_cases(
    server: ServerProcess, work: Path, rtt_ms: float, mib: int, rate_mbit: float
) -> list[tuple[object, ...]]:
    label = f"one {mib} MiB file at {rate_mbit:g} Mbit/s"
    floor = mib * 1024**2 * 8 / (rate_mbit * 1e6)
    times = both_sides(server, work, f"big-{rtt_ms:g}", lambda folder: big_file(folder, mib))
    target = f"<= {FLOOR_TARGET} x floor, <= SDK"
    return [
        (f"log {label}, log_artifact alone", rtt_ms, *times["alone"], floor, target),
        (f"cold load {label}", rtt_ms, *times["load"], floor, target),
    ]


def artifact_latency(
    server: ServerProcess, work: Path, rtt_ms: float, name: str, log: RequestLog
) -> tuple[object, ...]:
    import wandb

    api = ours_api(server, empty(work / "ours-cache"))
    sdk_api = wandb.Api(overrides={"base_url": server.base_url}, api_key=server.api_key)
    # The first call of each pays its connection's handshake.
    api.artifact(name), sdk_api.artifact(name)
    with log.recording() as spans:
        ours = statistics.median(timed(lambda: api.artifact(name)) for _ in range(10))
    requests_per_call = len(spans) / 10
    sdk = statistics.median(timed(lambda: sdk_api.artifact(name)) for _ in range(10))
    case = f"Api().artifact(name), median of 10 ({requests_per_call:g} requests per call)"
    return (case, rtt_ms, ours, sdk, None, "1 round trip")


def chain_case(
    server: ServerProcess, rtt_ms: float, log: RequestLog, project: str, work: Path
) -> tuple[object, ...]:
    """The chain on our IO manager across the path, against the same chain on
    ``FilesystemIOManager`` (local disk: no path to cross) as its floor."""
    wandb = WandbArtifactsResource(
        host=server.base_url, api_key=server.api_key, entity="bench", project=project
    )
    with log.recording() as spans:
        seconds = timed_materialize({"io_manager": WandbArtifactsIOManager(wandb=wandb)})
    filesystem = timed_materialize(
        {"io_manager": FilesystemIOManager(base_dir=str(empty(work / f"fs-{project}")))}
    )
    per_step = RequestLog.busy_seconds(spans) / (rtt_ms / 1000) / 10
    case = (
        f"Dagster chain of 10 assets: {len(spans) / 10:.1f} requests and "
        f"{per_step:.1f} round trips on the critical path per step (floor: the chain on "
        "FilesystemIOManager)"
    )
    return (case, rtt_ms, seconds, None, filesystem, "")


def timeline(spans: list[tuple[float, float, str]], rtt: float) -> list[list[object]]:
    """Requests in the order they started, those of one kind in a row merged: (request,
    count, from, to), times in round trips from the first request."""
    first = min(start for start, _, _ in spans)
    rows: list[list[object]] = []
    for start, stop, label in sorted(spans):
        if rows and rows[-1][0] == label:
            rows[-1][1] += 1  # type: ignore[operator]
            rows[-1][3] = max(rows[-1][3], (stop - first) / rtt)  # type: ignore[call-overload]
        else:
            rows.append([label, 1, (start - first) / rtt, (stop - first) / rtt])
    return rows


def profile(server: ServerProcess, work: Path, rtt_ms: float, files: int, log: RequestLog) -> None:
    """Our requests, case by case, on the time line of round trips: what is on the critical
    path. Each case's last row sums it up: its wall time and the time at least one request
    was in flight, in round trips."""
    rtt = rtt_ms / 1000
    api = ours_api(server, empty(work / "profile-cache"))
    source = small_files(work / "profile", files)
    cases: list[tuple[str, Callable[[], object]]] = [
        (
            f"create_run + log_artifact + finish, {files:,} files",
            lambda: ours_log(api, "profiled", source),
        ),
        (
            f"cold load, {files:,} files",
            lambda: (
                ours_api(server, empty(work / "profile-cold"))
                .artifact("profiled:latest")
                .download(empty(work / "profile-out"))
            ),
        ),
        ("Api().artifact(name)", lambda: api.artifact("profiled:latest")),
    ]
    wandb = WandbArtifactsResource(
        host=server.base_url, api_key=server.api_key, entity="bench", project="profile-chain"
    )
    chain = {"io_manager": WandbArtifactsIOManager(wandb=wandb)}
    cases.append(("Dagster chain of 10 assets", lambda: timed_materialize(chain)))
    for case, action in cases:
        with log.recording() as spans:
            seconds = timed(action)
        rows = timeline(spans, rtt)
        rows.append(["(wall / busy)", len(spans), seconds / rtt, log.busy_seconds(spans) / rtt])
        print(f"\n### {case} at RTT {rtt_ms:g} ms\n")
        report(["request", "count", "from RTT", "to RTT"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtts", default="40,150", help="round trip times, ms")
    parser.add_argument("--files", default="1000,10000", help="small-file counts")
    parser.add_argument("--big-mib", type=int, default=1024, help="0 to skip the big file")
    parser.add_argument("--rate-mbit", type=float, default=1000.0, help="the big file's cap")
    parser.add_argument("--no-chain", action="store_true", help="skip the Dagster chain")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="only our client's requests on a time line, at the first RTT and file count",
    )
    args = parser.parse_args()
    rtts = [float(value) for value in args.rtts.split(",")]
    counts = [int(value) for value in args.files.split(",") if value]
    log = RequestLog()
    rows: list[tuple[object, ...]] = []
    with tempfile.TemporaryDirectory(prefix="wan-bench-") as tmp:
        work = Path(tmp)
        if args.big_mib:
            touch_memory(work, -(-4 * args.big_mib // 1024))
        for variable in WANDB_DIRS:
            os.environ[variable] = str(empty(work / variable))
        os.environ["WANDB_SILENT"] = "true"
        if not args.no_chain:
            # Dagster's first materialization in a process pays its warm-up: not measured.
            timed_materialize({"io_manager": FilesystemIOManager(base_dir=str(work / "fs"))})
        root = work / "server"
        if args.profile:
            with far_server(root, rtts[0], None) as far:
                profile(far, work, rtts[0], counts[0], log)
            return
        for rtt_ms in rtts:
            with far_server(root, rtt_ms, None) as far:
                for index, count in enumerate(counts):
                    rows += small_cases(far, work, rtt_ms, count, index)
                if counts:
                    name = f"bench/bench/ours-small-{rtt_ms:g}-{counts[0]}-0:latest"
                    rows.append(artifact_latency(far, work, rtt_ms, name, log))
                if not args.no_chain:
                    rows.append(chain_case(far, rtt_ms, log, f"chain-{rtt_ms:g}", work))
            if args.big_mib:
                with far_server(root, rtt_ms, args.rate_mbit) as capped:
                    rows += big_cases(capped, work, rtt_ms, args.big_mib, args.rate_mbit)
    table = []
    for case, rtt_ms, ours, sdk, floor, target in rows:
        table.append(
            (
                f"RTT {rtt_ms:g} ms: {case}",
                ours,
                sdk,
                None if sdk is None else ours / sdk,
                ours / (rtt_ms / 1000),
                floor,
                None if floor is None else ours / floor,
                target,
            )
        )
    report(
        [
            "case",
            "ours s",
            "SDK s",
            "ours / SDK",
            "ours in RTTs",
            "floor s",
            "ours / floor",
            "target",
        ],
        table,
        summary=["ours / SDK", "ours / floor"],
    )


if __name__ == "__main__":
    main()
