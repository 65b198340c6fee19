"""A query string parsed once for a schema is not parsed again: the same arguments, each request its own copy."""

import pytest
from flask import request
from marshmallow import Schema

from openregister.api import Blueprint
from openregister.schemas.conversations import ConversationListArgsSchema

from .conftest import API


@pytest.fixture
def loads(monkeypatch):
    """The query strings the argument schemas loaded."""
    seen = []
    load = Schema.load

    def counted(self, data, *args, **kwargs):
        seen.append(dict(data))
        return load(self, data, *args, **kwargs)

    monkeypatch.setattr(Schema, "load", counted)
    monkeypatch.setattr(Blueprint.ARGUMENTS_PARSER, "_parsed_queries", {})
    return seen


def test_a_query_string_is_parsed_once_for_its_route(client, tenants, auth_headers, loads):
    headers = auth_headers(tenants["alice"])
    for _ in range(3):
        response = client.get(f"{API}/conversations?limit=2&offset=1", headers=headers)
        assert response.status_code == 200
        assert (response.get_json()["limit"], response.get_json()["offset"]) == (2, 1)
    assert loads == [{"limit": "2", "offset": "1"}]
    assert client.get(f"{API}/conversations?limit=3", headers=headers).get_json()["limit"] == 3
    assert client.get(f"{API}/conversations/archive?limit=2&offset=1", headers=headers).status_code == 200
    assert len(loads) == 3  # another query string, another route's schema


def test_a_refused_query_is_refused_every_time(client, tenants, auth_headers, loads):
    for _ in range(2):
        response = client.get(f"{API}/conversations?limit=many", headers=auth_headers(tenants["alice"]))
        assert response.status_code == 400
    assert len(loads) == 2


def test_each_request_gets_its_own_arguments(app, loads):
    parser, schema = Blueprint.ARGUMENTS_PARSER, ConversationListArgsSchema()
    with app.test_request_context("/?limit=5"):
        first = parser.parse(schema, request, location="query")
        first["limit"] = 999
        assert parser.parse(schema, request, location="query")["limit"] == 5


def test_past_the_limit_the_kept_queries_are_forgotten(client, tenants, auth_headers, loads, monkeypatch):
    monkeypatch.setattr(Blueprint.ARGUMENTS_PARSER, "parsed_queries_kept", 2)
    headers = auth_headers(tenants["alice"])
    for limit in (1, 2, 3, 1):
        assert client.get(f"{API}/conversations?limit={limit}", headers=headers).get_json()["limit"] == limit
    assert len(Blueprint.ARGUMENTS_PARSER._parsed_queries) <= 2
    assert [load["limit"] for load in loads] == ["1", "2", "3", "1"]


def test_a_long_query_string_is_parsed_every_time(client, tenants, auth_headers, loads):
    query = "limit=2&" + "x" * Blueprint.ARGUMENTS_PARSER.longest_query_kept
    for _ in range(2):
        response = client.get(f"{API}/conversations?{query}", headers=auth_headers(tenants["alice"]))
        assert response.status_code == 200 and response.get_json()["limit"] == 2
    assert len(loads) == 2 and not Blueprint.ARGUMENTS_PARSER._parsed_queries
