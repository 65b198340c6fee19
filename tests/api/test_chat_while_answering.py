"""While the provider answers, a chat request holds no transaction and no pooled connection; what
happens to a conversation meanwhile decides what is stored. Both dialects' chat routes."""

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text

from openregister import create_app
from openregister.auth import issue_token
from openregister.extensions import db
from openregister.models import Conversation, Message

from .. import factories
from ..conftest import API, separate_database
from ..llm_server import LlmServer
from ..sse import events

# route -> (path, body for a conversation); NISIRA names its conversations by slug.
ROUTES = {
    "main": (f"{API}/chat/send", lambda conversation: {"conversation": conversation.uuid, "message": "Still there?"}),
    "main streamed": (f"{API}/chat/send",
                      lambda conversation: {"conversation": conversation.uuid, "message": "Still there?", "stream": True}),
    "nisira": ("/api/chat/", lambda conversation: {"conversation_id": conversation.slug, "content": "Still there?"}),
    "nisira rag": ("/api/rag/chat/", lambda conversation: {"conversation_id": conversation.slug, "content": "Still there?"}),
}
ANSWERED = {"main": 200, "main streamed": 200, "nisira": 200, "nisira rag": 201}
NOT_FOUND = {
    "main": {"error": "Conversation not found", "message": "The conversation was deleted while the agent was answering."},
    "nisira": {"error": "Conversación no encontrada"},
    "nisira rag": {"error": "Conversación no encontrada"},
}


@pytest.fixture
def llm():
    with LlmServer() as server:
        yield server


@pytest.fixture
def threaded_app(tmp_path, monkeypatch, llm):
    """An app on a database of its own with a real pool (a SQLite file or a PostgreSQL schema), not the
    shared in-memory connection: a request in a thread and the test then use connections of their own."""
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path / "instance"))
    with separate_database(tmp_path) as url:
        app = create_app({
            "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "JWT_SECRET": "test-secret-" + "x" * 64,
            "LLM_PROVIDER": "openai", "LLM_BASE_URL": llm.url("held"), "LLM_MODEL": "m", "LLM_TIMEOUT": 30.0,
        })
        with app.app_context():
            db.create_all()
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def chat(threaded_app):
    """alice in Acme with a conversation with an agent; her headers."""
    with threaded_app.app_context():
        alice = factories.make_user("alice")
        acme = factories.make_organisation("Acme", owner=alice)
        agent = factories.make_agent(alice, acme)
        conversation = factories.make_conversation(alice, agent_id=agent.id)
        db.session.commit()
        headers = {"Authorization": f"Bearer {issue_token(alice)}"}
        db.session.remove()
    return {"conversation": conversation, "headers": headers}


@contextmanager
def held_send(app, llm, route, chat):
    """Send in a thread; the block runs while the provider holds the answer, which it gives when the block ends."""
    path, body = ROUTES[route]
    outcome = {}

    def send():
        response = app.test_client().post(path, json=body(chat["conversation"]), headers=chat["headers"])
        outcome["text"] = response.get_data(as_text=True)  # a stream runs as it is read
        outcome["response"] = response

    thread = threading.Thread(target=send)
    thread.start()
    try:
        assert llm.holding.wait(15), "the provider was never asked"
        yield outcome
    finally:
        llm.release.set()
        thread.join(30)


def open_transactions(engine) -> int:
    """Sessions of the database that are in a transaction: on PostgreSQL those idle in transaction;
    on SQLite, 1 when another connection cannot take the write lock (BEGIN IMMEDIATE)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            ))
    other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return 0
    except sqlite3.OperationalError:
        return 1
    finally:
        other.close()


def messages_in(app, conversation_id) -> list[tuple[str, str]]:
    with app.app_context():
        return [(m.role, m.content) for m in db.session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))]


@pytest.mark.parametrize("route", ROUTES)
def test_no_transaction_or_connection_is_held_while_the_provider_answers(route, threaded_app, llm, chat):
    with threaded_app.app_context():
        engine = db.engine
    with held_send(threaded_app, llm, route, chat) as outcome:
        checked_out = engine.pool.checkedout()
        in_transaction = open_transactions(engine)
    assert (checked_out, in_transaction) == (0, 0)
    assert outcome["response"].status_code == ANSWERED[route]
    conversation_id = chat["conversation"].id
    assert messages_in(threaded_app, conversation_id) == [("user", "Still there?"), ("assistant", "Echo: Still there?")]


@pytest.mark.parametrize("route", [route for route in ROUTES if route != "main streamed"])
def test_conversation_deleted_while_the_provider_answers_gets_no_answer(route, threaded_app, llm, chat):
    uuid = chat["conversation"].uuid
    with held_send(threaded_app, llm, route, chat) as outcome:
        deleted = threaded_app.test_client().delete(f"{API}/conversations/{uuid}/permanent", headers=chat["headers"])
        assert deleted.status_code == 200
    assert outcome["response"].status_code == 404
    assert outcome["response"].get_json() == NOT_FOUND[route]
    with threaded_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_conversation_archived_while_the_provider_answers_keeps_the_answer(threaded_app, llm, chat):
    uuid = chat["conversation"].uuid
    with held_send(threaded_app, llm, "main", chat) as outcome:
        archived = threaded_app.test_client().delete(f"{API}/conversations/{uuid}", headers=chat["headers"])
        assert archived.get_json()["archived"] is True
    assert outcome["response"].status_code == 200
    assert messages_in(threaded_app, chat["conversation"].id) == [
        ("user", "Still there?"), ("assistant", "Echo: Still there?")
    ]
    shown = threaded_app.test_client().get(f"{API}/conversations/{uuid}", headers=chat["headers"]).get_json()
    assert (shown["deletedAt"] is not None, shown["messageCount"]) == (True, 2)


def test_conversation_deleted_while_a_streamed_answer_comes_ends_the_stream_with_an_error(threaded_app, llm, chat):
    uuid = chat["conversation"].uuid
    with held_send(threaded_app, llm, "main streamed", chat) as outcome:
        deleted = threaded_app.test_client().delete(f"{API}/conversations/{uuid}/permanent", headers=chat["headers"])
        assert deleted.status_code == 200
    sequence = events(outcome["text"])
    assert [name for name, _ in sequence] == ["start", "delta", "error"]
    assert sequence[-1][1] == {"status": 404, **NOT_FOUND["main"]}
    with threaded_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
