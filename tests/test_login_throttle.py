"""Brute-force protection: 5 failures per user name or client address in 15 minutes lock for an hour."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from openregister.extensions import db
from openregister.models import LoginFailure

from . import factories
from .conftest import API, basic

LIST = f"{API}/conversations"
TOKEN = f"{API}/auth/token"


@pytest.fixture
def alice(app):
    user = factories.make_user("alice")
    factories.make_user("bob")
    db.session.commit()
    return user


def shift(**back):
    """Move the stored failure times back, as if that much time had passed."""
    db.session.expire_all()
    for row in db.session.scalars(select(LoginFailure)):
        for column, delta in back.items():
            if getattr(row, column) is not None:
                setattr(row, column, getattr(row, column) - delta)
    db.session.commit()


def fail_basic(client, username="alice", address="10.0.0.1", times=1):
    for _ in range(times):
        response = client.get(LIST, headers=basic(username, "wrong"), environ_base={"REMOTE_ADDR": address})
    return response


def sign_in(client, username="alice", address="10.0.0.1", password=factories.PASSWORD):
    return client.get(LIST, headers=basic(username, password), environ_base={"REMOTE_ADDR": address})


def test_four_failures_still_let_the_right_password_in(client, alice):
    assert fail_basic(client, times=4).status_code == 401
    assert sign_in(client).status_code == 200


def test_the_fifth_failure_locks_the_user_name_for_an_hour(client, alice):
    fail_basic(client, times=5)
    response = sign_in(client, address="10.0.0.2")
    assert response.status_code == 429
    assert response.get_json()["error"] == "Too Many Requests"
    assert 3500 < int(response.headers["Retry-After"]) <= 3600


def test_the_fifth_failure_from_one_address_locks_that_address_for_every_user(client, alice):
    for name in ("alice", "bob", "carol", "dave", "erin"):
        fail_basic(client, username=name, address="10.0.0.9")
    assert sign_in(client, username="bob", address="10.0.0.9").status_code == 429
    assert sign_in(client, username="bob", address="10.0.0.10").status_code == 200


def test_success_clears_the_counter(client, alice):
    fail_basic(client, times=4)
    assert sign_in(client).status_code == 200
    assert db.session.scalars(select(LoginFailure)).all() == []
    fail_basic(client, times=4)
    assert sign_in(client).status_code == 200


def test_failures_older_than_the_window_do_not_count(client, alice):
    fail_basic(client, times=4)
    shift(window_started=timedelta(minutes=16))
    fail_basic(client, times=1)
    assert sign_in(client).status_code == 200


def test_the_lock_ends_after_an_hour(client, alice):
    fail_basic(client, times=5)
    shift(locked_until=timedelta(hours=1))
    assert sign_in(client).status_code == 200


def test_token_route_is_protected_by_the_same_counter(client, alice):
    for _ in range(5):
        response = client.post(TOKEN, json={"username": "alice", "password": "wrong"},
                               environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert response.status_code == 401
    response = client.post(TOKEN, json={"username": "alice", "password": factories.PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.3"})
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert sign_in(client, address="10.0.0.4").status_code == 429


def test_bearer_tokens_still_work_while_the_password_is_locked(client, alice, auth_headers):
    fail_basic(client, times=5)
    assert client.get(LIST, headers=auth_headers(alice)).status_code == 200


def test_forwarding_headers_are_ignored_without_a_trusted_proxy(client, alice):
    for i in range(5):
        client.get(LIST, headers={**basic(f"user{i}", "wrong"), "X-Forwarded-For": f"192.0.2.{i}"},
                   environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert sign_in(client, username="bob", address="10.0.0.7").status_code == 429


def test_with_a_trusted_proxy_the_forwarded_address_counts(tmp_path, monkeypatch):
    from openregister import create_app

    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "JWT_SECRET": "x" * 64,
                      "PROXY_FIX_X_FOR": 1})
    with app.app_context():
        db.create_all()
        factories.make_user("bob")
        db.session.commit()
        client = app.test_client()
        for i in range(5):
            client.get(LIST, headers={**basic(f"user{i}", "wrong"), "X-Forwarded-For": "198.51.100.1"},
                       environ_base={"REMOTE_ADDR": "127.0.0.1"})
        locked = client.get(LIST, headers={**basic("bob", factories.PASSWORD), "X-Forwarded-For": "198.51.100.1"},
                            environ_base={"REMOTE_ADDR": "127.0.0.1"})
        other = client.get(LIST, headers={**basic("bob", factories.PASSWORD), "X-Forwarded-For": "198.51.100.2"},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert (locked.status_code, other.status_code) == (429, 200)
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
