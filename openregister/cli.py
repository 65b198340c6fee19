"""Command-line management: users, app passwords, tokens. Each prints only its result on stdout."""

import click

from .auth import issue_token
from .errors import ApiError
from .extensions import db
from .services.users import create_app_password, create_user, find_user


def _user_or_exit(name: str):
    user = find_user(name)
    if user is None:
        raise click.ClickException(f"No user named {name!r}.")
    return user


@click.group("user")
def user_group():
    """Manage users."""


@user_group.command("create")
@click.argument("name")
@click.option("--password", required=True, help="The user's password.")
@click.option("--organisation", "organisation_name", help="Join this organisation (created if new) and make it active.")
def create_user_command(name, password, organisation_name):
    """Create a user."""
    try:
        create_user(name, password, organisation_name=organisation_name)
    except ApiError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Created user {name}.", err=True)


@click.group("app-password")
def app_password_group():
    """Manage app passwords."""


@app_password_group.command("create")
@click.argument("name")
@click.option("--label", default="app password", help="What the app password is for.")
def create_app_password_command(name, label):
    """Create an app password for a user and print it."""
    secret = create_app_password(_user_or_exit(name), label)
    db.session.commit()
    click.echo(secret)


@click.command("token")
@click.argument("name")
def token_command(name):
    """Print an access token (JWT) for a user."""
    click.echo(issue_token(_user_or_exit(name)))


def register_cli(app) -> None:
    from .cli_seed import seed_command

    app.cli.add_command(seed_command)
    app.cli.add_command(user_group)
    app.cli.add_command(app_password_group)
    app.cli.add_command(token_command)
