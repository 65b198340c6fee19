"""Configuration: defaults, then instance/config.py, then OPENREGISTER_* variables, checked at start-up."""

import os
import stat

import pytest

from openregister import create_app
from openregister.config import database_uri
from openregister.extensions import db


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    for name in list(os.environ):
        if name.startswith("OPENREGISTER_") and name != "OPENREGISTER_INSTANCE_PATH" or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    return tmp_path


def test_sqlite_in_the_instance_folder_by_default(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'openregister.sqlite'}"


def test_a_jwt_secret_is_generated_once_and_kept_private(instance):
    first = create_app().config["JWT_SECRET"]
    second = create_app().config["JWT_SECRET"]
    assert first == second and len(first) >= 64
    assert stat.S_IMODE((instance / "jwt-secret").stat().st_mode) == 0o600


def test_environment_variables_win_over_the_instance_file(instance, monkeypatch):
    (instance / "config.py").write_text("MAX_PAGE_SIZE = 20\nACCESS_TOKEN_TTL = 60\n")
    monkeypatch.setenv("OPENREGISTER_ACCESS_TOKEN_TTL", "120")
    monkeypatch.setenv("OPENREGISTER_JWT_SECRET", "s" * 64)
    app = create_app()
    assert (app.config["MAX_PAGE_SIZE"], app.config["ACCESS_TOKEN_TTL"]) == (20, 120)
    assert app.config["JWT_SECRET"] == "s" * 64
    assert not (instance / "jwt-secret").exists()


def test_database_url_falls_back_to_plain_database_url(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/app")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/app"


@pytest.mark.parametrize(
    ("given", "used"),
    [("postgresql://u@h/d", "postgresql+psycopg://u@h/d"), ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
     ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite")],
)
def test_postgres_urls_use_psycopg_3(given, used):
    assert database_uri({"DATABASE_URL": given}, "/instance") == used


@pytest.mark.parametrize(
    ("name", "value"),
    [("MAX_PAGE_SIZE", "many"), ("MAX_PAGE_SIZE", "0"), ("ACCESS_TOKEN_TTL", "-5"), ("LLM_TIMEOUT", "soon"),
     ("JWT_ALGORITHMS", "none"), ("JWT_ALGORITHMS", ""), ("DATABASE_MAX_CONNECTIONS", "0"),
     ("DATABASE_POOL_SIZE", "few"), ("STREAM_KEEPALIVE", "often"), ("STREAM_KEEPALIVE", "0")],
)
def test_bad_values_fail_at_start_up(instance, monkeypatch, name, value):
    monkeypatch.setenv(f"OPENREGISTER_{name}", value)
    with pytest.raises(RuntimeError, match=name):
        create_app()


def test_stream_keepalive_is_a_number_of_seconds(instance, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_STREAM_KEEPALIVE", "2.5")
    assert create_app().config["STREAM_KEEPALIVE"] == 2.5


def test_algorithms_may_be_a_comma_separated_list(instance, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_JWT_ALGORITHMS", "HS256, RS256")
    assert create_app().config["JWT_ALGORITHMS"] == ["HS256", "RS256"]


@pytest.mark.parametrize(("kept", "most", "pool"), [("5", "32", (5, 27)), ("8", "4", (4, 0))])
def test_each_process_opens_at_most_database_max_connections(instance, monkeypatch, kept, most, pool):
    monkeypatch.setenv("OPENREGISTER_DATABASE_POOL_SIZE", kept)
    monkeypatch.setenv("OPENREGISTER_DATABASE_MAX_CONNECTIONS", most)
    app = create_app()
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["max_overflow"]) == pool
    with app.app_context():
        assert db.engine.pool.size() == pool[0]
        db.engine.dispose()


def test_in_memory_sqlite_keeps_its_one_connection(instance, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("OPENREGISTER_DATABASE_MAX_CONNECTIONS", "2")
    app = create_app()
    with app.app_context():
        assert type(db.engine.pool).__name__ == "StaticPool"
