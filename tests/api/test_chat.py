"""The chat routes of the chat contract, section 1, and the providers behind them (section 2)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from openregister.extensions import db
from openregister.models import Conversation, Feedback, Message
from openregister.models.base import utcnow

from .. import factories
from ..conftest import API, row_count

EXCHANGE_KEYS = {"message", "userMessage", "sources", "title", "conversation", "timings"}
MESSAGE_KEYS = {"id", "uuid", "conversationId", "role", "content", "sources", "created"}
ERROR_KEYS = {"error", "message"}


def send(client, headers, path="/chat/send", **body):
    return client.post(f"{API}{path}", json=body, headers=headers)


def conversation_of(owner, **overrides):
    conversation = factories.make_conversation(owner, **overrides)
    db.session.commit()
    return conversation


def earlier_messages(conversation, count):
    """`count` messages alternating user/assistant, all before anything sent now."""
    start = utcnow() - timedelta(hours=1)
    messages = [
        factories.make_message(conversation, role="user" if i % 2 == 0 else "assistant", content=f"message {i}",
                               created=start + timedelta(seconds=i))
        for i in range(count)
    ]
    db.session.commit()
    return messages


def stored(conversation_id):
    db.session.expire_all()
    return db.session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created, Message.id)
    ).all()


class TestSend:
    def test_new_conversation_with_agent_returns_the_exchange(self, client, tenants, alice, agent):
        response = send(client, alice, agentUuid=agent.uuid, message="How do I update my billing information?")
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == EXCHANGE_KEYS
        assert set(body["message"]) == MESSAGE_KEYS and set(body["userMessage"]) == MESSAGE_KEYS
        assert body["message"]["role"] == "assistant"
        assert "offline provider" in body["message"]["content"]
        assert body["message"]["sources"] == [] and body["sources"] == []
        assert body["userMessage"]["role"] == "user"
        assert body["userMessage"]["content"] == "How do I update my billing information?"
        assert body["title"] == "How do I update my billing information?"
        assert set(body["timings"]) == {"history", "llm", "total"}
        assert all(isinstance(value, float) and value >= 0 for value in body["timings"].values())
        conversation = db.session.scalars(select(Conversation).where(Conversation.uuid == body["conversation"])).one()
        assert (conversation.agent_id, conversation.organisation_id) == (agent.id, tenants["acme"].id)
        assert body["message"]["conversationId"] == body["userMessage"]["conversationId"] == conversation.id
        assert [(m.id, m.role) for m in stored(conversation.id)] == [
            (body["userMessage"]["id"], "user"), (body["message"]["id"], "assistant")
        ]

    def test_chat_message_is_an_alias_of_chat_send(self, client, tenants, alice, agent):
        response = send(client, alice, path="/chat/message", agentUuid=agent.uuid, message="Hello")
        assert response.status_code == 200
        assert set(response.get_json()) == EXCHANGE_KEYS
        assert row_count(Message) == 2

    @pytest.mark.parametrize("by", ["uuid", "id"])
    def test_continues_an_existing_conversation(self, by, client, tenants, alice, agent):
        conversation = conversation_of(tenants["alice"], agent_id=agent.id)
        earlier_messages(conversation, 2)
        response = send(client, alice, conversation=str(getattr(conversation, by)), message="And then?")
        assert response.status_code == 200
        assert response.get_json()["conversation"] == conversation.uuid
        assert [m.content for m in stored(conversation.id)][:3] == ["message 0", "message 1", "And then?"]
        assert row_count(Conversation) == 1

    def test_conversation_takes_precedence_over_agent_uuid(self, client, tenants, alice, agent):
        conversation = conversation_of(tenants["alice"])
        response = send(client, alice, conversation=conversation.uuid, agentUuid=agent.uuid, message="Hi")
        assert response.get_json()["conversation"] == conversation.uuid
        assert row_count(Conversation) == 1

    def test_conversation_without_agent_gets_the_default_provider(self, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        response = send(client, alice, conversation=conversation.uuid, message="Anyone there?")
        assert response.status_code == 200
        assert response.get_json()["message"]["content"].startswith('You asked: "Anyone there?"')

    def test_sending_bumps_updated(self, client, tenants, alice):
        long_ago = datetime(2020, 1, 1)
        conversation = conversation_of(tenants["alice"], created=long_ago, updated=long_ago)
        newer = conversation_of(tenants["alice"], title="Newer")
        send(client, alice, conversation=conversation.uuid, message="Still here")
        db.session.expire_all()
        assert db.session.get(Conversation, conversation.id).updated > db.session.get(Conversation, newer.id).updated
        listed = client.get(f"{API}/conversations", headers=alice).get_json()["results"]
        assert [item["uuid"] for item in listed] == [conversation.uuid, newer.uuid]

    def test_retrieval_settings_are_accepted(self, client, tenants, alice, agent):
        response = send(client, alice, agentUuid=agent.uuid, message="Hi", views=["v1"], tools=["t1", "t2"],
                        includeObjects=True, includeFiles=False, numSourcesFiles=0, numSourcesObjects=50)
        assert response.status_code == 200

    def test_message_of_32000_characters_is_accepted(self, client, tenants, alice, agent):
        assert send(client, alice, agentUuid=agent.uuid, message="x" * 32_000).status_code == 200

    @pytest.mark.parametrize(
        "body, error",
        [
            ({}, "Missing message"),
            ({"agentUuid": "AGENT"}, "Missing message"),
            ({"agentUuid": "AGENT", "message": None}, "Missing message"),
            ({"agentUuid": "AGENT", "message": ""}, "Missing message"),
            ({"agentUuid": "AGENT", "message": " \n\t "}, "Missing message"),
            ({"message": "Hi"}, "Missing conversation or agentUuid"),
            ({"message": "Hi", "conversation": "", "agentUuid": ""}, "Missing conversation or agentUuid"),
            ({"message": "Hi", "conversation": None, "agentUuid": None}, "Missing conversation or agentUuid"),
        ],
    )
    def test_missing_fields_are_refused(self, body, error, client, tenants, alice, agent):
        body = {key: agent.uuid if value == "AGENT" else value for key, value in body.items()}
        response = send(client, alice, **body)
        assert response.status_code == 400
        assert set(response.get_json()) == ERROR_KEYS
        assert response.get_json()["error"] == error
        assert row_count(Conversation) == 0 and row_count(Message) == 0

    @pytest.mark.parametrize(
        "field, value",
        [
            ("message", "x" * 32_001),
            ("message", 5),
            ("message", ["Hi"]),
            ("conversation", 7),
            ("agentUuid", {"uuid": "x"}),
            ("views", "v1"),
            ("views", [1]),
            ("tools", {"t": 1}),
            ("includeObjects", "yes"),
            ("includeFiles", 1),
            ("numSourcesFiles", 51),
            ("numSourcesFiles", -1),
            ("numSourcesFiles", "5"),
            ("numSourcesObjects", 2.5),
            ("numSourcesObjects", True),
        ],
    )
    def test_wrong_types_are_refused(self, field, value, client, tenants, alice, agent):
        response = send(client, alice, **{"agentUuid": agent.uuid, "message": "Hi", field: value})
        assert response.status_code == 400
        assert response.get_json()["error"] == "Validation failed"
        assert field in response.get_json()["errors"]
        assert row_count(Conversation) == 0 and row_count(Message) == 0

    def test_non_json_body_is_415(self, client, tenants, alice):
        response = client.post(f"{API}/chat/send", data="message=Hi", headers=alice,
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 415

    def test_unauthenticated_is_401(self, client, tenants, agent):
        assert client.post(f"{API}/chat/send", json={"agentUuid": agent.uuid, "message": "Hi"}).status_code == 401

    def test_unknown_conversation_is_404(self, client, tenants, alice):
        response = send(client, alice, conversation="00000000-0000-4000-8000-000000000000", message="Hi")
        assert response.status_code == 404
        assert response.get_json()["error"] == "Conversation not found"
        assert row_count(Message) == 0

    def test_archived_conversation_is_409(self, client, tenants, alice):
        conversation = conversation_of(tenants["alice"], deleted_at=utcnow())
        response = send(client, alice, conversation=conversation.uuid, message="Hi")
        assert response.status_code == 409
        assert set(response.get_json()) == ERROR_KEYS
        assert response.get_json()["error"] == "Conversation archived"
        assert row_count(Message) == 0

    def test_conversation_of_another_member_is_403(self, client, tenants, auth_headers):
        conversation = conversation_of(tenants["alice"])
        response = send(client, auth_headers(tenants["bob"]), conversation=conversation.uuid, message="Hi")
        assert response.status_code == 403
        assert response.get_json()["error"] == "Access denied"
        assert row_count(Message) == 0

    def test_conversation_in_another_organisation_is_404(self, client, tenants, auth_headers):
        conversation = conversation_of(tenants["alice"])
        response = send(client, auth_headers(tenants["carol"]), conversation=conversation.uuid, message="Hi")
        assert response.status_code == 404
        assert response.get_json()["error"] == "Conversation not found"
        assert row_count(Message) == 0


class TestAgents:
    def refused(self, response):
        assert response.status_code == 404
        assert response.get_json()["error"] == "Agent not found"
        assert row_count(Conversation) == 0 and row_count(Message) == 0

    def test_unknown_agent_is_404(self, client, tenants, alice):
        self.refused(send(client, alice, agentUuid="00000000-0000-4000-8000-000000000000", message="Hi"))

    def test_private_agent_of_another_user_is_404(self, client, tenants, auth_headers):
        private = factories.make_agent(tenants["alice"], tenants["acme"], is_private=True)
        db.session.commit()
        self.refused(send(client, auth_headers(tenants["bob"]), agentUuid=private.uuid, message="Hi"))

    def test_invited_user_may_chat_with_a_private_agent(self, client, tenants, auth_headers):
        private = factories.make_agent(tenants["alice"], tenants["acme"], is_private=True, invited_users=["bob"])
        db.session.commit()
        assert send(client, auth_headers(tenants["bob"]), agentUuid=private.uuid, message="Hi").status_code == 200

    def test_owner_may_chat_with_a_private_agent(self, client, tenants, alice):
        private = factories.make_agent(tenants["alice"], tenants["acme"], is_private=True)
        db.session.commit()
        assert send(client, alice, agentUuid=private.uuid, message="Hi").status_code == 200

    def test_inactive_agent_is_404(self, client, tenants, alice):
        inactive = factories.make_agent(tenants["alice"], tenants["acme"], active=False)
        db.session.commit()
        self.refused(send(client, alice, agentUuid=inactive.uuid, message="Hi"))

    def test_agent_of_another_organisation_is_404(self, client, tenants, auth_headers, agent):
        self.refused(send(client, auth_headers(tenants["carol"]), agentUuid=agent.uuid, message="Hi"))

    def test_agent_by_numeric_id(self, client, tenants, alice, agent):
        assert send(client, alice, agentUuid=str(agent.id), message="Hi").status_code == 200

    def test_existing_conversation_whose_agent_was_deactivated_is_404(self, client, tenants, alice, agent):
        conversation = conversation_of(tenants["alice"], agent_id=agent.id)
        agent.active = False
        db.session.commit()
        response = send(client, alice, conversation=conversation.uuid, message="Hi")
        assert response.status_code == 404
        assert response.get_json()["error"] == "Agent not found"
        assert row_count(Message) == 0

    def test_a_removed_member_cannot_use_the_organisations_agent_through_an_old_conversation(
            self, client, tenants, auth_headers, alice, agent):
        bob = tenants["bob"]
        factories.make_organisation("Bob's own", owner=bob)
        bob.active_organisation_id = tenants["acme"].id
        conversation = conversation_of(bob, agent_id=agent.id)
        assert send(client, auth_headers(bob), conversation=conversation.uuid, message="Hi").status_code == 200
        removed = client.post(f"{API}/organisations/{tenants['acme'].uuid}/leave", json={"userId": "bob"}, headers=alice)
        assert removed.status_code == 200
        before = row_count(Message)
        response = send(client, auth_headers(bob), conversation=conversation.uuid, message="Still here?")
        assert response.status_code == 404
        assert response.get_json()["error"] == "Agent not found"
        assert row_count(Message) == before


class TestPrompt:
    def test_provider_gets_the_system_prompt_and_the_last_ten_messages_once(self, client, tenants, alice, llm_server):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], prompt="You help Acme's staff.",
                                     model="agent-model", temperature=0.3, max_tokens=128)
        conversation = factories.make_conversation(tenants["alice"], agent_id=agent.id)
        earlier_messages(conversation, 12)
        response = send(client, alice, conversation=conversation.uuid, message="Newest question")
        assert response.status_code == 200
        [request] = llm_server.requests
        assert request["path"] == "/ok/v1/chat/completions"
        assert request["body"] == {
            "model": "agent-model",
            "messages": [{"role": "system", "content": "You help Acme's staff."}]
            + [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"} for i in range(3, 12)]
            + [{"role": "user", "content": "Newest question"}],
            "stream": True,
            "temperature": 0.3,
            "max_tokens": 128,
        }

    def test_defaults_without_agent_settings(self, client, tenants, alice, llm_server):
        conversation = conversation_of(tenants["alice"])
        send(client, alice, conversation=conversation.uuid, message="Hi")
        assert llm_server.requests[0]["body"] == {
            "model": "server-model",
            "messages": [{"role": "system", "content": "You are a helpful AI assistant."},
                         {"role": "user", "content": "Hi"}],
            "stream": True,
        }

    def test_the_servers_answer_is_stored(self, client, tenants, alice, agent, llm_server):
        body = send(client, alice, agentUuid=agent.uuid, message="Ping").get_json()
        assert body["message"]["content"] == "Echo: Ping"
        assert stored(body["message"]["conversationId"])[-1].content == "Echo: Ping"

    def test_an_allowed_agent_base_url_overrides_the_configured_server(self, app, client, tenants, alice, llm_server):
        app.config["LLM_BASE_URL"] = llm_server.url("status/500")
        app.config["LLM_ALLOWED_BASE_URLS"] = f"http://127.0.0.1:1/v1, {llm_server.url('ok')}/"
        agent = factories.make_agent(tenants["alice"], tenants["acme"], configuration={"baseUrl": llm_server.url("ok")})
        db.session.commit()
        assert send(client, alice, agentUuid=agent.uuid, message="Hi").status_code == 200
        assert [request["path"] for request in llm_server.requests] == ["/ok/v1/chat/completions"]

    def test_an_agent_base_url_that_is_not_allowed_is_never_called(self, app, client, tenants, alice, llm_server):
        agent = factories.make_agent(tenants["alice"], tenants["acme"],
                                     configuration={"baseUrl": llm_server.url("malformed")})
        db.session.commit()
        response = send(client, alice, agentUuid=agent.uuid, message="Hi")
        assert response.status_code == 503
        assert "OPENREGISTER_LLM_ALLOWED_BASE_URLS" in response.get_json()["message"]
        assert llm_server.requests == []
        conversation = db.session.scalars(select(Conversation).where(Conversation.agent_id == agent.id)).one()
        assert [m.role for m in stored(conversation.id)] == ["user"]

    def test_agent_provider_overrides_the_configured_default(self, client, tenants, alice, llm_server):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], provider="offline")
        db.session.commit()
        body = send(client, alice, agentUuid=agent.uuid, message="Hi").get_json()
        assert "offline provider" in body["message"]["content"]
        assert llm_server.requests == []

    def test_configured_api_key_is_sent(self, app, client, tenants, alice, agent, llm_server):
        app.config["LLM_API_KEY"] = "sk-test"
        send(client, alice, agentUuid=agent.uuid, message="Hi")
        assert llm_server.requests[0]["headers"]["Authorization"] == "Bearer sk-test"


class TestProviderFailure:
    @pytest.mark.parametrize(
        "base_url, status, error",
        [
            ("status/500", 502, "Provider error"),
            ("status/503", 502, "Provider error"),
            ("status/401", 502, "Provider error"),
            ("malformed", 502, "Provider error"),
            ("not-json", 502, "Provider error"),
            ("slow", 504, "Provider timeout"),
            ("closed port", 503, "Provider unavailable"),
            (None, 503, "Provider unavailable"),
        ],
    )
    def test_failure_keeps_the_question_and_stores_no_answer(
        self, base_url, status, error, app, client, tenants, alice, agent, llm_server, closed_port_url
    ):
        urls = {"closed port": closed_port_url, None: None}
        base_url = urls[base_url] if base_url in urls else llm_server.url(base_url)
        app.config.update(LLM_BASE_URL=base_url, LLM_TIMEOUT=0.2)
        response = send(client, alice, agentUuid=agent.uuid, message="Will this survive?")
        assert response.status_code == status
        assert set(response.get_json()) == ERROR_KEYS
        assert response.get_json()["error"] == error
        [conversation] = db.session.scalars(select(Conversation)).all()
        assert [(m.role, m.content) for m in stored(conversation.id)] == [("user", "Will this survive?")]
        assert conversation.title == "New Conversation"

    def test_unknown_provider_of_the_agent_is_503(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], provider="fireworks")
        db.session.commit()
        response = send(client, alice, agentUuid=agent.uuid, message="Hi")
        assert response.status_code == 503
        assert [m.role for m in db.session.scalars(select(Message))] == ["user"]

    def test_retry_after_a_failure_titles_from_the_first_question(self, app, client, tenants, alice, agent, llm_server):
        app.config["LLM_BASE_URL"] = llm_server.url("status/500")
        send(client, alice, agentUuid=agent.uuid, message="First try")
        uuid = db.session.scalars(select(Conversation.uuid)).one()
        app.config["LLM_BASE_URL"] = llm_server.url("ok")
        body = send(client, alice, conversation=uuid, message="Second try").get_json()
        assert body["title"] == "First try"
        assert [m.role for m in stored(body["message"]["conversationId"])] == ["user", "user", "assistant"]
        # the failed question is part of the history the provider gets
        assert [m["content"] for m in llm_server.requests[-1]["body"]["messages"][1:]] == ["First try", "Second try"]


class TestTitle:
    def title_after(self, client, headers, agent, message):
        return send(client, headers, agentUuid=agent.uuid, message=message).get_json()["title"]

    @pytest.mark.parametrize(
        "message, title",
        [
            ("What is OpenRegister?", "What is OpenRegister?"),
            ("y" * 60, "y" * 60),
            ("Please explain how the conversation archive works when I delete one of them",
             "Please explain how the conversation archive works when I..."),
            ("Explain " + "x" * 70, "Explain " + "x" * 52 + "..."),
            ("a" * 30 + " " + "b" * 40, "a" * 30 + " " + "b" * 29 + "..."),
            ("a" * 31 + " " + "b" * 40, "a" * 31 + "..."),
            ("Line one\nline two", "Line one line two"),
        ],
        ids=["short", "exactly 60", "cut at a space", "no space after 30", "space at 30", "space at 31", "newline"],
    )
    def test_first_exchange_titles_the_conversation(self, message, title, client, tenants, alice, agent):
        assert self.title_after(client, alice, agent, message) == title

    def test_generated_title_is_made_unique(self, client, tenants, alice, agent):
        assert self.title_after(client, alice, agent, "What is OpenRegister?") == "What is OpenRegister?"
        assert self.title_after(client, alice, agent, "What is OpenRegister?") == "What is OpenRegister? (2)"
        conversation_of(tenants["alice"], title="Hello", agent_id=None)
        assert self.title_after(client, alice, agent, "Hello") == "Hello"

    def test_numbered_default_title_is_replaced(self, client, tenants, alice, agent):
        conversation = conversation_of(tenants["alice"], title="New Conversation (3)", agent_id=agent.id)
        body = send(client, alice, conversation=conversation.uuid, message="Billing question").get_json()
        assert body["title"] == "Billing question"

    def test_custom_title_is_kept(self, client, tenants, alice, agent):
        conversation = conversation_of(tenants["alice"], title="My notes", agent_id=agent.id)
        assert send(client, alice, conversation=conversation.uuid, message="Hi").get_json()["title"] == "My notes"

    def test_only_the_first_exchange_titles(self, client, tenants, alice, agent):
        uuid = send(client, alice, agentUuid=agent.uuid, message="First").get_json()["conversation"]
        client.patch(f"{API}/conversations/{uuid}", json={"title": "New Conversation"}, headers=alice)
        assert send(client, alice, conversation=uuid, message="Second").get_json()["title"] == "New Conversation"


class TestHistory:
    def history(self, client, headers, **query):
        return client.get(f"{API}/chat/history", query_string=query, headers=headers)

    @pytest.mark.parametrize("by", ["id", "uuid"])
    def test_history_is_chronological(self, by, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        earlier_messages(conversation, 3)
        response = self.history(client, alice, conversationId=getattr(conversation, by))
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"messages", "total", "conversationId"}
        assert [m["content"] for m in body["messages"]] == ["message 0", "message 1", "message 2"]
        assert all(set(m) == MESSAGE_KEYS for m in body["messages"])
        assert body["total"] == 3
        assert body["conversationId"] == conversation.id

    def test_limit_and_offset_page_from_the_oldest(self, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        earlier_messages(conversation, 5)
        body = self.history(client, alice, conversationId=conversation.id, limit=2, offset=1).get_json()
        assert [m["content"] for m in body["messages"]] == ["message 1", "message 2"]
        assert body["total"] == 5

    def test_limit_defaults_to_100_and_is_clamped_to_100(self, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        earlier_messages(conversation, 101)
        assert len(self.history(client, alice, conversationId=conversation.id).get_json()["messages"]) == 100
        body = self.history(client, alice, conversationId=conversation.id, limit=500).get_json()
        assert len(body["messages"]) == 100 and body["total"] == 101

    @pytest.mark.parametrize("query", [{}, {"conversationId": ""}])
    def test_missing_conversation_id_is_400(self, query, client, tenants, alice):
        response = self.history(client, alice, **query)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Missing conversationId"

    @pytest.mark.parametrize("query", [{"limit": "x"}, {"limit": 0}, {"offset": -1}])
    def test_bad_paging_is_400(self, query, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        assert self.history(client, alice, conversationId=conversation.id, **query).status_code == 400

    def test_unknown_conversation_is_404(self, client, tenants, alice):
        response = self.history(client, alice, conversationId=12345)
        assert response.status_code == 404
        assert response.get_json()["error"] == "Conversation not found"

    def test_conversation_of_another_member_is_403(self, client, tenants, auth_headers):
        conversation = conversation_of(tenants["alice"])
        assert self.history(client, auth_headers(tenants["bob"]), conversationId=conversation.id).status_code == 403

    def test_conversation_in_another_organisation_is_404(self, client, tenants, auth_headers):
        conversation = conversation_of(tenants["alice"])
        assert self.history(client, auth_headers(tenants["carol"]), conversationId=conversation.id).status_code == 404


class TestClearHistory:
    def clear(self, client, headers, **query):
        return client.delete(f"{API}/chat/history", query_string=query, headers=headers)

    @pytest.mark.parametrize("by", ["id", "uuid"])
    def test_clear_archives_the_conversation(self, by, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        earlier_messages(conversation, 2)
        response = self.clear(client, alice, conversationId=getattr(conversation, by))
        assert response.status_code == 200
        assert response.get_json() == {
            "message": "Conversation cleared successfully", "conversationId": conversation.id
        }
        db.session.expire_all()
        assert db.session.get(Conversation, conversation.id).deleted_at is not None
        assert row_count(Message) == 2
        archive = client.get(f"{API}/conversations/archive", headers=alice).get_json()["results"]
        assert [item["uuid"] for item in archive] == [conversation.uuid]

    def test_missing_conversation_id_is_400(self, client, tenants, alice):
        response = self.clear(client, alice)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Missing conversationId"

    def test_unknown_conversation_is_404(self, client, tenants, alice):
        assert self.clear(client, alice, conversationId=12345).status_code == 404

    def test_conversation_of_another_member_is_403_and_stays(self, client, tenants, auth_headers):
        conversation = conversation_of(tenants["alice"])
        assert self.clear(client, auth_headers(tenants["bob"]), conversationId=conversation.id).status_code == 403
        db.session.expire_all()
        assert db.session.get(Conversation, conversation.id).deleted_at is None

    def test_conversation_in_another_organisation_is_404(self, client, tenants, auth_headers):
        conversation = conversation_of(tenants["alice"])
        assert self.clear(client, auth_headers(tenants["carol"]), conversationId=conversation.id).status_code == 404


class TestStats:
    def test_counts_within_the_active_organisation(self, client, tenants, alice):
        factories.make_agent(tenants["alice"], tenants["acme"])
        factories.make_agent(tenants["bob"], tenants["acme"], is_private=True)
        factories.make_agent(tenants["carol"], tenants["globex"])
        earlier_messages(factories.make_conversation(tenants["alice"]), 3)
        earlier_messages(factories.make_conversation(tenants["bob"], deleted_at=utcnow()), 2)
        earlier_messages(factories.make_conversation(tenants["carol"]), 4)
        response = client.get(f"{API}/chat/stats", headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"total_agents": 2, "total_conversations": 2, "total_messages": 5}

    def test_without_organisation_counts_only_your_own(self, client, tenants, auth_headers):
        dave = factories.make_user("dave")
        erin = factories.make_user("erin")
        factories.make_agent(dave)
        factories.make_agent(erin)
        earlier_messages(factories.make_conversation(dave), 1)
        earlier_messages(factories.make_conversation(erin), 2)
        response = client.get(f"{API}/chat/stats", headers=auth_headers(dave))
        assert response.get_json() == {"total_agents": 1, "total_conversations": 1, "total_messages": 1}


def test_the_whole_ui_flow(client, tenants, alice):
    """Create an agent, chat, page, rate, rename, archive, list the archive, restore, delete for good."""
    agent = factories.make_agent(tenants["alice"], tenants["acme"], name="Support", prompt="You help.")
    db.session.commit()

    first = send(client, alice, agentUuid=agent.uuid, message="How do I archive a conversation?").get_json()
    uuid = first["conversation"]
    assert first["title"] == "How do I archive a conversation?"
    for question in ("And restore it?", "And delete it for good?"):
        assert send(client, alice, conversation=uuid, message=question).status_code == 200

    newest = client.get(f"{API}/conversations/{uuid}/messages", query_string={"limit": 4}, headers=alice).get_json()
    assert [m["role"] for m in newest["results"]] == ["user", "assistant", "user", "assistant"]
    assert newest["results"][-2]["content"] == "And delete it for good?"
    assert (newest["total"], newest["hasMore"]) == (6, True)
    older = client.get(f"{API}/conversations/{uuid}/messages", query_string={"limit": 4, "offset": 4},
                       headers=alice).get_json()
    assert [m["id"] for m in older["results"]] == [first["userMessage"]["id"], first["message"]["id"]]
    assert older["hasMore"] is False

    rated = client.post(f"{API}/conversations/{uuid}/messages/{first['message']['id']}/feedback",
                        json={"type": "positive", "comment": "Clear"}, headers=alice)
    assert rated.status_code == 200 and rated.get_json()["type"] == "positive"

    renamed = client.patch(f"{API}/conversations/{uuid}", json={"title": "Archiving"}, headers=alice)
    assert renamed.get_json()["title"] == "Archiving"

    assert client.delete(f"{API}/conversations/{uuid}", headers=alice).get_json()["archived"] is True
    assert send(client, alice, conversation=uuid, message="Hello?").status_code == 409
    archive = client.get(f"{API}/conversations/archive", headers=alice).get_json()
    assert [(c["uuid"], c["title"], c["messageCount"]) for c in archive["results"]] == [(uuid, "Archiving", 6)]

    restored = client.post(f"{API}/conversations/{uuid}/restore", headers=alice).get_json()
    assert restored["deletedAt"] is None
    assert [c["uuid"] for c in client.get(f"{API}/conversations", headers=alice).get_json()["results"]] == [uuid]

    deleted = client.delete(f"{API}/conversations/{uuid}/permanent", headers=alice)
    assert deleted.get_json() == {"message": "Conversation permanently deleted", "uuid": uuid}
    assert client.get(f"{API}/conversations/{uuid}", headers=alice).status_code == 404
    assert (row_count(Conversation), row_count(Message), row_count(Feedback)) == (0, 0, 0)
