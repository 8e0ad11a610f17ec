"""Transport retries and errors, the shared cache, and hostile manifests."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dagster_wandb_artifacts.client import (
    ArtifactCache,
    AuthenticationError,
    CommError,
    IntegrityError,
    InvalidInputError,
    Manifest,
    ManifestEntry,
    NotFoundError,
    RetryPolicy,
    ServerError,
)
from dagster_wandb_artifacts.client.transfer import SafeTargets, parallel_map
from dagster_wandb_artifacts.client.transport import GraphQLClient
from dagster_wandb_artifacts.formats.hashing import THREADED_MD5_SIZE, ThreadedMD5

KEY = "k" * 40
FAST = RetryPolicy(max_attempts=4, initial_backoff=0.001, max_backoff=0.01)


class Scripted:
    def __init__(self, url: str, seen: list[dict]) -> None:
        self.url, self.seen = url, seen


@pytest.fixture
def scripted() -> Iterator[Callable[[list[tuple[int, dict, bytes]]], Scripted]]:
    """A loopback HTTP server answering each request with the next scripted reply."""
    servers = []

    def start(replies: list[tuple[int, dict, bytes]]) -> Scripted:
        seen: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "body": self.rfile.read(length),
                    }
                )
                status, headers, body = replies.pop(0) if replies else (500, {}, b"")
                if status == 0:  # drop the connection without answering
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _reply  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Scripted(f"http://127.0.0.1:{server.server_address[1]}", seen)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def ok(data: dict) -> tuple[int, dict, bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps({"data": data}).encode()


def test_retries_5xx_429_and_dropped_connections(scripted):
    url = scripted(
        [
            (503, {}, b""),
            (429, {"Retry-After": "0"}, b""),
            (0, {}, b""),
            ok({"viewer": {"id": "1"}}),
        ]
    ).url
    client = GraphQLClient(url, KEY, retry=FAST)
    assert client.execute("query Viewer { viewer { id } }") == {"viewer": {"id": "1"}}


def test_gives_up_with_a_clear_error_after_bounded_retries(scripted):
    url = scripted([(500, {}, b"boom")] * 10).url
    with pytest.raises(CommError, match="4 attempts") as raised:
        GraphQLClient(url, KEY, retry=FAST).execute("query Q { viewer { id } }")
    assert KEY not in str(raised.value)


def test_unreachable_server_is_a_comm_error():
    with pytest.raises(CommError, match="reachable"):
        GraphQLClient("http://127.0.0.1:9", KEY, retry=FAST).execute("{ viewer { id } }")


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ((401, {}, b'{"errors": [{"message": "bad key"}]}'), AuthenticationError),
        ((404, {}, b"missing"), NotFoundError),
        ((400, {}, b"bad query"), InvalidInputError),
        (
            (200, {}, json.dumps({"errors": [{"message": f"artifact {KEY} not found"}]}).encode()),
            NotFoundError,
        ),
        ((200, {}, json.dumps({"errors": [{"message": "exploded"}]}).encode()), ServerError),
        ((200, {}, b"not json"), ServerError),
    ],
)
def test_typed_errors_without_the_key(scripted, reply, error):
    url = scripted([reply]).url
    with pytest.raises(error) as raised:
        GraphQLClient(url, KEY, retry=FAST).execute("query Q { viewer { id } }")
    assert KEY not in str(raised.value) and KEY not in repr(raised.value)


def test_graphql_is_authenticated_and_file_urls_are_not(scripted):
    server = scripted([ok({"x": 1}), (200, {}, b"bytes")])
    client = GraphQLClient(server.url, KEY, retry=FAST)
    client.execute("query Named { viewer { id } }")
    assert client.request("GET", f"{server.url}/signed?sig=1").content == b"bytes"
    first, second = server.seen
    assert first["auth"] == "Basic " + base64.b64encode(f"api:{KEY}".encode()).decode()
    assert json.loads(first["body"])["operationName"] == "Named"
    assert second["auth"] is None


def test_retried_put_resends_the_whole_body(scripted, tmp_path):
    server = scripted([(503, {}, b""), (200, {}, b"")])
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1000)
    client = GraphQLClient(server.url, KEY, retry=FAST)
    client.request("PUT", f"{server.url}/up", body_factory=lambda: open(path, "rb"))  # noqa: SIM115
    assert [len(r["body"]) for r in server.seen] == [1000, 1000]


# Cache ---------------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_cache_layout_hit_and_corruption(tmp_path):
    cache = ArtifactCache(tmp_path)
    data = b"cached bytes"
    with cache.open_writer(b64(data), len(data)) as writer:
        writer.write(data)
    hex_digest = hashlib.md5(data).hexdigest()
    path = tmp_path / "artifacts/obj/md5" / hex_digest[:2] / hex_digest[2:]
    assert cache.get(b64(data), len(data)) == path
    assert cache.get(b64(data), len(data) + 1) is None  # size decides first
    path.write_bytes(b"cached bytez")  # same size, other bytes, new mtime
    assert cache.get(b64(data), len(data)) is None
    assert not path.exists()


def test_cache_records_verification_on_the_inode_and_reads_older_record_files(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    source = tmp_path / "logged.bin"
    source.write_bytes(b"logged bytes")
    path = cache.add_file(source, b64(b"logged bytes"), 12)
    stat = path.stat()
    assert stat.st_ino == source.stat().st_ino  # linked, not copied
    attribute = "user.dagster_wandb_artifacts.verified"
    assert json.loads(os.getxattr(path, attribute)) == [12, stat.st_mtime_ns, stat.st_ino]
    assert not path.with_name(path.name + ".stat").exists()
    # A cache written before (a .stat file) is still trusted: bytes changed behind the
    # record's back, stat kept, are not hashed again; the record is what a hit relies on.
    os.removexattr(path, attribute)
    path.with_name(path.name + ".stat").write_text(json.dumps([12, stat.st_mtime_ns, stat.st_ino]))
    path.write_bytes(b"LOGGED BYTES")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache.get(b64(b"logged bytes"), 12) == path
    path.with_name(path.name + ".stat").unlink()
    assert cache.get(b64(b"logged bytes"), 12) is None  # no record: hashed, found wrong


def test_cache_refuses_wrong_bytes(tmp_path):
    cache = ArtifactCache(tmp_path)
    with pytest.raises(IntegrityError), cache.open_writer(b64(b"expected"), 8) as writer:
        writer.write(b"received")
    assert cache.get(b64(b"expected"), 8) is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_threaded_md5_matches_hashlib_for_any_chunking():
    data = os.urandom(3_000_000)
    threaded = ThreadedMD5(batch=100_000)
    for start in range(0, len(data), 70_000):
        threaded.update(data[start : start + 70_000])
    assert threaded.hexdigest() == hashlib.md5(data).hexdigest()
    assert threaded.digest() == hashlib.md5(data).digest()


def test_cache_checks_large_objects_hashed_in_a_thread(tmp_path):
    cache = ArtifactCache(tmp_path)
    data = os.urandom(THREADED_MD5_SIZE + 1)
    with cache.open_writer(b64(data), len(data)) as writer:
        for start in range(0, len(data), 1 << 20):
            writer.write(data[start : start + (1 << 20)])
    assert cache.get(b64(data), len(data)).read_bytes() == data
    corrupt = bytes([data[0] ^ 1]) + data[1:]
    with pytest.raises(IntegrityError), cache.open_writer(b64(corrupt), len(data)) as writer:
        writer.write(data)


def test_download_targets_stay_inside_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "out").symlink_to(tmp_path)
    targets = SafeTargets(root, ["a/x.bin", "a/y.bin", "b/z.bin"])
    assert targets["a/y.bin"] == root.resolve() / "a" / "y.bin"
    for escaping in ("../x", "a/../../x", "a/out", "a/out/x"):
        with pytest.raises(InvalidInputError):
            SafeTargets(root, [escaping])


def test_cache_evicts_least_recently_used(tmp_path):
    cache = ArtifactCache(tmp_path)
    blobs = [bytes([i]) * 100 for i in range(3)]
    for index, data in enumerate(blobs):
        source = tmp_path / f"s{index}"
        source.write_bytes(data)
        cache.add_file(source, b64(data), len(data))
        os.utime(cache.path_for(b64(data)), (1000 + index, 1000 + index))
    cache.get(b64(blobs[0]), 100)  # the oldest becomes the most recently used
    assert cache.cleanup(150) == 200
    assert cache.get(b64(blobs[0]), 100) is not None
    assert cache.get(b64(blobs[1]), 100) is None and cache.get(b64(blobs[2]), 100) is None


def test_processes_writing_one_object_at_once_leave_it_whole(tmp_path):
    data = os.urandom(2_000_000)
    (tmp_path / "data").write_bytes(data)
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from dagster_wandb_artifacts.client import ArtifactCache
        root, digest = sys.argv[1], sys.argv[2]
        data = (Path(root) / "data").read_bytes()
        cache = ArtifactCache(Path(root) / "cache")
        for _ in range(5):
            with cache.open_writer(digest, len(data)) as writer:
                for start in range(0, len(data), 65536):
                    writer.write(data[start:start + 65536])
            assert cache.get(digest, len(data)) is not None
        """
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), b64(data)]) for _ in range(6)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0] * 6
    cache = ArtifactCache(tmp_path / "cache")
    assert cache.get(b64(data), len(data)).read_bytes() == data
    assert not [p for p in (tmp_path / "cache").rglob(".tmp-*")]


