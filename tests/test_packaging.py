"""What a wheel needs to carry everything: every code folder a package, the migrations found."""

from pathlib import Path

import openregister
from openregister.config import MIGRATIONS_DIRECTORY

PACKAGE = Path(openregister.__file__).resolve().parent


def test_every_folder_of_modules_is_a_package():
    """setup.py's find_packages() leaves out a folder without __init__.py, and a wheel without it."""
    folders = {path.parent for path in PACKAGE.rglob("*.py") if "migrations" not in path.relative_to(PACKAGE).parts}
    assert sorted(str(folder.relative_to(PACKAGE)) for folder in folders if not (folder / "__init__.py").is_file()) == []


def test_the_migrations_are_found_beside_the_code_or_in_the_checkout():
    directory = Path(MIGRATIONS_DIRECTORY)
    assert directory in (PACKAGE / "migrations", PACKAGE.parent / "migrations")
    assert (directory / "env.py").is_file() and any((directory / "versions").glob("0001_*.py"))


def test_flask_app_openregister_finds_the_factory(tmp_path, monkeypatch):
    """What `flask --app openregister ...` does: the package itself names the app, by its create_app."""
    from flask.cli import ScriptInfo

    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("OPENREGISTER_DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    app = ScriptInfo(app_import_path="openregister").load_app()
    assert app.import_name == "openregister"
    assert {"db", "user", "token", "seed"} <= set(app.cli.list_commands(None))
    with app.app_context():
        from openregister.extensions import db

        db.engine.dispose()
