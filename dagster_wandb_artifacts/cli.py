"""``dagster-wandb-artifacts``: the command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .server.blobs import BlobStore
from .server.integrity import scrub
from .server.local import (
    DATABASE_FILE,
    DEFAULT_ENTITY,
    api_key_path,
    bind,
    bound_url,
    build_state,
    serve,
)
from .server.store import Store

DESCRIPTION = (
    "Dagster assets as versioned W&B Artifacts. `server` runs the embedded W&B-compatible "
    "artifact server: the backend of host='local', and a server the wandb SDK can use."
)


def _server(args: argparse.Namespace) -> int:
    api_key = args.api_key or os.environ.get("WANDB_API_KEY")
    state = build_state(
        args.root,
        api_key=api_key,
        storage=args.storage,
        entity=args.entity,
        public_url=args.public_url,
    )
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(
            f"dagster-wandb-artifacts: cannot listen on {args.host}:{args.port} "
            f"({exc.strerror or exc}); is another server using port {args.port}? Choose another "
            "with --port",
            file=sys.stderr,
        )
        return 2
    host, port = sock.getsockname()[:2]
    state.public_url = state.public_url or bound_url(sock)
    print(f"W&B-compatible artifact server on http://{host}:{port} (root {args.root})")
    if state.public_url is None:
        print("Signed URLs: from the address each connection arrived at (set --public-url)")
    if api_key is None:
        key_file = api_key_path(args.root)
        print(f"API key: in {key_file}")
    else:
        print("API key: the one given with --api-key or WANDB_API_KEY")
    sys.stdout.flush()
    serve(state).run(sockets=[sock])
    return 0


def _scrub(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not (root / DATABASE_FILE).is_file():
        print(f"{root} holds no server (no {DATABASE_FILE})", file=sys.stderr)
        return 2
    blob_store = BlobStore(args.storage or str(root / "storage"), root / "staging")
    report = scrub(Store(root / DATABASE_FILE), blob_store)
    print(
        f"checked {report.checked} objects: {len(report.corrupt)} corrupt (set aside under "
        f"corrupt/), {len(report.missing)} missing; the next log of their bytes repairs them"
    )
    for md5_hex in report.corrupt:
        print(f"corrupt {md5_hex}")
    for md5_hex in report.missing:
        print(f"missing {md5_hex}")
    return 1 if report.corrupt or report.missing else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dagster-wandb-artifacts", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server", help="run the embedded W&B-compatible server")
    server.add_argument(
        "action",
        nargs="?",
        choices=["run", "scrub"],
        default="run",
        help="run (default) the server, or scrub: check every stored object's md5 and set "
        "corrupt ones aside so that their next upload repairs them (exit code 1 if any)",
    )
    server.add_argument("--root", required=True, help="folder for its database and files")
    server.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    server.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port to listen on (default 8080); links written by the resource point at "
        "WANDB_ARTIFACTS_SERVER_URL, so keep the two in line",
    )
    server.add_argument("--storage", help="fsspec URL for file bytes (default ROOT/storage)")
    server.add_argument(
        "--api-key",
        help="the key clients must send (default: WANDB_API_KEY, "
        "else one generated into ROOT/api-key)",
    )
    server.add_argument("--entity", default=DEFAULT_ENTITY, help="the viewer's default entity")
    server.add_argument(
        "--public-url",
        help="the URL clients reach the server at, which signed file URLs start with (behind "
        "a proxy or TLS terminator: its URL); default: the bound address",
    )
    args = parser.parse_args(argv)
    return _scrub(args) if args.action == "scrub" else _server(args)


if __name__ == "__main__":
    sys.exit(main())
