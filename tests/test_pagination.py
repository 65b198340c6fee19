"""One pagination helper: every paged route of both dialects takes its defaults from the configuration."""

import pytest

from openregister import create_app
from openregister.extensions import db

from . import factories
from .conftest import API, basic


@pytest.fixture
def alice(tenants):
    for number in range(4):
        factories.make_conversation(tenants["alice"], title=f"Conversation {number}")
        factories.make_agent(tenants["alice"], name=f"Agent {number}", is_private=False)
    db.session.commit()
    return basic("alice", factories.PASSWORD)


@pytest.mark.parametrize("path", [
    f"{API}/conversations", f"{API}/conversations/archive", f"{API}/agents", f"{API}/organisations/search",
])
def test_the_default_page_size_comes_from_the_configuration(app, client, alice, path):
    app.config["DEFAULT_PAGE_SIZE"] = 3
    body = client.get(path, headers=alice).get_json()
    assert (body["limit"], body["offset"]) == (3, 0)


def test_the_default_page_size_is_clamped_to_the_largest(app, client, alice):
    app.config.update(DEFAULT_PAGE_SIZE=3, MAX_PAGE_SIZE=2)
    body = client.get(f"{API}/conversations", headers=alice).get_json()
    assert (body["limit"], len(body["results"]), body["total"]) == (2, 2, 4)


def test_nisira_keeps_its_own_page_size(app, client, alice):
    app.config["DEFAULT_PAGE_SIZE"] = 3
    body = client.get("/api/conversations/", headers=alice).get_json()
    assert (body["size"], len(body["conversations"]), body["has_more"]) == (15, 4, False)


@pytest.mark.parametrize("value", ["0", "fifty"])
def test_a_default_page_size_that_is_not_a_positive_integer_is_refused_at_start(tmp_path, monkeypatch, value):
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="OPENREGISTER_DEFAULT_PAGE_SIZE"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "JWT_SECRET": "x" * 64,
                    "DEFAULT_PAGE_SIZE": value})


@pytest.mark.parametrize("path", ["/conversations", "/conversations/archive", "/agents", "/documents",
                                  "/organisations/search", "/conversations/{ref}/messages",
                                  "/chat/history?conversationId={ref}"])
@pytest.mark.parametrize("query", ["_page=1000000000", "page=1000000000&limit=100", "offset=1000000000"])
def test_a_far_page_is_an_empty_page(client, tenants, auth_headers, path, query):
    # (page - 1) * limit passes 2**31 - 1 well before the schema's bound: PostgreSQL would refuse an INTEGER.
    conversation = factories.make_conversation(tenants["alice"])
    factories.make_messages(conversation, 2)
    db.session.commit()
    path = path.format(ref=conversation.uuid)
    separator = "&" if "?" in path else "?"
    response = client.get(f"{API}{path}{separator}{query}", headers=auth_headers(tenants["alice"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert not next(value for key, value in body.items() if isinstance(value, list))
