"""Feedback on assistant messages, chat contract section 1."""

import pytest

from openregister.extensions import db
from openregister.models import Feedback

from .. import factories
from ..conftest import API, row_count

FEEDBACK_KEYS = {
    "id", "uuid", "messageId", "conversationId", "agentId", "userId", "organisation", "type", "comment", "created",
    "updated",
}


@pytest.fixture
def exchange(tenants):
    """Alice's conversation with an agent: a question and its answer."""
    agent = factories.make_agent(tenants["alice"], tenants["acme"])
    conversation = factories.make_conversation(tenants["alice"], agent_id=agent.id)
    question = factories.make_message(conversation, role="user", content="Why?")
    answer = factories.make_message(conversation, role="assistant", content="Because.")
    db.session.commit()
    return {"agent": agent, "conversation": conversation, "question": question, "answer": answer}


def feedback_url(conversation, message):
    return f"{API}/conversations/{conversation.uuid}/messages/{message}/feedback"


def rate(client, headers, exchange, body, message=None):
    url = feedback_url(exchange["conversation"], message or exchange["answer"].id)
    return client.post(url, json=body, headers=headers)


def unrate(client, headers, exchange, message=None):
    return client.delete(feedback_url(exchange["conversation"], message or exchange["answer"].id), headers=headers)


class TestGive:
    @pytest.mark.parametrize("by", ["id", "uuid"])
    def test_rating_an_answer_returns_the_feedback(self, by, client, tenants, alice, exchange):
        response = rate(client, alice, exchange, {"type": "positive", "comment": "Helpful"},
                        message=getattr(exchange["answer"], by))
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == FEEDBACK_KEYS
        assert body["messageId"] == exchange["answer"].id
        assert body["conversationId"] == exchange["conversation"].id
        assert body["agentId"] == exchange["agent"].id
        assert body["userId"] == "alice"
        assert body["organisation"] == tenants["acme"].id
        assert (body["type"], body["comment"]) == ("positive", "Helpful")
        assert body["created"].endswith("Z") and body["updated"].endswith("Z")
        assert row_count(Feedback) == 1

    def test_comment_is_optional(self, client, tenants, alice, exchange):
        assert rate(client, alice, exchange, {"type": "negative"}).get_json()["comment"] is None

    def test_second_rating_updates_the_type_and_keeps_the_comment(self, client, tenants, alice, exchange):
        first = rate(client, alice, exchange, {"type": "positive", "comment": "Great"}).get_json()
        second = rate(client, alice, exchange, {"type": "negative"}).get_json()
        assert (second["id"], second["uuid"]) == (first["id"], first["uuid"])
        assert (second["type"], second["comment"]) == ("negative", "Great")
        assert row_count(Feedback) == 1

    @pytest.mark.parametrize("comment", ["Changed my mind", None])
    def test_a_sent_comment_replaces_the_old_one(self, comment, client, tenants, alice, exchange):
        rate(client, alice, exchange, {"type": "positive", "comment": "Great"})
        assert rate(client, alice, exchange, {"type": "positive", "comment": comment}).get_json()["comment"] == comment

    @pytest.mark.parametrize("body", [
        {}, {"type": None}, {"type": "meh"}, {"type": "POSITIVE"}, {"type": 5}, {"type": ["positive"]}, {"type": ""},
    ])
    def test_invalid_type_is_400(self, body, client, tenants, alice, exchange):
        response = rate(client, alice, exchange, body)
        assert response.status_code == 400
        assert set(response.get_json()) == {"error", "message"}
        assert response.get_json()["error"] == "Invalid feedback type"
        assert row_count(Feedback) == 0

    def test_comment_of_the_wrong_type_is_400(self, client, tenants, alice, exchange):
        response = rate(client, alice, exchange, {"type": "positive", "comment": 5})
        assert response.status_code == 400
        assert "comment" in response.get_json()["errors"]

    def test_only_assistant_messages_take_feedback(self, client, tenants, alice, exchange):
        response = rate(client, alice, exchange, {"type": "positive"}, message=exchange["question"].id)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Not an assistant message"
        assert row_count(Feedback) == 0

    @pytest.mark.parametrize("message", ["999999", "00000000-0000-4000-8000-000000000000"])
    def test_unknown_message_is_404(self, message, client, tenants, alice, exchange):
        response = rate(client, alice, exchange, {"type": "positive"}, message=message)
        assert response.status_code == 404
        assert response.get_json()["error"] == "Message not found"

    def test_message_of_another_conversation_is_404(self, client, tenants, alice, exchange):
        other = factories.make_conversation(tenants["alice"])
        foreign = factories.make_message(other, role="assistant")
        db.session.commit()
        response = rate(client, alice, exchange, {"type": "positive"}, message=foreign.id)
        assert response.status_code == 404
        assert response.get_json()["error"] == "Message not found"
        assert row_count(Feedback) == 0

    def test_unknown_conversation_is_404(self, client, tenants, alice, exchange):
        response = client.post(f"{API}/conversations/999999/messages/{exchange['answer'].id}/feedback",
                               json={"type": "positive"}, headers=alice)
        assert response.status_code == 404
        assert response.get_json()["error"] == "Conversation not found"

    def test_conversation_of_another_member_is_403(self, client, tenants, auth_headers, exchange):
        response = rate(client, auth_headers(tenants["bob"]), exchange, {"type": "positive"})
        assert response.status_code == 403
        assert response.get_json()["error"] == "Access denied"
        assert row_count(Feedback) == 0

    def test_conversation_in_another_organisation_is_404(self, client, tenants, auth_headers, exchange):
        response = rate(client, auth_headers(tenants["carol"]), exchange, {"type": "positive"})
        assert response.status_code == 404
        assert response.get_json()["error"] == "Conversation not found"
        assert row_count(Feedback) == 0


