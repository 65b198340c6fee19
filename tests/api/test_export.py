"""Export, contract beyond section 3: one conversation as a download, all of them as streamed NDJSON."""

import json
import tracemalloc
import uuid as uuidlib
from datetime import timedelta

import pytest
from sqlalchemy import insert

from openregister.extensions import db
from openregister.models import Conversation, Feedback, Message
from openregister.models.base import utcnow

from .. import factories
from ..conftest import API

DOCUMENT_KEYS = {"format", "version", "exported", "conversation", "messages"}


def export(client, headers, ref, **query):
    return client.get(f"{API}/conversations/{ref}/export", query_string=query, headers=headers)


@pytest.fixture
def chat(tenants):
    """alice's conversation with an agent: a question, a rated answer, and bob's rating that she must not see."""
    agent = factories.make_agent(tenants["alice"], tenants["acme"], name="Clerk")
    conversation = factories.make_conversation(tenants["alice"], title="Taxes 2026: Q&A / ünïcode", agent_id=agent.id,
                                               metadata_={"topic": "tax"})
    start = utcnow() - timedelta(minutes=5)
    factories.make_message(conversation, "user", "How much?", created=start)
    answer = factories.make_message(conversation, "assistant", "# 42\n\n* a list", sources=[{"title": "Law"}],
                                    created=start + timedelta(seconds=1))
    db.session.add(Feedback(message_id=answer.id, conversation_id=conversation.id, user_id=tenants["alice"].id,
                            organisation_id=tenants["acme"].id, type="positive", comment="clear"))
    db.session.add(Feedback(message_id=answer.id, conversation_id=conversation.id, user_id=tenants["bob"].id,
                            organisation_id=tenants["acme"].id, type="negative", comment="bob's"))
    db.session.commit()
    return conversation


def test_json_export_is_a_download_of_the_document(client, alice, chat):
    response = export(client, alice, chat.uuid)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Taxes-2026--Q-A----n-code.json\"; "
        "filename*=UTF-8''Taxes%202026%3A%20Q%26A%20%2F%20%C3%BCn%C3%AFcode.json"
    )
    document = json.loads(response.get_data())
    assert set(document) == DOCUMENT_KEYS
    assert (document["format"], document["version"]) == ("openregister.conversation", 1)
    assert document["exported"].endswith("Z")
    assert document["conversation"] == {
        "uuid": chat.uuid, "title": "Taxes 2026: Q&A / ünïcode", "metadata": {"topic": "tax"},
        "created": document["conversation"]["created"], "updated": document["conversation"]["updated"],
        "deletedAt": None, "agent": {"uuid": chat.agent.uuid, "name": "Clerk"},
    }
    assert [(m["role"], m["content"], m["sources"], m["feedback"]) for m in document["messages"]] == [
        ("user", "How much?", [], None),
        ("assistant", "# 42\n\n* a list", [{"title": "Law"}], {"type": "positive", "comment": "clear"}),
    ]


def test_markdown_export_has_the_title_and_each_message_with_role_and_time(client, alice, chat):
    response = export(client, alice, chat.uuid, format="markdown")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="Taxes-2026--Q-A----n-code.md";')
    text = response.get_data(as_text=True)
    document = json.loads(export(client, alice, chat.uuid).get_data())
    first, second = document["messages"]
    assert text == (
        "# Taxes 2026: Q&A / ünïcode\n"
        f"\n## User · {first['created']}\n\nHow much?\n"
        f"\n## Assistant · {second['created']}\n\n# 42\n\n* a list\n"
    )


@pytest.mark.parametrize("title, name", [
    ("", "conversation"),
    ("a" * 150, "a" * 100),
    ("../../etc/passwd", "..-..-etc-passwd"),
    ('say "hi"\r\nX-Injected: 1', "say--hi---X-Injected--1"),
])
def test_the_file_name_is_safe(client, alice, tenants, title, name):
    conversation = factories.make_conversation(tenants["alice"], title=title)
    db.session.commit()
    disposition = export(client, alice, conversation.uuid).headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="{name}.json"; filename*=UTF-8\'\'')
    assert "\r" not in disposition and "\n" not in disposition


def test_another_format_is_a_400(client, alice, chat):
    response = export(client, alice, chat.uuid, format="pdf")
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"format": ["Must be one of: json, markdown."]}


def test_export_needs_reading_rights(client, bob, carol, chat):
    assert export(client, bob, chat.uuid).status_code == 403
    assert export(client, carol, chat.uuid).status_code == 404


def test_export_of_all_is_ndjson_of_the_active_organisation_with_the_archive(client, alice, tenants, chat):
    factories.make_conversation(tenants["alice"], title="Old", deleted_at=utcnow())
    factories.make_conversation(tenants["bob"], title="Bob's")
    factories.make_conversation(tenants["alice"], title="Elsewhere", organisation_id=tenants["globex"].id)
    db.session.commit()
    response = client.get(f"{API}/conversations/export", headers=alice)
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    assert response.is_streamed
    lines = response.get_data(as_text=True).splitlines()
    documents = [json.loads(line) for line in lines]
    assert [d["conversation"]["title"] for d in documents] == [chat.title, "Old"]
    assert documents[1]["conversation"]["deletedAt"] is not None
    single = json.loads(export(client, alice, chat.uuid).get_data())
    assert {**documents[0], "exported": None} == {**single, "exported": None}


def test_export_of_all_needs_authentication(client):
    assert client.get(f"{API}/conversations/export").status_code == 401


def make_many(user, count: int) -> None:
    """`count` conversations of two messages each, inserted in bulk."""
    now = utcnow()
    start = db.session.scalar(db.select(db.func.coalesce(db.func.max(Conversation.id), 0)))
    db.session.execute(insert(Conversation), [
        {"uuid": str(uuidlib.uuid4()), "slug": uuidlib.uuid4().hex[:11], "title": f"Conversation {i}",
         "user_id": user.id, "organisation_id": user.active_organisation_id, "metadata_": {"i": i},
         "created": now, "updated": now}
        for i in range(count)
    ])
    ids = range(start + 1, start + count + 1)
    db.session.execute(insert(Message), [
        {"uuid": str(uuidlib.uuid4()), "conversation_id": conversation_id, "role": role,
         "content": f"{role} text " * 20, "sources": [], "created": now}
        for conversation_id in ids for role in ("user", "assistant")
    ])
    db.session.commit()


def peak_memory_of_export(client, headers) -> tuple[int, int]:
    """(lines, peak bytes allocated) while reading the streamed export chunk by chunk, keeping none."""
    tracemalloc.start()
    try:
        response = client.get(f"{API}/conversations/export", headers=headers, buffered=False)
        lines = 0
        for chunk in response.response:
            lines += chunk.count(b"\n")
        response.close()
        return lines, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_stays_flat_however_many_conversations(app, client, alice, tenants):
    make_many(tenants["alice"], 500)
    small = [peak_memory_of_export(client, alice) for _ in range(2)]
    make_many(tenants["alice"], 4500)
    large = [peak_memory_of_export(client, alice) for _ in range(2)]
    assert {lines for lines, _ in small} == {500} and {lines for lines, _ in large} == {5000}
    ratio = min(peak for _, peak in large) / min(peak for _, peak in small)
    # Ten times the conversations: a whole-list export would need about ten times the memory.
    assert ratio < 1.5, (small, large)
