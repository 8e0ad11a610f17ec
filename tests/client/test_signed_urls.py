"""Signed file URLs skip the session's per-request preparation, but a storage that answers
with a redirect (W&B may send a file URL on to its bucket) is still followed as requests
follows it, the body sent again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dagster_wandb_artifacts.client.errors import NotFoundError
from dagster_wandb_artifacts.client.transport import GraphQLClient


class _Storage:
    """``/moved/<name>`` redirects to ``/<name>``, which keeps what was PUT there."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        storage = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: bytes = b"", location: str = "") -> None:
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                storage.requests.append(("GET", self.path))
                if self.path.startswith("/moved/"):
                    self._reply(302, location=self.path.removeprefix("/moved"))
                elif self.path in storage.objects:
                    self._reply(200, storage.objects[self.path])
                else:
                    self._reply(404, b"no such object")

            def do_PUT(self) -> None:  # noqa: N802 - http.server's name
                body = self._body()
                storage.requests.append(("PUT", self.path))
                if self.path.startswith("/moved/"):
                    self._reply(307, location=self.path.removeprefix("/moved"))
                else:
                    storage.objects[self.path] = body
                    self._reply(200)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def storage() -> Iterator[_Storage]:
    storage = _Storage()
    thread = threading.Thread(target=storage.server.serve_forever, daemon=True)
    thread.start()
    yield storage
    storage.server.shutdown()
    storage.server.server_close()


def test_redirected_put_sends_a_fresh_body_and_get_follows(storage: _Storage) -> None:
    client = GraphQLClient(storage.url, "key")
    opened: list[bytes] = []

    def body() -> bytes:
        opened.append(b"payload")
        return opened[-1]

    client.request("PUT", f"{storage.url}/moved/a", signed=True, body_factory=body)
    assert storage.objects == {"/a": b"payload"}
    assert len(opened) == 2  # once for the redirected try, once for the followed one
    response = client.request("GET", f"{storage.url}/moved/a", signed=True)
    assert response.content == b"payload"
    assert storage.requests[-2:] == [("GET", "/moved/a"), ("GET", "/a")]


def test_signed_errors_stay_typed(storage: _Storage) -> None:
    client = GraphQLClient(storage.url, "key")
    with pytest.raises(NotFoundError, match="GET .*/missing answered 404"):
        client.request("GET", f"{storage.url}/missing", signed=True)
