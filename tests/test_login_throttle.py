"""Lock-out that stops guessing without letting a stranger lock anyone out.

Per (name, address) pair: 5 failures in 15 minutes lock the pair for 15 minutes. Per address: 50
failures over all names lock the address for 15 minutes, and a success does not reset that. Per
name: 100 failures from anywhere in an hour lock the name for 60 seconds at a time.
"""

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
    factories.make_user("mallory")
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


def token(client, username="alice", password=factories.PASSWORD, address="10.0.0.1"):
    return client.post(TOKEN, json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_four_failures_still_let_the_right_password_in(client, alice):
    assert fail_basic(client, times=4).status_code == 401
    assert sign_in(client).status_code == 200


def test_the_fifth_failure_locks_the_pair_for_fifteen_minutes_right_password_or_not(client, alice):
    assert fail_basic(client, times=5).status_code == 401
    response = sign_in(client)
    assert response.status_code == 429
    assert response.get_json()["error"] == "Too Many Requests"
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    assert fail_basic(client).status_code == 429


def test_a_stranger_cannot_lock_alice_out_from_another_address(client, alice):
    """The attack: five wrong passwords for alice (in any spelling, both dialects) from the attacker's address."""
    fail_basic(client, username="alice", address="203.0.113.9", times=2)
    fail_basic(client, username="ALICE ", address="203.0.113.9", times=2)
    client.post("/api/auth/login/", json={"username": " Alice", "password": "wrong"},
                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert sign_in(client, address="203.0.113.9").status_code == 429
    assert sign_in(client, address="10.0.0.1").status_code == 200
    assert token(client, address="10.0.0.1").status_code == 200
    assert client.post("/api/auth/login/", json={"username": "alice", "password": factories.PASSWORD},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200


def test_five_failures_behind_a_nat_do_not_lock_the_other_users_there(client, alice):
    for name in ("carol", "dave", "erin", "frank", "grace", "mallory"):
        fail_basic(client, username=name, address="192.0.2.1")
    assert sign_in(client, username="alice", address="192.0.2.1").status_code == 200
    assert sign_in(client, username="bob", address="192.0.2.1").status_code == 200


def test_fifty_failures_over_many_names_lock_the_address(app, client, alice):
    for i in range(50):
        assert fail_basic(client, username=f"guess{i}", address="198.51.100.7").status_code == 401
    locked = sign_in(client, username="bob", address="198.51.100.7")
    assert locked.status_code == 429
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert sign_in(client, username="bob", address="198.51.100.8").status_code == 200


def test_the_attackers_own_account_does_not_reset_the_address_counter(app, client, alice):
    """The bypass: one correct sign-in with one's own account between guesses."""
    for i in range(49):
        fail_basic(client, username=f"guess{i}", address="198.51.100.7")
        if i % 4 == 3:
            assert sign_in(client, username="mallory", address="198.51.100.7").status_code == 200
    fail_basic(client, username="guess49", address="198.51.100.7")
    assert sign_in(client, username="mallory", address="198.51.100.7").status_code == 429


def test_success_clears_only_the_pair(client, alice):
    fail_basic(client, times=4)
    assert sign_in(client).status_code == 200
    keys = {row.key for row in db.session.scalars(select(LoginFailure))}
    assert keys == {"name:alice", "address:10.0.0.1"}
    fail_basic(client, times=4)
    assert sign_in(client).status_code == 200


def test_a_distributed_attack_slows_the_name_for_a_minute_at_a_time(app, client, alice):
    app.config["LOGIN_NAME_MAX_FAILURES"] = 8
    for i in range(8):
        fail_basic(client, address=f"10.1.0.{i}")
    response = sign_in(client, address="10.9.9.9")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    shift(locked_until=timedelta(seconds=61))
    assert sign_in(client, address="10.9.9.9").status_code == 200
    # Still over the limit within the hour: each further failure locks for another minute only.
    fail_basic(client, address="10.1.1.1")
    assert 0 < int(sign_in(client, address="10.9.9.9").headers["Retry-After"]) <= 60


def test_failures_older_than_the_window_do_not_count(client, alice):
    fail_basic(client, times=4)
    shift(window_started=timedelta(minutes=16))
    fail_basic(client, times=1)
    assert sign_in(client).status_code == 200


def test_the_lock_ends_after_fifteen_minutes(client, alice):
    fail_basic(client, times=5)
    shift(locked_until=timedelta(minutes=15), window_started=timedelta(minutes=15))
    assert sign_in(client).status_code == 200


def test_the_limits_are_configurable(app, client, alice):
    app.config.update(LOGIN_MAX_FAILURES=2, LOGIN_LOCKOUT=120)
    fail_basic(client, times=2)
    response = sign_in(client)
    assert response.status_code == 429
    assert 60 < int(response.headers["Retry-After"]) <= 120


def test_token_route_and_basic_share_the_pair_counter(client, alice):
    for _ in range(5):
        assert token(client, password="wrong").status_code == 401
    response = token(client)
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert sign_in(client).status_code == 429
    assert token(client, address="10.0.0.3").status_code == 200


def test_bearer_tokens_are_never_refused_by_a_lock(app, client, alice, auth_headers):
    app.config.update(LOGIN_NAME_MAX_FAILURES=1, LOGIN_ADDRESS_MAX_FAILURES=1)
    fail_basic(client, times=5)
    assert sign_in(client).status_code == 429
    assert client.get(LIST, headers=auth_headers(alice), environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def test_forwarding_headers_are_ignored_without_a_trusted_proxy(client, alice):
    for i in range(5):
        client.get(LIST, headers={**basic("bob", "wrong"), "X-Forwarded-For": f"192.0.2.{i}"},
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
        for _ in range(5):
            client.get(LIST, headers={**basic("bob", "wrong"), "X-Forwarded-For": "198.51.100.1"},
                       environ_base={"REMOTE_ADDR": "127.0.0.1"})
        locked = client.get(LIST, headers={**basic("bob", factories.PASSWORD), "X-Forwarded-For": "198.51.100.1"},
                            environ_base={"REMOTE_ADDR": "127.0.0.1"})
        other = client.get(LIST, headers={**basic("bob", factories.PASSWORD), "X-Forwarded-For": "198.51.100.2"},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert (locked.status_code, other.status_code) == (429, 200)
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
