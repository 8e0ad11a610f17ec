"""Running the embedded server: its root folder, its key, and a background-thread server."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from .app import create_app
from .automations import Automations, DeliveryPolicy
from .automations.secrets import KEY_FILE as SECRETS_KEY_FILE
from .automations.secrets import key_from_environment, new_key
from .blobs import BlobStore, multipart_folder
from .limits import Limits, limits_from
from .signing import URLSigner, signing_key
from .state import ServerState
from .store import Store

DEFAULT_ENTITY = "local"
KEY_FILE = "api-key"
DATABASE_FILE = "server.db"
_SECRET_FILE = "url-signing-secret"
#: What a new root's ``.gitignore`` holds: everything in it stays out of git.
ROOT_GITIGNORE = "*"


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The file's content, creating it (mode 0600) first if absent.

    The new content is written to a private temporary file and hard-linked into place, so
    of two processes starting at once exactly one wins and both read the same value.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(make())
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text().strip()


def _create_root(root: Path) -> None:
    """Make ``root`` if needed; a root made here (new, or an empty folder) gets a
    ``.gitignore`` ignoring everything, so that its key, secret and database never reach a
    commit of the repository it sits in."""
    if root.is_dir() and any(root.iterdir()):
        return
    root.mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text(f"{ROOT_GITIGNORE}\n")


def new_api_key() -> str:
    """A key of the form W&B keys take (40 or more characters of ``[\\w-]``)."""
    return f"local-{secrets.token_hex(24)}"


def api_key_path(root: str | Path) -> Path:
    return Path(root) / KEY_FILE


#: A multipart upload still incomplete this long after its part URLs expired is abandoned
#: (the SDK completes one as soon as its parts are up): no server can still receive its parts.
ABANDONED_UPLOAD_SECONDS = 24 * 3600


def _remove_abandoned_uploads(store: Store, blobs: BlobStore, begun_before: float) -> None:
    for upload_id in store.forget_multipart(begun_before):
        with contextlib.suppress(FileNotFoundError):  # completed: its parts were joined
            blobs.remove(multipart_folder(upload_id))


def build_state(
    root: str | Path,
    *,
    api_key: str | None = None,
    storage: str | None = None,
    storage_options: dict[str, Any] | None = None,
    entity: str = DEFAULT_ENTITY,
    clock: Callable[[], float] = time.time,
    url_ttl_seconds: int = 24 * 3600,
    verify_reads: bool = True,
    limits: Limits | Mapping[str, object] | None = None,
    public_url: str | None = None,
    trust_host_header: bool = False,
    webhook_allow: Iterable[str] = (),
    delivery_policy: DeliveryPolicy | None = None,
) -> ServerState:
    """The server's state on ``root``; ``storage`` (an fsspec URL) defaults to root/storage.

    ``limits`` bound each request (:class:`Limits`, or ``{name: value}`` over the defaults;
    a bad name or value raises ValueError); ``verify_reads`` checks a whole stored object's
    md5 as it is served and sets a corrupt one aside (its next upload repairs it);
    ``webhook_allow`` lists the IP addresses or networks (``127.0.0.1``, ``10.0.0.0/8``)
    webhooks may reach although they are not public (see ``automations.egress``)."""
    bounds = limits if isinstance(limits, Limits) else limits_from(limits or {})
    root = Path(root)
    _create_root(root)
    key = api_key or _read_or_create(api_key_path(root), new_api_key)
    secret = _read_or_create(root / _SECRET_FILE, lambda: secrets.token_hex(32))
    store = Store(root / DATABASE_FILE)
    store.ensure_entity(entity)
    blobs = BlobStore(storage or str(root / "storage"), root / "staging", **(storage_options or {}))
    _remove_abandoned_uploads(store, blobs, clock() - url_ttl_seconds - ABANDONED_UPLOAD_SECONDS)
    state = ServerState(
        store=store,
        blobs=blobs,
        signer=URLSigner(signing_key(secret, key), ttl_seconds=url_ttl_seconds, clock=clock),
        api_key=key,
        entity=entity,
        verify_reads=verify_reads,
        limits=bounds,
        public_url=public_url.rstrip("/") if public_url else None,
        trust_host_header=trust_host_header,
    )
    state.automations.configure(
        secrets_key=key_from_environment() or _read_or_create(root / SECRETS_KEY_FILE, new_key),
        webhook_allow=webhook_allow,
        policy=delivery_policy,
    )
    return state


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    return sock


def bound_url(sock: socket.socket) -> str | None:
    """``http://host:port`` of a bound socket; None when bound to every interface (no one
    address to tell clients)."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        return None
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def serve(state: ServerState) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(state), log_level="warning", access_log=False, lifespan="off"
    )
    return uvicorn.Server(config)


class LocalServer:
    """The embedded W&B-compatible server on a free loopback port, in a background thread.

    Example::

        with LocalServer("/tmp/wandb-root") as server:
            api = Api(api_key=server.api_key, overrides={"base_url": server.base_url})

    ``requests`` counts requests per route (``"PUT object"``, ``"POST graphql"``, ...) and
    ``bytes_received`` the bytes of every upload, so tests can prove what was (not) sent.
    """

    def __init__(
        self,
        root: str | Path,
        api_key: str | None = None,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        storage: str | None = None,
        storage_options: dict[str, Any] | None = None,
        entity: str = DEFAULT_ENTITY,
        clock: Callable[[], float] = time.time,
        url_ttl_seconds: int = 24 * 3600,
        verify_reads: bool = True,
        limits: Limits | Mapping[str, object] | None = None,
        public_url: str | None = None,
        trust_host_header: bool = False,
        webhook_allow: Iterable[str] = (),
        delivery_policy: DeliveryPolicy | None = None,
    ) -> None:
        self.root = Path(root)
        self._state = build_state(
            root,
            api_key=api_key,
            storage=storage,
            storage_options=storage_options,
            entity=entity,
            clock=clock,
            url_ttl_seconds=url_ttl_seconds,
            verify_reads=verify_reads,
            limits=limits,
            public_url=public_url,
            trust_host_header=trust_host_header,
            webhook_allow=webhook_allow,
            delivery_policy=delivery_policy,
        )
        self._host = host
        self._public_url = self._state.public_url
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def api_key(self) -> str:
        return self._state.api_key

    @property
    def entity(self) -> str:
        return self._state.entity

    @property
    def base_url(self) -> str:
        if self._socket is None:
            raise RuntimeError("the server is not running: call start() or use it in a with block")
        host, port = self._socket.getsockname()[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    @property
    def public_url(self) -> str | None:
        """The URL signed file URLs start with: where clients reach this server (a proxy's
        URL when one is in front), by default its bound address."""
        return self._state.public_url

    @public_url.setter
    def public_url(self, url: str) -> None:
        self._public_url = self._state.public_url = url.rstrip("/")

    @property
    def requests(self) -> Counter[str]:
        return self._state.requests

    @property
    def bytes_received(self) -> int:
        return self._state.bytes_received

    @property
    def automations(self) -> Automations:
        """The server's automations: their tables (and delivery log) and their worker."""
        return self._state.automations

    def start(self) -> LocalServer:
        # The socket listens before the thread starts, so clients can connect at once:
        # the kernel queues them until uvicorn accepts.
        self._socket = bind(self._host, self._port)
        self._state.automations.serving_at(*self._socket.getsockname()[:2])
        self._state.public_url = self._public_url or bound_url(self._socket)
        self._server = serve(self._state)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"wandb-artifacts-server-{self.base_url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._state.automations.stop()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
