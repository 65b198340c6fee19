"""`_search` on the conversation list, the archive and a conversation's messages (beyond contract, section 2)."""

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from openregister.extensions import db
from openregister.models.base import utcnow
from openregister.services.search_text import query_words

from .. import factories
from ..conftest import API

ELLIPSIS = "…"


def search(client, headers, words, path="/conversations", **query):
    response = client.get(f"{API}{path}", query_string={"_search": words, **query}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def titles(body):
    return [row["title"] for row in body["results"]]


def conversation(owner, title="Untitled", messages=(), **overrides):
    """A conversation with messages one second apart, oldest first."""
    made = factories.make_conversation(owner, title=title, **overrides)
    start = datetime(2024, 1, 1)
    ids = [factories.make_message(made, content=content, created=start + timedelta(seconds=i)).id
           for i, content in enumerate(messages)]
    db.session.commit()
    made.message_ids = ids
    return made


def highlighted(match):
    return [match["snippet"][start:end] for start, end in match["highlights"]]


class TestWords:
    def test_every_word_must_be_in_one_message(self, client, tenants, alice):
        conversation(tenants["alice"], "both", ["the invoice for March", "nothing else"])
        conversation(tenants["alice"], "split", ["the invoice", "for March"])
        assert titles(search(client, alice, "march invoice")) == ["both"]

    def test_all_words_in_the_title_match_with_a_null_message_id(self, client, tenants, alice):
        conversation(tenants["alice"], "Quarterly invoice review", ["unrelated"])
        body = search(client, alice, "review INVOICE")
        assert body["results"][0]["match"] == {
            "messageId": None, "snippet": "Quarterly invoice review", "highlights": [[10, 17], [18, 24]],
        }

    def test_words_split_between_title_and_message_do_not_match(self, client, tenants, alice):
        conversation(tenants["alice"], "invoice", ["march"])
        assert search(client, alice, "invoice march")["total"] == 0

    @pytest.mark.parametrize("words", ["CAFE", "café", "Cafe", "CAFÉ"])
    def test_case_and_accents_are_ignored(self, client, tenants, alice, words):
        conversation(tenants["alice"], "drinks", ["Un Café, s'il vous plaît"])
        body = search(client, alice, words)
        assert titles(body) == ["drinks"]
        assert highlighted(body["results"][0]["match"]) == ["Café"]

    def test_the_last_word_is_also_a_prefix(self, client, tenants, alice):
        conversation(tenants["alice"], "bills", ["Please send the invoices"])
        body = search(client, alice, "invo")
        assert highlighted(body["results"][0]["match"]) == ["invoices"]
        assert search(client, alice, "in")["total"] == 1

    def test_only_the_last_word_is_a_prefix(self, client, tenants, alice):
        conversation(tenants["alice"], "bills", ["Please send the invoices"])
        assert search(client, alice, "invo send")["total"] == 0
        assert search(client, alice, "send invo")["total"] == 1

    def test_whole_words_only_and_no_stemming(self, client, tenants, alice):
        conversation(tenants["alice"], "bills", ["reinvoiced payments"])
        assert search(client, alice, "invoiced")["total"] == 0
        assert search(client, alice, "payment now")["total"] == 0
        assert search(client, alice, "payment")["total"] == 1  # as the last word, a prefix

    def test_punctuation_separates_words(self, client, tenants, alice):
        conversation(tenants["alice"], "mail", ["write to someone@example.com about foo_bar"])
        assert search(client, alice, "example com")["total"] == 1
        assert search(client, alice, "foo bar")["total"] == 1

    @pytest.mark.parametrize("words", ["", "   ", "\t"])
    def test_blank_search_is_no_filter(self, client, tenants, alice, words):
        conversation(tenants["alice"], "one", ["a"])
        conversation(tenants["alice"], "two", ["b"])
        body = search(client, alice, words)
        assert body["total"] == 2
        assert all("match" not in row for row in body["results"])

    def test_201_characters_is_400(self, client, tenants, alice):
        response = client.get(f"{API}/conversations", query_string={"_search": "a" * 201}, headers=alice)
        assert response.status_code == 400
        assert response.get_json()["errors"] == {"_search": ["Longer than maximum length 200."]}
        assert search(client, alice, "a" * 200)["total"] == 0

    def test_fts_syntax_is_just_words(self, client, tenants, alice):
        conversation(tenants["alice"], "ops", ['say "NOT" and OR near(x) *'])
        for words in ['"NOT"', "OR", "near(x)", "and*", "x:* & !"]:
            assert search(client, alice, words)["total"] == 1, words


class TestMatch:
    def test_newest_matching_message_is_shown(self, client, tenants, alice):
        made = conversation(tenants["alice"], "t", ["invoice one", "invoice two", "no match"])
        match = search(client, alice, "invoice")["results"][0]["match"]
        assert match == {"messageId": made.message_ids[1], "snippet": "invoice two", "highlights": [[0, 7]]}

    def test_a_message_match_wins_over_the_title(self, client, tenants, alice):
        made = conversation(tenants["alice"], "invoice", ["the invoice"])
        assert search(client, alice, "invoice")["results"][0]["match"]["messageId"] == made.message_ids[0]

    def test_long_text_is_cut_around_the_first_hit_with_ellipses(self, client, tenants, alice):
        content = "lorem " * 100 + "the Invoice is here " + "ipsum " * 100
        conversation(tenants["alice"], "long", [content])
        match = search(client, alice, "invoice")["results"][0]["match"]
        assert len(match["snippet"]) == 200
        assert match["snippet"].startswith(ELLIPSIS) and match["snippet"].endswith(ELLIPSIS)
        assert highlighted(match) == ["Invoice"]
        assert match["snippet"][1:-1] in content

    def test_a_hit_near_the_start_keeps_the_start(self, client, tenants, alice):
        content = "Invoice " + "ipsum " * 100
        conversation(tenants["alice"], "long", [content])
        match = search(client, alice, "invoice")["results"][0]["match"]
        assert match["snippet"] == content[:199] + ELLIPSIS
        assert match["highlights"] == [[0, 7]]

    def test_a_hit_near_the_end_keeps_the_end(self, client, tenants, alice):
        content = "ipsum " * 100 + "invoice"
        conversation(tenants["alice"], "long", [content])
        match = search(client, alice, "invoice")["results"][0]["match"]
        assert match["snippet"] == ELLIPSIS + content[-199:]
        assert highlighted(match) == ["invoice"]

    def test_every_hit_is_highlighted_as_a_whole_word(self, client, tenants, alice):
        conversation(tenants["alice"], "t", ["Café crème, CAFÉ noir et cafetière"])
        match = search(client, alice, "cafe")["results"][0]["match"]
        assert highlighted(match) == ["Café", "CAFÉ", "cafetière"]
        assert match["highlights"] == [[0, 4], [12, 16], [25, 34]]

    def test_no_html_in_the_snippet(self, client, tenants, alice):
        conversation(tenants["alice"], "t", ["<b>invoice</b> & more"])
        assert search(client, alice, "invoice")["results"][0]["match"]["snippet"] == "<b>invoice</b> & more"


class TestPaging:
    def test_total_and_pages_count_only_matches_in_list_order(self, client, tenants, alice):
        for i in range(5):
            conversation(tenants["alice"], f"hit {i}", ["invoice"], updated=datetime(2024, 1, 1 + i))
            conversation(tenants["alice"], f"miss {i}", ["other"], updated=datetime(2024, 2, 1 + i))
        body = search(client, alice, "invoice", limit=2, offset=1)
        assert (body["total"], body["limit"], body["offset"]) == (5, 2, 1)
        assert titles(body) == ["hit 3", "hit 2"]
        assert titles(search(client, alice, "invoice", _page=3, _limit=2)) == ["hit 0"]

    def test_archive_search_lists_archived_matches_only(self, client, tenants, alice):
        conversation(tenants["alice"], "kept", ["invoice"])
        conversation(tenants["alice"], "old", ["invoice"], deleted_at=datetime(2024, 1, 1))
        conversation(tenants["alice"], "older", ["invoice"], deleted_at=datetime(2023, 1, 1))
        conversation(tenants["alice"], "gone", ["other"], deleted_at=datetime(2024, 1, 1))
        assert titles(search(client, alice, "invoice", path="/conversations/archive")) == ["old", "older"]
        assert titles(search(client, alice, "invoice")) == ["kept"]
        assert search(client, alice, "invoice", _deleted="true")["total"] == 2
        assert search(client, alice, "invoice", includeDeleted="true")["total"] == 3

    def test_archive_search_of_201_characters_is_400(self, client, tenants, alice):
        response = client.get(f"{API}/conversations/archive", query_string={"_search": "a" * 201}, headers=alice)
        assert response.status_code == 400

    def test_same_number_of_statements_for_1_and_100_rows(self, client, tenants, alice, count_queries):
        for i in range(100):
            conversation(tenants["alice"], f"c{i}", ["invoice", "invoice again"])
        with count_queries() as small:
            one = search(client, alice, "invoice", limit=1)
        with count_queries() as large:
            hundred = search(client, alice, "invoice", limit=100)
        assert len(one["results"]) == 1 and len(hundred["results"]) == 100
        assert all(row["messageCount"] == 2 for row in hundred["results"])
        assert len(small) == len(large)


class TestMessages:
    def test_pages_only_matching_messages_without_match(self, client, tenants, alice):
        made = conversation(tenants["alice"], "t", [f"invoice {i}" if i % 2 else f"other {i}" for i in range(10)])
        body = search(client, alice, "invoice", path=f"/conversations/{made.uuid}/messages", limit=2)
        assert [row["content"] for row in body["results"]] == ["invoice 7", "invoice 9"]
        assert (body["total"], body["hasMore"]) == (5, True)
        assert all("match" not in row for row in body["results"])
        body = search(client, alice, "invoice", path=f"/conversations/{made.uuid}/messages", order="asc", offset=4)
        assert [row["content"] for row in body["results"]] == ["invoice 9"]
        assert (body["total"], body["hasMore"]) == (5, False)

    def test_all_words_in_one_message(self, client, tenants, alice):
        made = conversation(tenants["alice"], "march invoice", ["march", "invoice", "Invoice for MARCH"])
        body = search(client, alice, "invoice mar", path=f"/conversations/{made.uuid}/messages")
        assert [row["content"] for row in body["results"]] == ["Invoice for MARCH"]

    def test_blank_search_pages_every_message(self, client, tenants, alice):
        made = conversation(tenants["alice"], "t", ["a", "b"])
        assert search(client, alice, " ", path=f"/conversations/{made.uuid}/messages")["total"] == 2

    def test_201_characters_is_400(self, client, tenants, alice):
        made = conversation(tenants["alice"], "t", ["a"])
        response = client.get(f"{API}/conversations/{made.uuid}/messages", query_string={"_search": "b" * 201},
                              headers=alice)
        assert response.status_code == 400

    def test_another_users_conversation_stays_403(self, client, tenants, bob):
        made = conversation(tenants["alice"], "t", ["invoice"])
        response = client.get(f"{API}/conversations/{made.uuid}/messages?_search=invoice", headers=bob)
        assert response.status_code == 403


class TestIsolation:
    def test_look_alike_words_elsewhere_never_show_or_count(self, client, tenants, alice, auth_headers):
        alice_user = tenants["alice"]
        conversation(alice_user, "mine", ["Invoice of Café Nord"])
        # The same words, and longer words with the same start, in bob's (same organisation),
        # carol's (another organisation) and alice's own conversations in another organisation.
        for owner in (tenants["bob"], tenants["carol"]):
            for i in range(3):
                conversation(owner, f"invoice café {i}", ["invoice café nord", "invoices cafés"])
        other = factories.make_organisation("Initech", owner=alice_user)
        conversation(alice_user, "invoice café elsewhere", ["invoice café nord"], organisation_id=other.id)
        alice_user.active_organisation_id = tenants["acme"].id
        db.session.commit()
        for words in ["invoice", "cafe nord", "invoices", "inv", "café"]:
            body = search(client, alice, words)
            assert titles(body) == (["mine"] if words != "invoices" else []), words
            assert body["total"] == len(body["results"])
        assert search(client, auth_headers(tenants["bob"]), "nord")["total"] == 3


class TestIndexInStep:
    def test_a_message_sent_through_chat_is_found(self, client, tenants, alice):
        made = conversation(tenants["alice"], "chat", [])
        response = client.post(f"{API}/chat/send", json={"conversation": made.uuid, "message": "Where is Zürich?"},
                               headers=alice)
        assert response.status_code == 200
        match = search(client, alice, "zurich")["results"][0]["match"]
        assert match["messageId"] is not None and "Zürich" in match["snippet"]

    def test_a_renamed_title_is_found_by_its_new_words_only(self, client, tenants, alice):
        made = conversation(tenants["alice"], "Old name", [])
        response = client.patch(f"{API}/conversations/{made.uuid}", json={"title": "Brand new"}, headers=alice)
        assert response.status_code == 200
        assert titles(search(client, alice, "brand")) == ["Brand new"]
        assert search(client, alice, "old")["total"] == 0

    def test_a_permanently_deleted_conversation_leaves_the_index(self, client, tenants, alice):
        made = conversation(tenants["alice"], "invoice title", ["invoice body"])
        assert client.delete(f"{API}/conversations/{made.uuid}/permanent", headers=alice).status_code == 200
        assert search(client, alice, "invoice", includeDeleted="true")["total"] == 0
        assert index_rows() == 0

    def test_the_two_stage_delete_archives_then_removes_messages_from_the_index(self, client, tenants, alice):
        made = conversation(tenants["alice"], "t", ["invoice"])
        assert client.delete(f"{API}/conversations/{made.uuid}", headers=alice).status_code == 200
        assert titles(search(client, alice, "invoice", path="/conversations/archive")) == ["t"]
        assert client.delete(f"{API}/conversations/{made.uuid}", headers=alice).status_code == 200
        assert search(client, alice, "invoice", includeDeleted="true")["total"] == 0
        assert index_rows() == 0

    def test_a_deleted_user_leaves_the_index(self, client, tenants, alice):
        conversation(tenants["bob"], "bob's", ["invoice"])
        db.session.delete(tenants["bob"])
        db.session.commit()
        assert index_rows() == 0
        conversation(tenants["alice"], "mine", ["invoice"])
        assert titles(search(client, alice, "invoice")) == ["mine"]


def index_rows() -> int:
    """Rows in the full-text index (SQLite's FTS5 tables; on PostgreSQL the vectors go with their rows)."""
    if db.session.get_bind().dialect.name != "sqlite":
        return db.session.scalar(text(
            "SELECT (SELECT count(*) FROM messages WHERE search_vector IS NOT NULL)"
            " + (SELECT count(*) FROM conversations WHERE search_vector IS NOT NULL)"))
    return db.session.scalar(text("SELECT (SELECT count(*) FROM message_search) + (SELECT count(*) FROM title_search)"))


def test_updated_moves_with_the_search_order(client, tenants, alice):
    older = conversation(tenants["alice"], "older", ["invoice"], updated=utcnow() - timedelta(days=1))
    conversation(tenants["alice"], "newer", ["invoice"])
    client.patch(f"{API}/conversations/{older.uuid}", json={"title": "older renamed"}, headers=alice)
    assert titles(search(client, alice, "invoice")) == ["older renamed", "newer"]


# Letters with and without accents, digits, punctuation and spaces: what the word rules and both
# databases' tokenisers agree on. (Compatibility characters such as "ﬁ" or "ª" are words as each
# database's tokeniser reads them.)
PLAIN_TEXT = st.text(alphabet="abcdeéèêëAÉÈzZçÇñÑøßüÜ019 .,;:!?'\"-_()*&|<>@#\n", max_size=300)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.text(max_size=200))
def test_any_text_is_an_answer_never_an_error(client, tenants, alice, words):
    made = conversation(tenants["alice"], "t", ["some text", words.replace("\x00", "")])
    body = search(client, alice, words.replace("\x00", ""))  # a NUL in the URL is a 400 (test_hostile_input)
    db.session.delete(made)
    db.session.commit()
    assert body["total"] == len(body["results"]) <= 1
    if body["results"] and query_words(words):
        match = body["results"][0]["match"]
        assert len(match["snippet"]) <= 200
        assert all(0 <= start < end <= len(match["snippet"]) for start, end in match["highlights"])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=PLAIN_TEXT, size=st.integers(min_value=1, max_value=5))
def test_a_message_is_found_by_its_own_words(client, tenants, alice, content, size):
    made = conversation(tenants["alice"], "t", [content])
    words = " ".join(content.split()[:size])
    body = search(client, alice, words)
    if query_words(words):
        assert [row["uuid"] for row in body["results"]] == [made.uuid], words
        match = body["results"][0]["match"]
        assert len(match["snippet"]) <= 200 and match["highlights"]
        for start, end in match["highlights"]:
            assert query_words(match["snippet"][start:end]) != []
    db.session.delete(made)
    db.session.commit()
