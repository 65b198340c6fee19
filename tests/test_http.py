"""Request hygiene: request ids, structured logs, CORS for browser UIs on another origin."""

import json
import logging

import pytest
from flask import request

from openregister import create_app
from openregister.extensions import db

from . import factories
from .conftest import API


def test_a_request_id_is_made_when_none_is_sent(client):
    response = client.get(f"{API}/heartbeat")
    assert len(response.headers["X-Request-Id"]) == 32


def test_the_callers_request_id_is_returned(client):
    response = client.get(f"{API}/nope", headers={"X-Request-Id": "abc-123"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "abc-123"


@pytest.mark.parametrize("bad", ["has space", "x" * 200, "semi;colon", "new\\nline"])
def test_an_unusable_request_id_is_replaced(client, bad):
    response = client.get(f"{API}/heartbeat", headers={"X-Request-Id": bad})
    assert response.headers["X-Request-Id"] != bad


def test_log_lines_are_json_with_the_request_id(client, app, auth_headers, monkeypatch, capsys):
    from openregister.services import conversations

    user = factories.make_user()
    db.session.commit()

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(conversations, "list_conversations", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    handler = next(h for h in logging.getLogger("openregister").handlers if h.formatter.__class__.__name__ == "JsonFormatter")
    monkeypatch.setattr(handler, "stream", __import__("io").StringIO())
    response = client.get(f"{API}/conversations", headers={**auth_headers(user), "X-Request-Id": "trace-42"})
    assert response.status_code == 500
    lines = [json.loads(line) for line in handler.stream.getvalue().splitlines()]
    assert lines and lines[0]["requestId"] == "trace-42"
    assert lines[0]["level"] == "ERROR"
    assert "Bearer" not in handler.stream.getvalue()


@pytest.fixture
def cors_client(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "JWT_SECRET": "x" * 64,
                      "CORS_ORIGINS": "https://ui.example.org"})
    with app.app_context():
        db.create_all()
        yield app.test_client()
        db.session.remove()
        db.engine.dispose()


def test_cors_preflight_from_an_allowed_origin_needs_no_credentials(cors_client):
    response = cors_client.options(f"{API}/conversations", headers={
        "Origin": "https://ui.example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://ui.example.org"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_cors_headers_on_answers_to_an_allowed_origin(cors_client):
    response = cors_client.get(f"{API}/conversations", headers={"Origin": "https://ui.example.org"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "https://ui.example.org"
    assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]


def test_no_cors_headers_for_other_origins(cors_client):
    response = cors_client.get(f"{API}/heartbeat", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_no_cors_unless_configured(client):
    response = client.get(f"{API}/heartbeat", headers={"Origin": "https://ui.example.org"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_pretty_urls_without_index_php_reach_the_same_routes(client, auth_headers):
    user = factories.make_user()
    db.session.commit()
    created = client.post("/apps/openregister/api/conversations", json={"title": "Pretty"}, headers=auth_headers(user))
    assert created.status_code == 201
    listed = client.get(f"{API}/conversations", headers=auth_headers(user)).get_json()
    assert [c["title"] for c in listed["results"]] == ["Pretty"]
    assert client.get("/apps/openregister/api/health").get_json()["status"] == "ok"


async def _coroutine_view():
    return "answer"


def _plain_view():
    return "answer"


class _Views:
    async def coroutine(self):
        return "answer"

    def plain(self):
        return "answer"


def test_coroutine_functions_still_run_through_async_to_sync(app, monkeypatch):
    monkeypatch.setattr(app, "async_to_sync", lambda func: ("made sync", func))
    views = _Views()
    for _ in range(2):  # the second time from what was kept
        assert app.ensure_sync(_coroutine_view) == ("made sync", _coroutine_view)
        assert app.ensure_sync(views.coroutine) == ("made sync", views.coroutine)
        assert app.ensure_sync(_plain_view) is _plain_view
        assert app.ensure_sync(views.plain) == views.plain


def test_query_parameters_get_as_werkzeug_does(app):
    with app.test_request_context("/?limit=5&word=a&word=b&bad=x"):
        args = request.args
        assert args.get("missing") is None and args.get("missing", "default") == "default"
        assert args.get("limit") == "5" and args.get("limit", type=int) == 5
        assert args.get("bad", 7, type=int) == 7 and args.get("word") == "a"
        assert args.getlist("word") == ["a", "b"]
        with pytest.raises(KeyError):
            args["missing"]
