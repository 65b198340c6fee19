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


@pytest.mark.parametrize("path, error", [
    (f"{LIST}/a%00b", "Conversation not found"), (f"{LIST}/%00/messages", "Conversation not found"),
    (f"{LIST}/%00/share", "Conversation not found"), (f"{LIST}/%00/export", "Conversation not found"),
    (f"{API}/agents/%00", "Agent not found"), (f"{API}/documents/%00", "Document not found"),
    (f"{API}/documents/%00/content", "Document not found"), (f"{API}/organisations/%00", "Organisation not found"),
    (f"{API}/shared/%00", "Share not found"), ("/api/conversations/%00/messages/", "Conversación no encontrada"),
])
def test_a_nul_character_in_a_path_segment_names_nothing(client, tenants, auth_headers, path, error):
    """PostgreSQL's text cannot hold U+0000: such a reference used to fail there (500); it is each route's 404."""
    with server_errors() as errors:
        response = client.get(path, headers=auth_headers(tenants["alice"]))
    assert response.status_code == 404, response.data
    assert json.loads(response.data)["error"] == error  # (the message names the reference, NUL and all)
    assert errors == []


@pytest.mark.parametrize("path", [
    f"{API}/agents?_search=%00", f"{API}/documents?_search=a%00", f"{LIST}?_search=%00", f"{LIST}?x%00=1",
    "/api/conversations/?page=%00",
])
def test_a_nul_character_in_the_query_is_400(client, tenants, auth_headers, path):
    """On PostgreSQL a NUL in a search term used to fail in the database (500)."""
    with server_errors() as errors:
        response = client.get(path, headers=auth_headers(tenants["alice"]))
    assert response.status_code == 400, response.get_json()
    if path.startswith("/api/"):
        assert response.get_json() == {"error": "La URL contiene el carácter NUL (%00), que no es válido"}
    else:
        assert "NUL character" in response.get_json()["message"]
    assert errors == []


@pytest.mark.parametrize("credentials", [b"al\x00ice:secret", b"alice:sec\x00ret"])
def test_basic_credentials_with_a_nul_character_are_401(client, alice, credentials):
    headers = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
    with server_errors() as errors:
        response = client.get(LIST, headers=headers)
        token = client.post(TOKEN, json={"username": "alice", "password": "x"}, headers=headers)
    assert response.status_code == 401
    assert token.status_code in (401, 429)
    assert errors == []
