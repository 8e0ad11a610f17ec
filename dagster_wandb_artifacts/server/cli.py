"""``dagster-wandb-artifacts``: the command line of the embedded server, on ``click``.

Every failure a user can cause (a missing or wrong root, a bad option, a port in use) is one
line on stderr and a non-zero exit code, never a traceback; Ctrl-C and SIGTERM stop the
server cleanly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from .. import __version__
from .automations import AutomationTables, create_tables
from .blobs import BlobStore
from .integrity import scrub as scrub_objects
from .limits import Limits, limits_from
from .local import (
    DATABASE_FILE,
    DEFAULT_ENTITY,
    api_key_path,
    bind,
    bound_url,
    build_state,
    serve,
)
from .store import Store, StoreError
from .store.accounts import Accounts

PROG = "dagster-wandb-artifacts"
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _version(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.version_option(
        __version__, "--version", prog_name=PROG, message="%(prog)s %(version)s"
    )(function)


def _existing_root(root: str) -> Path:
    """The root of a server that exists: never a new database where one was expected."""
    path = Path(root)
    if not path.is_dir():
        raise click.ClickException(f"no folder {path}: give --root the folder the server runs on")
    if not (path / DATABASE_FILE).is_file():
        raise click.ClickException(
            f"{path} holds no server (no {DATABASE_FILE}): give --root the folder the server "
            "runs on (start it once with `server --root` to create one)"
        )
    return path


def _root_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--root", required=True, metavar="DIR", help=help_text)


_EXISTING_ROOT_HELP = "the server's root folder (it must hold the server's database)"
_ENTITY_HELP = f"the server's default (organization) entity (default {DEFAULT_ENTITY})"


@click.group(context_settings=CONTEXT)
@_version
def cli() -> None:
    """Dagster assets as versioned W&B Artifacts: the embedded W&B-compatible server (the
    backend of host='local', and a server the wandb SDK can use) and its administration."""


def _limits_help() -> str:
    described = "; ".join(
        f"{limit.name} (default {limit.default}): {limit.metadata['help']}"
        for limit in dataclasses.fields(Limits)
    )
    return f"bound of one request, repeatable (over it: a 400 or 413 naming it). {described}"


def _parse_limits(settings: Sequence[str]) -> Limits:
    named = {}
    for setting in settings:
        name, equals, value = setting.partition("=")
        if not equals:
            raise click.UsageError(f"--limit takes NAME=VALUE, not {setting!r}")
        named[name.strip()] = value.strip()
    try:
        return limits_from(named)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@cli.group(invoke_without_command=True, context_settings=CONTEXT)
@_version
@click.option("--root", metavar="DIR", help="folder for its database and files (created if new)")
@click.option("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
@click.option(
    "--port",
    type=int,
    default=8080,
    help="port to listen on (default 8080); links the resource writes point at "
    "WANDB_ARTIFACTS_SERVER_URL, so keep the two in line",
)
@click.option("--storage", metavar="URL", help="fsspec URL for file bytes (default ROOT/storage)")
@click.option(
    "--api-key",
    help="the key clients must send (default: WANDB_API_KEY, else one generated into "
    "ROOT/api-key, mode 0600)",
)
@click.option("--entity", default=DEFAULT_ENTITY, help=_ENTITY_HELP)
@click.option(
    "--public-url",
    metavar="URL",
    help="the URL clients reach the server at, which signed file URLs start with (behind a "
    "proxy or TLS terminator: its URL); default: the bound address",
)
@click.option(
    "--trust-host-header",
    is_flag=True,
    help="build signed URLs from each request's Host header instead of --public-url: only "
    "behind proxies that set it (several proxies of one server, as in benchmarks)",
)
@click.option(
    "--allow-webhook-target",
    "webhook_allow",
    multiple=True,
    metavar="ADDRESS",
    help="an IP address or network (127.0.0.1, 10.0.0.0/8) webhooks may reach although it is "
    "not public, repeatable (default: public addresses only)",
)
@click.option("--limit", "limit_settings", multiple=True, metavar="NAME=VALUE", help=_limits_help())
@click.option(
    "--no-verify-reads",
    "verify_reads",
    is_flag=True,
    flag_value=False,
    default=True,
    help="serve whole stored objects without hashing them (default: hashed as they are "
    "served, and a corrupt one is set aside so that its next upload repairs it)",
)
@click.pass_context
def server(ctx: click.Context, root: str | None, **options: Any) -> None:
    """Run the embedded W&B-compatible server on ROOT (or a subcommand: `server scrub`)."""
    if ctx.invoked_subcommand is not None:
        if root is not None:
            raise click.UsageError(f"give --root after `{ctx.invoked_subcommand}`, not before")
        return
    if root is None:
        raise click.UsageError("missing option '--root' (the server's folder)")
    _run_server(Path(root), **options)


def _run_server(root: Path, *, limit_settings: Sequence[str], **options: Any) -> None:
    limits = _parse_limits(limit_settings)
    if root.exists() and not root.is_dir():
        raise click.ClickException(f"--root {root} is a file, not a folder")
    # uvicorn stops gracefully on SIGINT and SIGTERM, then raises the signal again once its
    # own handlers are gone: both end here as KeyboardInterrupt (so do signals that come
    # before it serves), and the exit is clean.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        _serve(root, limits=limits, **options)
    click.echo("Server stopped.")


def _serve(root: Path, *, host: str, port: int, api_key: str | None, **settings: Any) -> None:
    api_key = api_key or os.environ.get("WANDB_API_KEY")
    try:
        state = build_state(root, api_key=api_key, **settings)
    except OSError as exc:
        raise click.ClickException(f"cannot use --root {root}: {exc.strerror or exc}") from None
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); is another server using "
            f"port {port}? Choose another with --port"
        ) from None
    bound_host, bound_port = sock.getsockname()[:2]
    state.automations.serving_at(bound_host, bound_port)
    state.public_url = state.public_url or bound_url(sock)
    browse = state.public_url or f"http://{bound_host}:{bound_port}"
    click.echo(f"W&B-compatible artifact server on http://{bound_host}:{bound_port} (root {root})")
    password = (
        f"the API key in {api_key_path(root)}"
        if api_key is None
        else "the API key given with --api-key or WANDB_API_KEY"
    )
    click.echo(f"Open {browse} in a browser: user 'api', password {password}")
    if state.public_url is None:
        click.echo("Signed URLs: from the address each connection arrived at (set --public-url)")
    click.echo("Stop it with Ctrl-C.")
    serve(state).run(sockets=[sock])


@server.command(context_settings=CONTEXT)
@_version
@_root_option(_EXISTING_ROOT_HELP)
@click.option("--storage", metavar="URL", help="fsspec URL of the bytes (default ROOT/storage)")
def scrub(root: str, storage: str | None) -> None:
    """Check every stored object's md5 and set corrupt ones aside, so that their next upload
    repairs them (exit code 1 if any is corrupt or missing; safe while the server runs)."""
    path = _existing_root(root)
    blob_store = BlobStore(storage or str(path / "storage"), path / "staging")
    report = scrub_objects(Store(path / DATABASE_FILE), blob_store)
    click.echo(
        f"checked {report.checked} objects: {len(report.corrupt)} corrupt (set aside under "
        f"corrupt/), {len(report.missing)} missing; the next log of their bytes repairs them"
    )
    for md5_hex in report.corrupt:
        click.echo(f"corrupt {md5_hex}")
    for md5_hex in report.missing:
        click.echo(f"missing {md5_hex}")
    if report.corrupt or report.missing:
        raise click.exceptions.Exit(1)


@cli.command(context_settings=CONTEXT)
@_version
@_root_option(_EXISTING_ROOT_HELP)
@click.option("--email", required=True, help="the user's email (its username is made from it)")
@click.option("--admin", is_flag=True, help="an administrator of the server")
@click.option("--entity", default=DEFAULT_ENTITY, help=_ENTITY_HELP)
def user(root: str, email: str, admin: bool, entity: str) -> None:
    """Add a user with one API key, written to ROOT/keys/<username> (mode 0600): the key is
    never printed."""
    path = _existing_root(root)
    accounts = Accounts(Store(path / DATABASE_FILE), entity)
    try:
        created = accounts.create_user(email, admin)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    key_file = path / "keys" / created.username
    key_file.parent.mkdir(mode=0o700, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(accounts.generate_key(created.id, "created by the CLI"))
    click.echo(f"user {created.username!r} (entity {created.username!r}); API key in {key_file}")


@cli.group(context_settings=CONTEXT)
@_version
def integration() -> None:
    """Add a webhook or Slack integration to an entity of an embedded server (W&B adds them
    in its UI; a running server sees it at once, as both share the database)."""


def _add_integration(root: str, entity: str, kind: str, name: str, url: str, **extra: Any) -> None:
    path = _existing_root(root)
    store = Store(path / DATABASE_FILE)
    create_tables(store)
    try:
        AutomationTables(store).add_integration(entity, kind, name, url, **extra)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


_INTEGRATION_ENTITY_HELP = f"the entity (team) it belongs to (default {DEFAULT_ENTITY})"


def _integration_command(
    name_help: str, url_help: str
) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand of ``integration`` with the options every kind has."""

    def decorate(function: Callable[..., Any]) -> click.Command:
        for option in reversed(
            [
                _version,
                _root_option(_EXISTING_ROOT_HELP),
                click.option("--entity", default=DEFAULT_ENTITY, help=_INTEGRATION_ENTITY_HELP),
                click.option("--name", required=True, help=name_help),
                click.option("--url", required=True, help=url_help),
            ]
        ):
            function = option(function)
        return integration.command(context_settings=CONTEXT)(function)

    return decorate


