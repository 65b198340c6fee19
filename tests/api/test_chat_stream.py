"""chat/send as Server-Sent Events (api-contract-beyond.md, section 1), from both providers."""

import pytest
from sqlalchemy import select

from openregister.extensions import db
from openregister.models import Conversation, Message
from openregister.models.base import utcnow

from .. import factories
from ..conftest import API, row_count
from ..sse import events, parse
from .test_chat import ERROR_KEYS, EXCHANGE_KEYS, MESSAGE_KEYS, conversation_of, stored

STREAM = {"Accept": "text/event-stream"}


def stream(client, headers, path="/chat/send", accept=STREAM, **body):
    return client.post(f"{API}{path}", json=body, headers={**headers, **accept})


def check_exchange(response) -> dict:
    """The events of a stream that ended with `done`, checked against each other and the database; the
    `done` data."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    sequence = events(response.get_data(as_text=True))
    names = [name for name, _ in sequence]
    assert names[0] == "start" and names[-1] == "done"
    assert set(names[1:-1]) <= {"delta"}
    (_, start), deltas, (_, done) = sequence[0], [data for _, data in sequence[1:-1]], sequence[-1]
    assert set(start) == {"conversation", "userMessage"} and set(start["userMessage"]) == MESSAGE_KEYS
    assert all(set(delta) == {"content"} for delta in deltas)
    assert set(done) == EXCHANGE_KEYS
    assert done["userMessage"] == start["userMessage"] and done["conversation"] == start["conversation"]
    joined = "".join(delta["content"] for delta in deltas)
    assert joined == done["message"]["content"]
    conversation_id = done["message"]["conversationId"]
    assert [(m.id, m.role, m.content) for m in stored(conversation_id)][-2:] == [
        (start["userMessage"]["id"], "user", start["userMessage"]["content"]),
        (done["message"]["id"], "assistant", joined),
    ]
    return {"start": start, "deltas": [delta["content"] for delta in deltas], "done": done}


class TestEvents:
    def test_offline_provider_streams_word_by_word(self, client, tenants, alice, agent):
        exchange = check_exchange(stream(client, alice, agentUuid=agent.uuid, message="How do I archive?"))
        assert exchange["deltas"][:3] == ["You ", "asked: ", '"How ']
        assert len(exchange["deltas"]) > 10
        assert exchange["done"]["title"] == "How do I archive?"
        assert exchange["start"]["userMessage"]["content"] == "How do I archive?"
        conversation = db.session.scalars(select(Conversation)).one()
        assert exchange["start"]["conversation"] == conversation.uuid

    def test_openai_provider_forwards_each_delta(self, client, tenants, alice, agent, llm_server):
        exchange = check_exchange(stream(client, alice, agentUuid=agent.uuid, message="Ping pong"))
        assert exchange["deltas"] == ["Echo: ", "Ping ", "pong"]
        assert llm_server.requests[0]["body"]["stream"] is True

    def test_a_plain_completion_from_the_server_is_one_delta(self, app, client, tenants, alice, agent, llm_server):
        app.config["LLM_BASE_URL"] = llm_server.url("plain")
        exchange = check_exchange(stream(client, alice, agentUuid=agent.uuid, message="Ping pong"))
        assert exchange["deltas"] == ["Echo: Ping pong"]

    @pytest.mark.parametrize("accept, body", [
        ({"Accept": "text/event-stream"}, {}),
        ({"Accept": "application/json;q=0.5, text/event-stream"}, {}),
        # media types are case-insensitive and may carry parameters (RFC 9110, 8.3.1)
        ({"Accept": "TEXT/Event-Stream"}, {}),
        ({"Accept": "text/event-stream; charset=utf-8"}, {}),
        ({}, {"stream": True}),
        ({"Accept": "application/json"}, {"stream": True}),
    ], ids=["accept", "accept among others", "accept in capitals", "accept with a parameter", "body",
            "body with json accepted"])
    def test_either_switch_streams(self, accept, body, client, tenants, alice, agent):
        check_exchange(stream(client, alice, accept=accept, agentUuid=agent.uuid, message="Hi", **body))

    @pytest.mark.parametrize("accept, body", [
        ({}, {}),
        ({"Accept": "*/*"}, {}),
        ({"Accept": "application/json"}, {"stream": False}),
        ({"Accept": "text/event-stream;q=0"}, {}),
    ], ids=["nothing", "wildcard", "stream false", "refused"])
    def test_otherwise_the_send_is_plain(self, accept, body, client, tenants, alice, agent):
        response = stream(client, alice, accept=accept, agentUuid=agent.uuid, message="Hi", **body)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert set(response.get_json()) == EXCHANGE_KEYS

    def test_chat_message_streams_too(self, client, tenants, alice, agent):
        check_exchange(stream(client, alice, path="/chat/message", agentUuid=agent.uuid, message="Hi"))

    def test_continuing_a_conversation_streams(self, client, tenants, alice, agent):
        conversation = conversation_of(tenants["alice"], agent_id=agent.id, title="My notes")
        exchange = check_exchange(stream(client, alice, conversation=conversation.uuid, message="Hi"))
        assert exchange["done"]["title"] == "My notes"
        assert exchange["start"]["conversation"] == conversation.uuid

    def test_no_keep_alive_when_the_pieces_come_quickly(self, client, tenants, alice, agent):
        text = stream(client, alice, agentUuid=agent.uuid, message="Hi").get_data(as_text=True)
        assert "comment" not in [name for name, _ in parse(text)]


class TestSameAnswer:
    @staticmethod
    def without_ids_and_times(exchange: dict) -> dict:
        def message(item):
            return {key: value for key, value in item.items() if key not in ("id", "uuid", "conversationId", "created")}
        return {"message": message(exchange["message"]), "userMessage": message(exchange["userMessage"]),
                "sources": exchange["sources"], "title": exchange["title"]}

    def test_plain_and_streamed_sends_store_and_answer_the_same(self, client, tenants, alice, agent):
        question = "What is the same either way?"
        plain = client.post(f"{API}/chat/send", json={"agentUuid": agent.uuid, "message": question},
                            headers=alice).get_json()
        streamed = check_exchange(stream(client, alice, agentUuid=agent.uuid, message=question))["done"]
        assert self.without_ids_and_times(streamed) == {**self.without_ids_and_times(plain),
                                                        "title": f"{plain['title']} (2)"}
        answers = db.session.scalars(select(Message.content).where(Message.role == "assistant")).all()
        assert len(answers) == 2 and answers[0] == answers[1] == plain["message"]["content"]

    def test_done_is_what_the_plain_send_shows_afterwards(self, client, tenants, alice, agent):
        done = check_exchange(stream(client, alice, agentUuid=agent.uuid, message="Hi"))["done"]
        listed = client.get(f"{API}/conversations/{done['conversation']}/messages", headers=alice).get_json()
        assert {m["id"]: m for m in listed["results"]} == {
            done["userMessage"]["id"]: done["userMessage"], done["message"]["id"]: done["message"]
        }


class TestRefusedBeforeTheStream:
    """Whatever is refused before the question is stored is a JSON error with its status, not a stream."""

    def refused(self, response, status, error):
        assert response.status_code == status
        assert response.mimetype == "application/json"
        assert set(response.get_json()) >= ERROR_KEYS
        assert response.get_json()["error"] == error
        assert row_count(Message) == 0

    def test_unauthenticated_is_401(self, client, tenants, agent):
        self.refused(stream(client, {}, agentUuid=agent.uuid, message="Hi"), 401, "Unauthorized")

    @pytest.mark.parametrize("body, error", [
        ({"message": ""}, "Missing message"),
        ({"message": "Hi", "agentUuid": None}, "Missing conversation or agentUuid"),
        ({"message": 5}, "Validation failed"),
        ({"message": "Hi", "stream": "yes"}, "Validation failed"),
    ])
    def test_bad_input_is_400(self, body, error, client, tenants, alice, agent):
        self.refused(stream(client, alice, **{"agentUuid": agent.uuid, **body}), 400, error)

    def test_a_body_that_is_not_json_is_415(self, client, tenants, alice):
        response = client.post(f"{API}/chat/send", data="message=Hi", content_type="application/x-www-form-urlencoded",
                               headers={**alice, **STREAM})
        assert response.status_code == 415 and response.mimetype == "application/json"

    def test_unknown_conversation_is_404(self, client, tenants, alice):
        response = stream(client, alice, conversation="00000000-0000-4000-8000-000000000000", message="Hi")
        self.refused(response, 404, "Conversation not found")

    def test_unknown_agent_is_404(self, client, tenants, alice):
        self.refused(stream(client, alice, agentUuid="00000000-0000-4000-8000-000000000000", message="Hi"), 404,
                     "Agent not found")

    def test_conversation_in_another_organisation_is_404(self, client, tenants, auth_headers):
        conversation = conversation_of(tenants["alice"])
        self.refused(stream(client, auth_headers(tenants["carol"]), conversation=conversation.uuid, message="Hi"),
                     404, "Conversation not found")

    def test_conversation_of_another_member_is_403(self, client, tenants, auth_headers):
        conversation = conversation_of(tenants["alice"])
        self.refused(stream(client, auth_headers(tenants["bob"]), conversation=conversation.uuid, message="Hi"),
                     403, "Access denied")

    def test_archived_conversation_is_409(self, client, tenants, alice):
        conversation = conversation_of(tenants["alice"], deleted_at=utcnow())
        self.refused(stream(client, alice, conversation=conversation.uuid, message="Hi"), 409,
                     "Conversation archived")


class TestFailureMidStream:
    @pytest.mark.parametrize("base_url, status, error, deltas", [
        ("status/500", 502, "Provider error", []),
        ("malformed", 502, "Provider error", []),
        ("stream-malformed", 502, "Provider error", []),
        ("break-off", 502, "Provider error", ["Echo: ", "Will "]),
        ("no-done", 502, "Provider error", ["Echo: ", "Will ", "this ", "survive?"]),
        ("slow", 504, "Provider timeout", []),
        ("drip/1", 504, "Provider timeout", []),
        ("closed port", 503, "Provider unavailable", []),
        (None, 503, "Provider unavailable", []),
    ])
    def test_error_event_keeps_the_question_and_stores_no_answer(
        self, base_url, status, error, deltas, app, client, tenants, alice, agent, llm_server, closed_port_url
    ):
        urls = {"closed port": closed_port_url, None: None}
        app.config.update(LLM_BASE_URL=urls[base_url] if base_url in urls else llm_server.url(base_url),
                          LLM_TIMEOUT=0.3)
        response = stream(client, alice, agentUuid=agent.uuid, message="Will this survive?")
        assert response.status_code == 200
        sequence = events(response.get_data(as_text=True))
        assert [name for name, _ in sequence] == ["start"] + ["delta"] * len(deltas) + ["error"]
        assert [data["content"] for _, data in sequence[1:-1]] == deltas
        _, failure = sequence[-1]
        assert set(failure) == {"error", "message", "status"}
        assert (failure["status"], failure["error"]) == (status, error)
        [conversation] = db.session.scalars(select(Conversation)).all()
        assert [(m.role, m.content) for m in stored(conversation.id)] == [("user", "Will this survive?")]
        assert conversation.title == "New Conversation"

    def test_unknown_provider_of_the_agent_is_an_error_event(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], provider="fireworks")
        db.session.commit()
        sequence = events(stream(client, alice, agentUuid=agent.uuid, message="Hi").get_data(as_text=True))
        assert [name for name, _ in sequence] == ["start", "error"]
        assert sequence[-1][1]["status"] == 503
        assert [m.role for m in db.session.scalars(select(Message))] == ["user"]


class TestKeepAlive:
    def test_a_comment_keeps_the_connection_alive_while_the_provider_is_slow(
            self, app, client, tenants, alice, agent, llm_server):
        app.config.update(LLM_BASE_URL=llm_server.url("drip/0.5"), STREAM_KEEPALIVE=0.1)
        response = stream(client, alice, agentUuid=agent.uuid, message="Slowly")
        text = response.get_data(as_text=True)
        items = parse(text)
        assert ": keep-alive\n\n" in text
        # Before each of the two pieces (each half a second late), at least one keep-alive.
        between = [name for name, _ in items]
        assert between[0] == "start" and between[-1] == "done"
        first_delta = between.index("delta")
        assert "comment" in between[1:first_delta]
        assert "comment" in between[first_delta + 1:between.index("delta", first_delta + 1)]
        assert check_exchange_text(items) == "Echo: Slowly"


def check_exchange_text(items) -> str:
    deltas = "".join(data["content"] for name, data in items if name == "delta")
    done = [data for name, data in items if name == "done"][0]
    assert done["message"]["content"] == deltas
    return deltas


class TestNisiraDoesNotStream:
    @pytest.mark.parametrize("path, status", [("/api/chat/", 200), ("/api/rag/chat/", 201)])
    def test_nisira_chat_answers_json_whatever_is_asked(self, path, status, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        response = client.post(path, json={"conversation_id": conversation.slug, "content": "Hi", "stream": True},
                               headers={**alice, **STREAM})
        assert response.status_code == status
        assert response.mimetype == "application/json"
        assert "offline provider" in str(response.get_json())
