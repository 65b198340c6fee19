"""Command-line management: users, app passwords, tokens, conversations. Each prints only its result on stdout;
errors go to stderr with a non-zero exit."""

import sys
from collections.abc import Callable, Sequence
from typing import BinaryIO, TextIO, TypeVar

import click
from flask import Flask, current_app

from .auth import issue_token
from .errors import ApiError
from .extensions import db
from .models import Caller, User
from .schemas.base import isoformat
from .services import login_throttle, transfer
from .services import users as service
from .services.users import create_app_password, create_user, find_user

R = TypeVar("R")


def _user_or_exit(name: str) -> User:
    user = find_user(name)
    if user is None:
        raise click.ClickException(f"No user named {name!r}.")
    return user


def _run(action: Callable[[], R]) -> R:
    """Run a service call and commit; an ApiError becomes a ClickException (stderr, exit 1), writing nothing."""
    try:
        result = action()
    except ApiError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    return result


def _table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    lines = [tuple(str(cell) for cell in row) for row in [header, *rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


@click.group("user")
def user_group() -> None:
    """Manage users."""


@user_group.command("create")
@click.argument("name")
@click.option("--password", help="The user's password (asked twice, without echo, when not given).")
@click.option("--organisation", "organisation_name", help="Join this organisation (created if new) and make it active.")
def create_user_command(name: str, password: str | None, organisation_name: str | None) -> None:
    """Create a user."""
    chosen = _password(False) if password is None else password
    _run(lambda: create_user(name, chosen, organisation_name=organisation_name))
    click.echo(f"Created user {name.strip()}.", err=True)


@user_group.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
def set_password_command(name: str, password_stdin: bool) -> None:
    """Set a user's password; every token issued to them before ends."""
    user = _user_or_exit(name)
    password = _password(password_stdin)
    _run(lambda: service.set_password(user, password))
    click.echo(f"Password of {user.username} changed; their earlier tokens have ended.", err=True)


@user_group.command("list")
def list_users_command() -> None:
    """List users: name, organisations (* marks the active one), created, state."""
    rows: list[tuple[str, str, str, str]] = []
    for user in service.list_users():
        organisations = ", ".join(
            ("*" if membership.organisation_id == user.active_organisation_id else "") + membership.organisation.name
            for membership in sorted(user.memberships, key=lambda membership: membership.organisation.name)
        )
        rows.append((user.username, organisations or "-", isoformat(user.created),
                     "disabled" if user.disabled else "active"))
    click.echo(_table(("NAME", "ORGANISATIONS", "CREATED", "STATE"), rows))


@user_group.command("disable")
@click.argument("name")
def disable_user_command(name: str) -> None:
    """Disable a user: every credential is refused, and every token issued before ends for good."""
    _set_disabled(name, True)


@user_group.command("enable")
@click.argument("name")
def enable_user_command(name: str) -> None:
    """Enable a disabled user: passwords and app passwords work again (earlier tokens stay ended)."""
    _set_disabled(name, False)


def _set_disabled(name: str, disabled: bool) -> None:
    user = _user_or_exit(name)
    _run(lambda: service.set_disabled(user, disabled))
    click.echo(f"{'Disabled' if disabled else 'Enabled'} {user.username}.", err=True)


@user_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_user_command(name: str, yes: bool) -> None:
    """Delete a user with their conversations, feedback, app passwords, agents and the organisations they own alone."""
    user = _user_or_exit(name)
    if not yes:
        click.confirm(f"Delete {user.username} and everything they own?", abort=True, err=True)
    username = user.username
    _run(lambda: service.delete_user(user))
    click.echo(f"Deleted {username}.", err=True)


@user_group.command("unlock")
@click.argument("name", required=False)
@click.option("--address", help="Lift every lock that involves this client address.")
def unlock_command(name: str | None, address: str | None) -> None:
    """Lift sign-in lock-outs: those that involve NAME, or --address; with neither, all."""
    removed = login_throttle.unlock(name, address)
    click.echo(f"Lifted {removed} lock-out counter(s).", err=True)


@click.group("app-password")
def app_password_group() -> None:
    """Manage app passwords."""


@app_password_group.command("create")
@click.argument("name")
@click.option("--label", default="app password", help="What the app password is for.")
def create_app_password_command(name: str, label: str) -> None:
    """Create an app password for a user and print it."""
    secret = create_app_password(_user_or_exit(name), label)
    db.session.commit()
    click.echo(secret)


@app_password_group.command("list")
@click.argument("name")
def list_app_passwords_command(name: str) -> None:
    """List a user's app passwords: id, label, created, last used (never the secret)."""
    rows = [
        (app_password.id, app_password.name, isoformat(app_password.created),
         isoformat(app_password.last_used) if app_password.last_used else "never")
        for app_password in service.list_app_passwords(_user_or_exit(name))
    ]
    click.echo(_table(("ID", "LABEL", "CREATED", "LAST USED"), rows))


@app_password_group.command("revoke")
@click.argument("name")
@click.argument("app_password_id", metavar="ID", type=int)
def revoke_app_password_command(name: str, app_password_id: int) -> None:
    """Revoke one of a user's app passwords."""
    user = _user_or_exit(name)
    _run(lambda: service.revoke_app_password(user, app_password_id))
    click.echo(f"Revoked app password {app_password_id} of {user.username}.", err=True)


@click.command("token")
@click.argument("name")
def token_command(name: str) -> None:
    """Print an access token (JWT) for a user."""
    user = _user_or_exit(name)
    if user.disabled:
        raise click.ClickException(f"{user.username} is disabled.")
    click.echo(issue_token(user))


@click.group("conversations")
def conversations_group() -> None:
    """Export and import a user's conversations (in their active organisation)."""


@conversations_group.command("export")
@click.argument("name")
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Write the NDJSON here instead of to standard output.")
def export_conversations_command(name: str, output: TextIO) -> None:
    """Export a user's conversations as NDJSON, one export document a line, as the API's export."""
    user = _user_or_exit(name)
    exported = 0
    with click.progressbar(length=transfer.count_exportable(Caller.of(user)), label="Exporting", file=sys.stderr) as bar:
        for line in transfer.export_lines(Caller.of(user)):
            output.write(line)
            exported += 1
            bar.update(1)
    click.echo(f"Exported {exported} conversations of {user.username}.", err=True)


@conversations_group.command("import")
@click.argument("name")
@click.argument("file", type=click.File("rb"))
def import_conversations_command(name: str, file: BinaryIO) -> None:
    """Import conversations for a user, all or nothing, as the API's import: FILE is an export document,
    NDJSON of them (named *.ndjson or *.jsonl), or ChatGPT's conversations.json."""
    user = _user_or_exit(name)
    media_type = transfer.NDJSON if file.name.endswith((".ndjson", ".jsonl")) else "application/json"
    documents = _run(lambda: transfer.read_import(file.read(), media_type, current_app.json.loads))
    with click.progressbar(documents, label="Importing", file=sys.stderr) as bar:
        conversations = _run(lambda: transfer.import_conversations(Caller.of(user), bar))
    click.echo(f"Imported {len(conversations)} conversations for {user.username}.", err=True)


def register_cli(app: Flask) -> None:
    from .cli_documents import documents_group
    from .cli_seed import seed_command

    app.cli.add_command(seed_command)
    app.cli.add_command(documents_group)
    app.cli.add_command(user_group)
    app.cli.add_command(app_password_group)
    app.cli.add_command(token_command)
    app.cli.add_command(conversations_group)
