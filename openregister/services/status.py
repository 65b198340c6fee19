"""What the service routes report: database reachability and schema state."""

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db


def database_reachable() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True


def needs_db_upgrade(migrations_directory: str) -> bool:
    """True when the database is not at the newest migration (or it, or the migrations, cannot be read)."""
    config = Config()
    config.set_main_option("script_location", migrations_directory)
    try:
        heads = set(ScriptDirectory.from_config(config).get_heads())
    except CommandError:
        return True
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        return True
    return current != heads