# Manifests -----------------------------------------------------------------------------------


def manifest_with(contents: dict) -> bytes:
    return json.dumps(
        {
            "version": 1,
            "storagePolicy": "wandb-storage-policy-v1",
            "storagePolicyConfig": {"storageLayout": "V2"},
            "contents": contents,
        }
    ).encode()


@pytest.mark.parametrize(
    "path", ["../escape", "/etc/passwd", "a/../../b", "C:\\x", "a\\b", "", "a//b", "nul\x00"]
)
def test_hostile_manifest_paths_are_refused(path):
    with pytest.raises(InvalidInputError):
        Manifest.from_bytes(manifest_with({path: {"digest": "x", "size": 1}}))


@pytest.mark.parametrize("size", [-1, 2**60, "12", True])
def test_absurd_sizes_are_refused(size):
    with pytest.raises(InvalidInputError):
        Manifest.from_bytes(manifest_with({"a": {"digest": "x", "size": size}}))


def test_unknown_entry_keys_are_ignored_and_round_trip():
    body = manifest_with(
        {
            "b": {"digest": "d2", "size": 2, "local_path": "/x", "skip_cache": 1},
            "a": {
                "digest": "d1",
                "size": 1,
                "ref": "file:///a",
                "extra": {"etag": "e"},
                "birthArtifactID": "QQ==",
            },
        }
    )
    manifest = Manifest.from_bytes(body)
    assert list(manifest.entries) == ["b", "a"]
    again = Manifest.from_bytes(manifest.to_bytes())
    assert again.digest() == manifest.digest()
    assert b"local_path" not in manifest.to_bytes()
    assert again.get("a").extra == {"etag": "e"} and again.get("a").birth_artifact_id == "QQ=="
    with pytest.raises(InvalidInputError):
        Manifest.from_bytes(b'{"version": 2, "contents": {}}')


