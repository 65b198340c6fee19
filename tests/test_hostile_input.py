"""Input that used to give a 500 before sign-in: each now answers 400 or 401, and nothing is logged as a fault."""

import base64
import json
import logging
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openregister.auth import issue_token
from openregister.extensions import db

from . import factories
from .conftest import API

TOKEN = f"{API}/auth/token"
REFRESH = f"{API}/auth/refresh"
LIST = f"{API}/conversations"


@contextmanager
def server_errors():
    """The records the app logs at ERROR or above while inside."""
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Collect(level=logging.ERROR)
    loggers = [logging.getLogger("openregister"), logging.getLogger("flask.app")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token_with_header(header: str) -> str:
    return f"{segment(header.encode())}.{segment(b'{}')}.{segment(b'sig')}"


@pytest.fixture
def alice(app):
    user = factories.make_user("alice")
    db.session.commit()
    return user


@pytest.mark.parametrize("alg", ["1", "null", "[]", '{"a": 1}', '["HS256"]', "true"])
def test_a_token_whose_alg_is_not_a_string_is_401(client, alice, alg):
    token = token_with_header('{"typ": "JWT", "alg": %s}' % alg)
    with server_errors() as errors:
        protected = client.get(LIST, headers={"Authorization": f"Bearer {token}"})
        refreshed = client.post(REFRESH, json={"refresh": token})
        nisira = client.post("/api/auth/refresh/", json={"refresh": token})
    assert (protected.status_code, refreshed.status_code, nisira.status_code) == (401, 401, 401)
    assert protected.get_json()["error"] == "Invalid token"
    assert errors == []


def test_a_token_whose_header_is_nested_deep_is_401(client, alice):
    token = token_with_header("[" * 5000 + "]" * 5000)
    with server_errors() as errors:
        assert client.get(LIST, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert errors == []


@pytest.mark.parametrize("body, problem", [
    ("[" * 10000 + "]" * 10000, "nested deeper"),
    ('{"username": "alice", "password": ' + "9" * 4301 + "}", "more than 100 digits"),
    ('{"username": "alice", "password": -' + "1" * 101 + "}", "more than 100 digits"),
    ('{"username": "\\ud800", "password": "x"}', "lone surrogate"),
    ('{"\\udfff": 1}', "lone surrogate"),
    ('{"username": "a\\u0000b", "password": "x"}', "NUL character"),
    ('{"a\\u0000": 1}', "NUL character"),
    ('{"username": "alice", "password": NaN}', "NaN"),
    ('{"username": "alice", "password": -Infinity}', "-Infinity"),
    ('{"username": "alice", "password": 1e400}', "out of range"),
    (b'{"username": "\xff"}', "not valid JSON"),
], ids=["deep", "4301-digits", "101-digits", "lone-surrogate", "surrogate-key", "nul", "nul-key", "nan", "infinity", "1e400",
        "not-utf8"])
def test_hostile_json_bodies_are_400_naming_the_problem(client, alice, body, problem):
    with server_errors() as errors:
        main = client.post(TOKEN, data=body, content_type="application/json")
        nisira = client.post("/api/auth/login/", data=body, content_type="application/json")
    assert main.status_code == 400
    assert main.get_json()["error"] == "Malformed JSON"
    assert problem in main.get_json()["message"]
    assert nisira.status_code == 400
    assert "error" in nisira.get_json()
    assert errors == []


@pytest.mark.parametrize("field", ["configuration", "metadata"])
def test_nan_is_never_stored_nor_served(client, tenants, auth_headers, field):
    headers = auth_headers(tenants["alice"])
    path = f"{API}/agents" if field == "configuration" else f"{API}/conversations"
    body = '{"name": "x", "title": "x", "%s": {"t": NaN, "u": Infinity}}' % field
    response = client.post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    listed = client.get(path, headers=headers)
    assert b"NaN" not in listed.data and b"Infinity" not in listed.data


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda depth: ("[" * depth + "]" * depth).encode()),
))
def test_no_body_gives_a_server_error(client, alice, raw):
    """Generated junk at the body parser, through every kind of route that reads a body, signed in or not."""
    with server_errors() as errors:
        for path in (TOKEN, REFRESH, "/api/auth/login/", "/api/auth/token/"):
            response = client.post(path, data=raw, content_type="application/json")
            assert response.status_code < 500, (path, response.get_json())
        headers = {"Authorization": f"Bearer {issue_token(alice)}"}
        for path in (LIST, f"{API}/agents", f"{API}/organisations"):
            response = client.post(path, data=raw, content_type="application/json", headers=headers)
            assert response.status_code < 500, (path, response.get_json())
    db.session.rollback()
    assert errors == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=JSON_VALUES, payload=JSON_VALUES, tail=st.binary(max_size=40))
def test_no_token_gives_a_server_error(client, alice, header, payload, tail):
    """Generated token headers and payloads, as Bearer and as refresh token: always 401, never a fault."""
    for token in (
        f"{segment(json.dumps(header).encode())}.{segment(json.dumps(payload).encode())}.{segment(tail)}",
        f"{segment(tail)}.{segment(json.dumps(payload).encode())}.x",
    ):
        with server_errors() as errors:
            protected = client.get(LIST, headers={"Authorization": f"Bearer {token}"})
            refreshed = client.post(REFRESH, json={"refresh": token})
        assert (protected.status_code, refreshed.status_code) == (401, 401)
        assert errors == []
