"""`flask conversations export/import`: the same documents as the API's export and import."""

import json
from pathlib import Path

import pytest

from openregister.extensions import db
from openregister.models import Conversation, Message
from openregister.models.base import utcnow

from . import factories
from .conftest import API, row_count

CHATGPT_EXPORT = Path(__file__).parent / "fixtures" / "chatgpt" / "conversations.json"


@pytest.fixture
def alice(tenants, auth_headers):
    conversation = factories.make_conversation(tenants["alice"], title="Mine")
    factories.make_messages(conversation, 3)
    factories.make_conversation(tenants["alice"], title="Archived", deleted_at=utcnow())
    factories.make_conversation(tenants["bob"], title="Bob's")
    db.session.commit()
    return auth_headers(tenants["alice"])


def api_export(client, headers) -> list[dict]:
    return [json.loads(line) for line in client.get(f"{API}/conversations/export", headers=headers).get_data(
        as_text=True).splitlines()]


def without_export_time(documents):
    return [{**document, "exported": None} for document in documents]


def test_export_to_stdout_is_the_routes_ndjson(runner, client, alice):
    result = runner.invoke(args=["conversations", "export", "alice"])
    assert result.exit_code == 0, result.output
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert without_export_time(documents) == without_export_time(api_export(client, alice))
    assert "Exported 2 conversations of alice." in result.stderr


def test_export_to_a_file_then_import_copies_the_conversations(runner, client, alice, tmp_path):
    target = tmp_path / "alice.ndjson"
    assert runner.invoke(args=["conversations", "export", "alice", "--output", str(target)]).exit_code == 0
    assert len(target.read_text().splitlines()) == 2
    result = runner.invoke(args=["conversations", "import", "bob", str(target)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 conversations for bob." in result.stderr
    titles = db.session.scalars(db.select(Conversation.title).where(Conversation.user.has(username="bob"))).all()
    assert sorted(titles) == ["Archived", "Bob's", "Mine"]


def test_import_of_a_chatgpt_export(runner, tenants):
    result = runner.invoke(args=["conversations", "import", "carol", str(CHATGPT_EXPORT)])
    assert result.exit_code == 0, result.output
    assert row_count(Conversation) == 2
    assert row_count(Message) == 8


def test_an_invalid_file_imports_nothing(runner, tenants, tmp_path):
    source = tmp_path / "bad.json"
    source.write_text('{"format": "openregister.conversation", "version": 1, "conversation": {}, "messages": []}')
    result = runner.invoke(args=["conversations", "import", "alice", str(source)])
    assert result.exit_code == 1
    assert "Document 0: conversation.title: Missing data for required field." in result.stderr
    assert row_count(Conversation) == 0


@pytest.mark.parametrize("command", ["export", "import"])
def test_an_unknown_user_is_an_error(runner, tenants, command):
    args = ["conversations", command, "nobody"] + ([str(CHATGPT_EXPORT)] if command == "import" else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "No user named 'nobody'." in result.stderr