def test_manifest_bytes_are_one_json_dump_of_the_whole_document():
    # Entries are serialized a slice at a time; the bytes must not show the seams.
    manifest = Manifest()
    for i in range(2500):
        manifest.add(
            ManifestEntry(
                path=f"d{i % 7}/f\u00e9{i}.bin",
                digest=base64.b64encode(hashlib.md5(str(i).encode()).digest()).decode(),
                size=i,
                extra={"etag": f"e{i}"} if i % 5 == 0 else None,
            )
        )
    document = {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": {e.path: e.to_json() for e in sorted(manifest, key=lambda e: e.path)},
    }
    assert manifest.to_bytes() == json.dumps(document, separators=(",", ":")).encode()
    assert Manifest().to_bytes().endswith(b'"contents":{}}')


def test_parallel_map_keeps_order_draws_lazily_and_stops_at_a_failure():
    assert parallel_map(lambda x: x * 2, iter(range(1000)), 4) == list(range(0, 2000, 2))
    started: list[int] = []

    def fail_at_ten(item: int) -> None:
        started.append(item)
        if item == 10:
            raise ValueError(item)

    with pytest.raises(ValueError, match="10"):
        parallel_map(fail_at_ten, iter(range(100_000)), 4)
    assert len(started) < 1000

    def failing_source() -> Iterator[int]:
        yield from range(20)
        raise ServerError("no more")

    with pytest.raises(ServerError, match="no more"):
        parallel_map(lambda x: x, failing_source(), 4)
