"""Same answer, same time: a wrong password, an unknown name and a disabled user cannot be told apart.

Each case is measured side by side with a wrong password for a known user, interleaved, and the
medians compared: within 20% of each other. The lock-out is lifted out of the way for these tries.
"""

import statistics
import time

import pytest

from openregister.extensions import db

from . import factories
from .conftest import API, basic

TRIES = 30


@pytest.fixture
def users(app):
    app.config.update(LOGIN_MAX_FAILURES=10**6, LOGIN_ADDRESS_MAX_FAILURES=10**6, LOGIN_NAME_MAX_FAILURES=10**6)
    factories.make_user("alice")
    factories.make_user("dora", disabled=True)
    db.session.commit()


def token_route(client, username):
    return client.post(f"{API}/auth/token", json={"username": username, "password": "wrong guess"})


def basic_auth(client, username):
    return client.get(f"{API}/conversations", headers=basic(username, "wrong guess"))


def nisira_login(client, username):
    return client.post("/api/auth/login/", json={"username": username, "password": "wrong guess"})


def timed(attempt):
    started = time.perf_counter()
    response = attempt()
    return time.perf_counter() - started, response


@pytest.mark.slow
@pytest.mark.parametrize("route, other", [
    (token_route, "nosuchuser"), (basic_auth, "nosuchuser"), (nisira_login, "nosuchuser"), (token_route, "dora"),
], ids=["auth-token-unknown-name", "basic-unknown-name", "nisira-login-unknown-name", "auth-token-disabled-user"])
def test_a_wrong_password_and_another_refusal_look_and_take_the_same(client, users, route, other):
    known, refused = [], []
    for _ in range(TRIES):
        elapsed, known_response = timed(lambda: route(client, "alice"))
        known.append(elapsed)
        elapsed, other_response = timed(lambda: route(client, other))
        refused.append(elapsed)
        assert other_response.status_code == known_response.status_code == 401
        assert other_response.get_json() == known_response.get_json()
    ratio = statistics.median(refused) / statistics.median(known)
    assert 0.8 < ratio < 1.25, f"median {other} / median wrong password = {ratio:.2f}"