class TestRemove:
    def test_removing_your_feedback(self, client, tenants, alice, exchange):
        rate(client, alice, exchange, {"type": "positive"})
        response = unrate(client, alice, exchange)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Feedback removed"}
        assert row_count(Feedback) == 0

    def test_removing_by_message_uuid(self, client, tenants, alice, exchange):
        rate(client, alice, exchange, {"type": "positive"})
        assert unrate(client, alice, exchange, message=exchange["answer"].uuid).status_code == 200

    def test_removing_when_there_is_none_is_404(self, client, tenants, alice, exchange):
        response = unrate(client, alice, exchange)
        assert response.status_code == 404
        assert set(response.get_json()) == {"error", "message"}

    def test_removing_twice_is_404_the_second_time(self, client, tenants, alice, exchange):
        rate(client, alice, exchange, {"type": "positive"})
        assert [unrate(client, alice, exchange).status_code for _ in range(2)] == [200, 404]

    def test_conversation_of_another_member_is_403_and_the_feedback_stays(
        self, client, tenants, alice, auth_headers, exchange
    ):
        rate(client, alice, exchange, {"type": "positive"})
        assert unrate(client, auth_headers(tenants["bob"]), exchange).status_code == 403
        assert row_count(Feedback) == 1

    def test_conversation_in_another_organisation_is_404(self, client, tenants, alice, auth_headers, exchange):
        rate(client, alice, exchange, {"type": "positive"})
        assert unrate(client, auth_headers(tenants["carol"]), exchange).status_code == 404
        assert row_count(Feedback) == 1

    def test_message_of_another_conversation_is_404(self, client, tenants, alice, exchange):
        other = factories.make_conversation(tenants["alice"])
        foreign = factories.make_message(other, role="assistant")
        db.session.commit()
        assert unrate(client, alice, exchange, message=foreign.id).get_json()["error"] == "Message not found"


def test_permanent_deletion_removes_the_feedback(client, tenants, alice, exchange):
    rate(client, alice, exchange, {"type": "positive"})
    response = client.delete(f"{API}/conversations/{exchange['conversation'].uuid}/permanent", headers=alice)
    assert response.status_code == 200
    assert row_count(Feedback) == 0