@_integration_command(
    "the webhook's name, as automations refer to it", "the endpoint the server POSTs to"
)
@click.option("--secret-ref", help="a team secret that signs each request (X-Wandb-Signature)")
@click.option("--access-token-ref", help="a team secret sent as the Bearer token")
def webhook(
    root: str,
    entity: str,
    name: str,
    url: str,
    secret_ref: str | None,
    access_token_ref: str | None,
) -> None:
    """Add a generic webhook integration."""
    _add_integration(
        root,
        entity,
        "GenericWebhookIntegration",
        name,
        url,
        secret_ref=secret_ref,
        access_token_ref=access_token_ref,
    )
    click.echo(f"webhook integration {name!r} added to {entity!r}")


@_integration_command("the Slack channel's name", "the channel's Slack incoming-webhook URL")
@click.option("--team", default="local", help="the Slack workspace's name (default local)")
def slack(root: str, entity: str, name: str, url: str, team: str) -> None:
    """Add a Slack integration (Slack cannot be authorized offline: give the channel's
    incoming-webhook URL)."""
    _add_integration(
        root, entity, "SlackIntegration", name, url, team_name=team, channel_name=name
    )
    click.echo(f"slack integration {name!r} added to {entity!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: click's parsing, with every error one line on stderr."""
    args = list(argv) if argv is not None else None
    try:
        outcome = cli.main(args, prog_name=PROG, standalone_mode=False)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else PROG
        click.echo(f"{command}: error: {exc.format_message()} (see {command} --help)", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"{PROG}: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo(f"{PROG}: interrupted", err=True)
        return 130
    return outcome if isinstance(outcome, int) else 0


if __name__ == "__main__":
    sys.exit(main())
