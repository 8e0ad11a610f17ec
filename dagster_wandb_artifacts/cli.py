"""``dagster-wandb-artifacts``: the command line."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .server.automations import AutomationTables, create_tables
from .server.blobs import BlobStore
from .server.integrity import scrub
from .server.limits import Limits, limits_from
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
from .server.store.accounts import Accounts

DESCRIPTION = (
    "Dagster assets as versioned W&B Artifacts. `server` runs the embedded W&B-compatible "
    "artifact server: the backend of host='local', and a server the wandb SDK can use."
)


def _server(args: argparse.Namespace) -> int:
    api_key = args.api_key or os.environ.get("WANDB_API_KEY")
    try:
        limits = _limits(args.limit)
    except ValueError as exc:
        print(f"dagster-wandb-artifacts: {exc}", file=sys.stderr)
        return 2
    state = build_state(
        args.root,
        api_key=api_key,
        storage=args.storage,
        entity=args.entity,
        public_url=args.public_url,
        limits=limits,
        verify_reads=args.verify_reads,
        trust_host_header=args.trust_host_header,
        webhook_allow=args.allow_webhook_target,
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
    state.automations.serving_at(host, port)
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


def _integration(args: argparse.Namespace) -> int:
    """Adds an integration to a server's database (W&B adds them in its UI; a running server
    sees it at once, as both share the SQLite file)."""
    store = Store(Path(args.root) / DATABASE_FILE)
    create_tables(store)
    tables = AutomationTables(store)
    if args.kind == "webhook":
        tables.add_integration(
            args.entity,
            "GenericWebhookIntegration",
            args.name,
            args.url,
            secret_ref=args.secret_ref,
            access_token_ref=args.access_token_ref,
        )
    else:
        tables.add_integration(
            args.entity,
            "SlackIntegration",
            args.name,
            args.url,
            team_name=args.team,
            channel_name=args.name,
        )
    print(f"{args.kind} integration {args.name!r} added to {args.entity!r}")
    return 0


def _user(args: argparse.Namespace) -> int:
    """Creates a user with one API key, written to ROOT/keys/<username> (mode 0600): the key
    is never printed."""
    root = Path(args.root)
    accounts = Accounts(Store(root / DATABASE_FILE), args.entity)
    user = accounts.create_user(args.email, args.admin)
    key_file = root / "keys" / user.username
    key_file.parent.mkdir(mode=0o700, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(accounts.generate_key(user.id, "created by the CLI"))
    print(f"user {user.username!r} (entity {user.username!r}); API key in {key_file}")
    return 0


def _add_user_parser(commands: Any) -> None:
    user = commands.add_parser("user", help="add a user (with an API key) to an embedded server")
    user.add_argument("--root", required=True, help="the server's root folder")
    user.add_argument("--email", required=True)
    user.add_argument("--admin", action="store_true", help="an administrator of the server")
    user.add_argument(
        "--entity", default=DEFAULT_ENTITY, help="the server's default (organization) entity"
    )
    user.set_defaults(run=_user)


def _add_integration_parser(commands: Any) -> None:
    integration = commands.add_parser(
        "integration", help="add a webhook or Slack integration to an embedded server's entity"
    )
    integration.add_argument("kind", choices=["webhook", "slack"])
    integration.add_argument("--root", required=True, help="the server's root folder")
    integration.add_argument("--entity", default=DEFAULT_ENTITY)
    integration.add_argument("--name", required=True, help="the webhook's (or channel's) name")
    integration.add_argument(
        "--url", required=True, help="the endpoint (for Slack: an incoming-webhook URL)"
    )
    integration.add_argument("--team", default="local", help="Slack: the workspace's name")
    integration.add_argument("--secret-ref", help="webhook: team secret that signs requests")
    integration.add_argument("--access-token-ref", help="webhook: team secret sent as Bearer")
    integration.set_defaults(run=_integration)


def _add_limit_options(server: argparse.ArgumentParser) -> None:
    described = "; ".join(
        f"{limit.name} (default {limit.default}): {limit.metadata['help']}"
        for limit in dataclasses.fields(Limits)
    )
    server.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"bound of one request, repeatable (over it: a 400 or 413 naming it). {described}",
    )
    server.add_argument(
        "--no-verify-reads",
        dest="verify_reads",
        action="store_false",
        help="serve whole stored objects without hashing them (default: hashed as they are "
        "served, and a corrupt one is set aside so that its next upload repairs it)",
    )


def _limits(settings: list[str]) -> Limits:
    named = {}
    for setting in settings:
        name, equals, value = setting.partition("=")
        if not equals:
            raise ValueError(f"--limit takes NAME=VALUE, not {setting!r}")
        named[name.strip()] = value.strip()
    return limits_from(named)


def _server_command(args: argparse.Namespace) -> int:
    return _scrub(args) if args.action == "scrub" else _server(args)


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
    server.add_argument(
        "--trust-host-header",
        action="store_true",
        help="build signed URLs from each request's Host header instead of --public-url: "
        "only behind proxies that set it (several proxies of one server, as in benchmarks)",
    )
    server.add_argument(
        "--allow-webhook-target",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="an IP address or network (127.0.0.1, 10.0.0.0/8) webhooks may reach although "
        "it is not public, repeatable (default: public addresses only)",
    )
    _add_limit_options(server)
    server.set_defaults(run=_server_command)
    _add_integration_parser(commands)
    _add_user_parser(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
