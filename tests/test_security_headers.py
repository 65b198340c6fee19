"""Security headers: nosniff and no-referrer everywhere, no-store on every answer that carries a token."""

import pytest

from openregister.extensions import db

from . import factories
from .conftest import API, basic


@pytest.fixture
def alice(app):
    user = factories.make_user("alice")
    db.session.commit()
    return user


@pytest.mark.parametrize("method, path", [
    ("get", f"{API}/health"), ("get", f"{API}/conversations"), ("get", "/no/such/route"),
    ("get", f"{API}/openapi.json"), ("post", f"{API}/auth/token"), ("get", "/api/health/"),
])
def test_every_response_has_nosniff_and_no_referrer(client, alice, method, path):
    response = getattr(client, method)(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_docs_page_may_not_be_framed_and_loads_only_from_this_server(client):
    response = client.get(f"{API}/docs")
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "http" not in policy


@pytest.mark.parametrize("path, body", [
    (f"{API}/auth/token", {"username": "alice", "password": factories.PASSWORD}),
    ("/api/auth/token/", {"username": "alice", "password": factories.PASSWORD}),
    ("/api/auth/login/", {"username": "alice", "password": factories.PASSWORD}),
])
def test_answers_with_tokens_are_never_stored(client, alice, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    refresh = response.get_json()["refresh"]
    refresh_path = f"{API}/auth/refresh" if path.startswith(API) else "/api/auth/refresh/"
    refreshed = client.post(refresh_path, json={"refresh": refresh})
    assert refreshed.status_code == 200
    assert refreshed.headers["Cache-Control"] == "no-store"


def test_ordinary_answers_are_not_marked_no_store(client, alice):
    assert "no-store" not in client.get(f"{API}/conversations", headers=basic("alice", factories.PASSWORD)).headers.get(
        "Cache-Control", "")
