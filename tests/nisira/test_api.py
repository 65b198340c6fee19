"""The NISIRA dialect (api-contract-nisira.md): NISIRA's routes over the same users, conversations and feedback."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from openregister import create_app
from openregister.auth import REFRESH, issue_token
from openregister.extensions import db
from openregister.models import Conversation, Feedback, LoginFailure, Message
from openregister.models.base import utcnow

from .. import factories
from ..conftest import API, basic, row_count
from ..llm_server import LlmServer

TOKEN_KEYS = {"access", "refresh"}
USER_KEYS = {"id", "username", "email", "first_name", "last_name"}
SUMMARY_KEYS = {"id", "numeric_id", "slug", "title", "created_at", "updated_at"}
CREATED_KEYS = {"id", "numeric_id", "slug", "title", "created_at", "message"}
LIST_KEYS = {"conversations", "page", "size", "total", "has_more"}
PAGE_KEYS = {"conversation_id", "numeric_id", "slug", "conversation_title", "messages", "page", "size", "total",
             "has_more"}
MESSAGE_KEYS = {"id", "content", "is_user", "timestamp", "sources", "rating", "rating_issue_tag"}
CHAT_KEYS = {"user_message", "assistant_message", "conversation_id", "numeric_id", "slug"}
RAG_KEYS = CHAT_KEYS | {"response", "rag_used", "sources"}
RATING_KEYS = {"message_id", "conversation_id", "value", "status", "updated_at", "issue_tag"}
NOT_FOUND = {"error": "Conversación no encontrada"}
MESSAGE_NOT_FOUND = {"error": "Mensaje no encontrado o sin permiso."}
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
SLUG = re.compile(r"[A-Za-z0-9_-]{11}")


@pytest.fixture
def chat(tenants):
    """Alice's conversation in Acme: a question and its answer."""
    conversation = factories.make_conversation(tenants["alice"], title="Billing")
    question = factories.make_message(conversation, role="user", content="Why?")
    answer = factories.make_message(conversation, role="assistant", content="Because.",
                                    created=question.created + timedelta(milliseconds=1))
    db.session.commit()
    return {"conversation": conversation, "question": question, "answer": answer}


def conversation_of(owner, **overrides):
    conversation = factories.make_conversation(owner, **overrides)
    db.session.commit()
    return conversation


def conversations_updated_in_order(owner, count):
    """`count` conversations of `owner`, the last one the most recently updated."""
    start = utcnow() - timedelta(hours=1)
    conversations = [
        factories.make_conversation(owner, title=f"Conversation {i}", updated=start + timedelta(seconds=i))
        for i in range(count)
    ]
    db.session.commit()
    return conversations


def messages_path(ref):
    return f"/api/conversations/{ref}/messages/"


def rate(client, headers, message, **body):
    return client.post("/api/ratings/", json={"message_id": message.id, **body}, headers=headers)


def feedback_of(message):
    db.session.expire_all()
    return db.session.scalars(select(Feedback).where(Feedback.message_id == message.id)).one_or_none()


class TestTokens:
    def test_token_gives_an_access_and_a_refresh_token(self, client, tenants):
        response = client.post("/api/auth/token/", json={"username": "alice", "password": factories.PASSWORD})
        assert response.status_code == 200
        assert set(response.get_json()) == TOKEN_KEYS

    @pytest.mark.parametrize("username, password", [("alice", "wrong"), ("nobody", factories.PASSWORD)])
    def test_bad_credentials_get_simplejwts_answer(self, username, password, client, tenants):
        response = client.post("/api/auth/token/", json={"username": username, "password": password})
        assert response.status_code == 401
        assert response.get_json() == {"detail": "No active account found with the given credentials"}
        assert "WWW-Authenticate" in response.headers

    @pytest.mark.parametrize("body", [{}, {"username": "alice"}, {"password": "x"}, {"username": 5, "password": "x"}])
    def test_token_without_both_fields_is_400(self, body, client, tenants):
        response = client.post("/api/auth/token/", json=body)
        assert response.status_code == 400
        assert set(response.get_json()) == {"error"}

    @pytest.mark.parametrize("token_path", ["/api/auth/token/", f"{API}/auth/token"])
    def test_tokens_of_either_dialect_work_in_both(self, token_path, client, tenants):
        tokens = client.post(token_path, json={"username": "alice", "password": factories.PASSWORD}).get_json()
        headers = {"Authorization": f"Bearer {tokens['access']}"}
        assert client.get("/api/conversations/", headers=headers).status_code == 200
        assert client.get(f"{API}/conversations", headers=headers).status_code == 200
        assert client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]}).status_code == 200
        assert client.post(f"{API}/auth/refresh", json={"refresh": tokens["refresh"]}).status_code == 200

    def test_refresh_gives_a_new_access_and_refresh_token(self, client, tenants):
        response = client.post("/api/auth/refresh/", json={"refresh": issue_token(tenants["alice"], REFRESH)})
        assert response.status_code == 200
        tokens = response.get_json()
        assert set(tokens) == TOKEN_KEYS
        headers = {"Authorization": f"Bearer {tokens['access']}"}
        assert client.get("/api/conversations/", headers=headers).status_code == 200
        assert client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]}).status_code == 200

    @pytest.mark.parametrize("kind", ["garbage", "access"])
    def test_refresh_with_a_bad_token_is_token_not_valid(self, kind, client, tenants):
        token = issue_token(tenants["alice"]) if kind == "access" else "not-a-jwt"
        response = client.post("/api/auth/refresh/", json={"refresh": token})
        assert response.status_code == 401
        assert response.get_json() == {"detail": "Token is invalid or expired", "code": "token_not_valid"}


class TestLogin:
    def test_login_gives_the_tokens_and_the_user(self, client, tenants):
        tenants["alice"].display_name = "Alice Pleasance Liddell"
        tenants["alice"].email = "alice@example.org"
        db.session.commit()
        response = client.post("/api/auth/login/", json={"username": "alice", "password": factories.PASSWORD})
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == TOKEN_KEYS | {"user"}
        assert body["user"] == {"id": tenants["alice"].id, "username": "alice", "email": "alice@example.org",
                                "first_name": "Alice", "last_name": "Pleasance Liddell"}
        headers = {"Authorization": f"Bearer {body['access']}"}
        assert client.get("/api/conversations/", headers=headers).status_code == 200

    def test_a_user_without_name_or_email_gets_empty_strings(self, client, tenants):
        response = client.post("/api/auth/login/", json={"username": "bob", "password": factories.PASSWORD})
        user = response.get_json()["user"]
        assert set(user) == USER_KEYS
        assert (user["email"], user["first_name"], user["last_name"]) == ("", "", "")

    @pytest.mark.parametrize("body, error", [
        ({}, "Por favor ingresa tu usuario y contraseña"),
        ({"username": "", "password": ""}, "Por favor ingresa tu usuario y contraseña"),
        ({"username": None, "password": None}, "Por favor ingresa tu usuario y contraseña"),
        ({"password": "secret"}, "Por favor ingresa tu nombre de usuario"),
        ({"username": "", "password": "secret"}, "Por favor ingresa tu nombre de usuario"),
        ({"username": "alice"}, "Por favor ingresa tu contraseña"),
        ({"username": "alice", "password": ""}, "Por favor ingresa tu contraseña"),
    ])
    def test_missing_fields_are_named(self, body, error, client, tenants):
        response = client.post("/api/auth/login/", json=body)
        assert response.status_code == 400
        assert response.get_json() == {"error": error}
        assert row_count(LoginFailure) == 0

    @pytest.mark.parametrize("username, password", [
        ("alice", "wrong"), ("nobody", "wrong"), ("nobody", factories.PASSWORD),
    ])
    def test_unknown_user_and_wrong_password_get_one_and_the_same_answer(self, username, password, client, tenants):
        response = client.post("/api/auth/login/", json={"username": username, "password": password})
        assert response.status_code == 401
        assert response.get_json() == {"error": "Usuario o contraseña incorrectos"}

    def test_repeated_failures_lock_the_user_out(self, app, client, tenants):
        app.config["LOGIN_MAX_FAILURES"] = 2
        for _ in range(2):
            client.post("/api/auth/login/", json={"username": "alice", "password": "wrong"})
        response = client.post("/api/auth/login/", json={"username": "alice", "password": factories.PASSWORD})
        assert response.status_code == 429
        assert response.get_json() == {"error": "Demasiados intentos fallidos; inténtalo más tarde"}
        assert int(response.headers["Retry-After"]) > 0
        token = client.post("/api/auth/token/", json={"username": "alice", "password": factories.PASSWORD})
        assert token.status_code == 429


class TestHealthAndRouting:
    def test_health_needs_no_authentication(self, client):
        response = client.get("/api/health/")
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"status", "timestamp", "message"}
        assert (body["status"], body["message"]) == ("healthy", "API funcionando correctamente")
        assert body["timestamp"].endswith("Z")

    @pytest.mark.parametrize("path", ["/api/health", "/api/conversations", "/api/conversations/{slug}/messages"])
    def test_a_path_without_the_trailing_slash_is_answered_the_same(self, path, client, alice, chat):
        path = path.format(slug=chat["conversation"].slug)
        without, with_slash = client.get(path, headers=alice), client.get(path + "/", headers=alice)
        assert without.status_code == 200
        assert without.get_json().keys() == with_slash.get_json().keys()

    def test_a_post_without_the_trailing_slash_is_served_not_redirected(self, client, alice):
        assert client.post("/api/conversations/create", json={"title": "Plain"}, headers=alice).status_code == 201

    @pytest.mark.parametrize("method, path", [
        ("get", "/api/conversations/"), ("post", "/api/conversations/"), ("post", "/api/conversations/create/"),
        ("get", "/api/conversations/abc/messages/"), ("delete", "/api/conversations/abc/delete/"),
        ("post", "/api/chat/"), ("post", "/api/rag/chat/"), ("post", "/api/ratings/"),
    ])
    def test_every_other_route_needs_authentication(self, method, path, client, tenants):
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401
        assert response.get_json() == NOT_AUTHENTICATED
        assert "WWW-Authenticate" in response.headers

    def test_an_invalid_access_token_is_token_not_valid(self, client, tenants):
        response = client.get("/api/conversations/", headers={"Authorization": "Bearer nonsense"})
        assert response.status_code == 401
        assert response.get_json() == {"detail": "Token is invalid or expired", "code": "token_not_valid"}

    def test_basic_authentication_works(self, client, tenants):
        assert client.get("/api/conversations/", headers=basic("alice", factories.PASSWORD)).status_code == 200

    @pytest.mark.parametrize("method, path, status", [
        ("get", "/api/unknown/", 404), ("get", "/api/chat/", 405), ("put", "/api/conversations/", 405),
    ])
    def test_unknown_paths_and_methods_keep_the_apps_error_body(self, method, path, status, client, alice):
        response = getattr(client, method)(path, headers=alice)
        assert response.status_code == status
        assert set(response.get_json()) == {"error", "message"}

    def test_malformed_json_is_400_in_spanish(self, client, alice):
        response = client.post("/api/conversations/create/", data="{oops", content_type="application/json",
                               headers=alice)
        assert response.status_code == 400
        assert response.get_json() == {"error": "El cuerpo de la solicitud no es un JSON válido"}
        assert row_count(Conversation) == 0

    def test_a_body_too_large_is_413_in_spanish(self, app, client, alice, chat):
        app.config["MAX_CONTENT_LENGTH"] = 1024
        body = {"conversation_id": chat["conversation"].slug, "content": "x" * 2048}
        response = client.post("/api/chat/", json=body, headers=alice)
        assert response.status_code == 413
        assert response.get_json() == {"error": "El cuerpo de la solicitud es demasiado grande"}
        assert row_count(Message) == 2

    def test_a_body_that_is_not_json_is_415_in_spanish(self, client, alice):
        response = client.post("/api/chat/", data="hola", content_type="text/plain", headers=alice)
        assert response.status_code == 415
        assert response.get_json() == {
            "error": "El cuerpo de la solicitud debe ser JSON (Content-Type: application/json)"
        }

    def test_a_server_fault_is_500_in_spanish_and_writes_nothing(self, app, client, alice):
        app.config["TIMEZONE"] = "Mars/Olympus"  # past the start-up check, as a broken deployment could be
        response = client.post("/api/conversations/create/", json={}, headers=alice)
        assert (response.status_code, response.get_json()) == (500, {"error": "Error interno del servidor"})
        assert row_count(Conversation) == 0

    def test_the_api_document_describes_every_route_and_who_may_call_it(self, client):
        paths = {path: item for path, item in client.get(f"{API}/openapi.json").get_json()["paths"].items()
                 if path.startswith("/api/")}
        operations = {
            (method, path): operation
            for path, item in paths.items()
            for method, operation in item.items()
            if method != "parameters"
        }
        public = {("post", "/api/auth/token/"), ("post", "/api/auth/refresh/"), ("post", "/api/auth/login/"),
                  ("get", "/api/health/")}
        assert len(operations) == 13
        assert {key for key, operation in operations.items() if "security" not in operation} == public
        hiding = [("get", "/api/conversations/{conversation_id}/messages/"), ("post", "/api/chat/"),
                  ("post", "/api/ratings/")]
        assert all("404" in operations[key]["responses"] for key in hiding)


class TestConversationList:
    def test_lists_your_conversations_newest_update_first(self, client, tenants, alice):
        conversations = conversations_updated_in_order(tenants["alice"], 3)
        response = client.get("/api/conversations/", headers=alice)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == LIST_KEYS
        assert (body["page"], body["size"], body["total"], body["has_more"]) == (1, 15, 3, False)
        assert [item["numeric_id"] for item in body["conversations"]] == [c.id for c in reversed(conversations)]
        first = body["conversations"][0]
        assert set(first) == SUMMARY_KEYS
        assert first["id"] == first["slug"] == conversations[-1].slug
        assert SLUG.fullmatch(first["slug"])
        assert first["title"] == "Conversation 2"
        assert first["created_at"].endswith("Z") and first["updated_at"].endswith("Z")

    def test_shows_only_your_active_conversations_in_the_active_organisation(self, client, tenants, alice):
        mine = conversation_of(tenants["alice"])
        conversation_of(tenants["alice"], deleted_at=utcnow())
        conversation_of(tenants["bob"])
        conversation_of(tenants["carol"])
        conversation_of(tenants["alice"], organisation_id=tenants["globex"].id)
        body = client.get("/api/conversations/", headers=alice).get_json()
        assert [item["numeric_id"] for item in body["conversations"]] == [mine.id]
        assert body["total"] == 1

    @pytest.mark.parametrize("query, page, size, shown, has_more", [
        ("", 1, 15, 5, False),
        ("?page=1&size=2", 1, 2, 2, True),
        ("?page=3&size=2", 3, 2, 1, False),
        ("?page=4&size=2", 4, 2, 0, False),
        ("?page=0&size=2", 1, 2, 2, True),
        ("?page=-5&size=2", 1, 2, 2, True),
        ("?size=0", 1, 1, 1, True),
        ("?size=-1", 1, 1, 1, True),
        ("?size=500", 1, 100, 5, False),
        ("?page=99999999999999999999&size=100", 1_000_000, 100, 0, False),
    ])
    def test_page_and_size_are_clamped(self, query, page, size, shown, has_more, client, tenants, alice):
        conversations_updated_in_order(tenants["alice"], 5)
        body = client.get(f"/api/conversations/{query}", headers=alice).get_json()
        assert (body["page"], body["size"], body["total"], body["has_more"]) == (page, size, 5, has_more)
        assert len(body["conversations"]) == shown

    def test_pages_follow_each_other(self, client, tenants, alice):
        conversations = conversations_updated_in_order(tenants["alice"], 5)
        pages = [client.get(f"/api/conversations/?page={n}&size=2", headers=alice).get_json() for n in (1, 2, 3)]
        seen = [item["numeric_id"] for page in pages for item in page["conversations"]]
        assert seen == [c.id for c in reversed(conversations)]

    @pytest.mark.parametrize("query", ["?page=abc", "?size=1.5"])
    def test_a_page_that_is_not_a_number_is_400(self, query, client, alice):
        response = client.get(f"/api/conversations/{query}", headers=alice)
        assert response.status_code == 400
        assert set(response.get_json()) == {"error"}

    def test_the_list_costs_the_same_queries_for_one_or_many(self, client, tenants, alice, count_queries):
        conversations_updated_in_order(tenants["alice"], 1)
        with count_queries() as few:
            client.get("/api/conversations/", headers=alice)
        conversations_updated_in_order(tenants["alice"], 10)
        with count_queries() as many:
            client.get("/api/conversations/", headers=alice)
        assert len(many) == len(few)


class TestConversationCreate:
    @pytest.mark.parametrize("path", ["/api/conversations/create/", "/api/conversations/"])
    def test_create_with_a_title(self, path, client, tenants, alice):
        response = client.post(path, json={"title": "Facturación"}, headers=alice)
        assert response.status_code == 201
        body = response.get_json()
        assert set(body) == CREATED_KEYS
        assert body["id"] == body["slug"] and SLUG.fullmatch(body["slug"])
        assert (body["title"], body["message"]) == ("Facturación", "Conversación creada exitosamente")
        conversation = db.session.get(Conversation, body["numeric_id"])
        assert (conversation.slug, conversation.user_id) == (body["slug"], tenants["alice"].id)
        assert conversation.organisation_id == tenants["acme"].id

    @pytest.mark.parametrize("body", [{}, {"title": None}, {"title": ""}, {"title": "   "}])
    def test_without_a_title_it_is_named_for_the_date_and_time(self, body, client, alice):
        response = client.post("/api/conversations/create/", json=body, headers=alice)
        assert response.status_code == 201
        assert re.fullmatch(r"Conversación \d\d/\d\d/\d{4} \d\d:\d\d", response.get_json()["title"])

    def test_the_default_title_is_in_the_configured_time_zone(self, app, client, alice):
        app.config["TIMEZONE"] = "America/Lima"  # UTC-5 all year
        body = client.post("/api/conversations/create/", json={}, headers=alice).get_json()
        created_in_lima = datetime.fromisoformat(body["created_at"].removesuffix("Z")) - timedelta(hours=5)
        # The title is made just before the row, so it may name the minute before created_at's.
        moments = (created_in_lima, created_in_lima - timedelta(minutes=1))
        assert body["title"] in {f"Conversación {moment:%d/%m/%Y %H:%M}" for moment in moments}

    @pytest.mark.parametrize("body", [{"title": "x" * 256}, {"title": 5}])
    def test_a_bad_title_is_400_and_writes_nothing(self, body, client, alice):
        response = client.post("/api/conversations/create/", json=body, headers=alice)
        assert response.status_code == 400
        assert set(response.get_json()) == {"error"}
        assert row_count(Conversation) == 0

    def test_server_owned_keys_are_ignored(self, client, tenants, alice):
        body = client.post("/api/conversations/", json={"title": "Mine", "id": 99, "slug": "AAAAAAAAAAA"},
                           headers=alice).get_json()
        assert body["numeric_id"] != 99 and body["slug"] != "AAAAAAAAAAA"

    @pytest.mark.parametrize("timezone", ["Mars/Olympus", "", "../etc/passwd", "utc"])
    def test_an_unknown_time_zone_fails_at_start_up(self, timezone, tmp_path, monkeypatch):
        monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
        with pytest.raises(RuntimeError, match="OPENREGISTER_TIMEZONE"):
            create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "JWT_SECRET": "x" * 64,
                        "TIMEZONE": timezone})


class TestMessages:
    @pytest.mark.parametrize("by", ["slug", "id"])
    def test_a_conversation_is_named_by_slug_or_id(self, by, client, alice, chat):
        conversation = chat["conversation"]
        response = client.get(messages_path(getattr(conversation, by)), headers=alice)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == PAGE_KEYS
        assert (body["conversation_id"], body["numeric_id"]) == (conversation.slug, conversation.id)
        assert body["slug"] == conversation.slug
        assert body["conversation_title"] == "Billing"
        assert (body["page"], body["size"], body["total"], body["has_more"]) == (1, 15, 2, False)

    def test_message_objects(self, client, alice, chat):
        question, answer = client.get(messages_path(chat["conversation"].slug), headers=alice).get_json()["messages"]
        assert set(question) == MESSAGE_KEYS
        assert question == {"id": chat["question"].id, "content": "Why?", "is_user": True, "sources": [],
                            "timestamp": question["timestamp"], "rating": None, "rating_issue_tag": "none"}
        assert question["timestamp"].endswith("Z")
        assert (answer["id"], answer["is_user"], answer["content"]) == (chat["answer"].id, False, "Because.")

    def test_page_one_is_the_newest_page_in_chronological_order(self, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        messages = factories.make_messages(conversation, 20)
        db.session.commit()
        first = client.get(messages_path(conversation.slug), headers=alice).get_json()
        second = client.get(messages_path(conversation.slug) + "?page=2", headers=alice).get_json()
        assert [m["id"] for m in first["messages"]] == [m.id for m in messages[5:]]
        assert (first["total"], first["has_more"]) == (20, True)
        assert [m["id"] for m in second["messages"]] == [m.id for m in messages[:5]]
        assert second["has_more"] is False

    @pytest.mark.parametrize("query, size", [("?size=0", 1), ("?size=1000", 100), ("?page=0&size=3", 3)])
    def test_message_page_size_is_clamped(self, query, size, client, tenants, alice):
        conversation = conversation_of(tenants["alice"])
        factories.make_messages(conversation, 4)
        db.session.commit()
        body = client.get(messages_path(conversation.slug) + query, headers=alice).get_json()
        assert (body["page"], body["size"]) == (1, size)
        assert len(body["messages"]) == min(size, 4)

    def test_ratings_cost_one_query_whatever_the_page_holds(self, client, tenants, alice, count_queries):
        few, many = conversation_of(tenants["alice"]), conversation_of(tenants["alice"])
        factories.make_messages(few, 2)
        factories.make_messages(many, 12)
        db.session.commit()
        with count_queries() as for_few:
            client.get(messages_path(few.slug), headers=alice)
        with count_queries() as for_many:
            client.get(messages_path(many.slug), headers=alice)
        assert len(for_many) == len(for_few)


def others_conversation(tenants, whose):
    """A conversation that NISIRA must not show alice."""
    if whose == "bob":
        return conversation_of(tenants["bob"])
    if whose == "carol":
        return conversation_of(tenants["carol"])
    if whose == "archived":
        return conversation_of(tenants["alice"], deleted_at=utcnow())
    initech = factories.make_organisation("Initech", owner=tenants["alice"])
    conversation = factories.make_conversation(tenants["alice"], organisation_id=initech.id)
    tenants["alice"].active_organisation_id = tenants["acme"].id
    db.session.commit()
    return conversation


HIDDEN = ["bob", "carol", "archived", "other organisation"]


class TestHiddenConversations:
    @pytest.mark.parametrize("whose", HIDDEN)
    @pytest.mark.parametrize("by", ["slug", "id"])
    def test_messages_of_a_conversation_you_may_not_see_are_404(self, whose, by, client, tenants, alice):
        conversation = others_conversation(tenants, whose)
        response = client.get(messages_path(getattr(conversation, by)), headers=alice)
        assert response.status_code == 404
        assert response.get_json() == NOT_FOUND

    @pytest.mark.parametrize("ref", ["AAAAAAAAAAA", "999999", "99999999999999999999999"])
    def test_an_unknown_conversation_is_the_same_404(self, ref, client, alice):
        response = client.get(messages_path(ref), headers=alice)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)

    @pytest.mark.parametrize("whose", HIDDEN)
    def test_delete_of_a_conversation_you_may_not_see_is_404_and_deletes_nothing(self, whose, client, tenants, alice):
        conversation = others_conversation(tenants, whose)
        response = client.delete(f"/api/conversations/{conversation.slug}/delete/", headers=alice)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
        assert row_count(Conversation) == 1

    @pytest.mark.parametrize("whose", HIDDEN)
    @pytest.mark.parametrize("path", ["/api/chat/", "/api/rag/chat/"])
    def test_chat_in_a_conversation_you_may_not_see_is_404_and_writes_nothing(
        self, whose, path, client, tenants, alice
    ):
        conversation = others_conversation(tenants, whose)
        response = client.post(path, json={"conversation_id": conversation.slug, "content": "Hola"}, headers=alice)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
        assert row_count(Message) == 0


class TestDelete:
    @pytest.mark.parametrize("path", ["/api/conversations/{ref}/delete/", "/api/conversations/{ref}/",
                                      "/api/conversations/{ref}"])
    @pytest.mark.parametrize("by", ["slug", "id"])
    def test_delete_removes_the_conversation_its_messages_and_their_ratings(self, by, path, client, alice, chat):
        rate(client, alice, chat["answer"], value="like")
        ref = getattr(chat["conversation"], by)
        response = client.delete(path.format(ref=ref), headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Conversación eliminada exitosamente"}
        assert (row_count(Conversation), row_count(Message), row_count(Feedback)) == (0, 0, 0)
        assert client.get(f"{API}/conversations/{chat['conversation'].uuid}", headers=alice).status_code == 404


class TestChat:
    @pytest.mark.parametrize("ref", ["slug", "id", "id as number"])
    def test_chat_stores_question_and_answer(self, ref, client, alice, chat):
        conversation = chat["conversation"]
        conversation_id = {"slug": conversation.slug, "id": str(conversation.id), "id as number": conversation.id}[ref]
        before = conversation.updated
        response = client.post("/api/chat/", json={"conversation_id": conversation_id, "content": "¿Y ahora?"},
                               headers=alice)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == CHAT_KEYS
        assert (body["conversation_id"], body["numeric_id"]) == (conversation.slug, conversation.id)
        assert body["slug"] == conversation.slug
        assert set(body["user_message"]) == set(body["assistant_message"]) == MESSAGE_KEYS
        assert (body["user_message"]["content"], body["user_message"]["is_user"]) == ("¿Y ahora?", True)
        assert body["assistant_message"]["is_user"] is False and body["assistant_message"]["content"]
        assert body["assistant_message"]["rating"] is None and body["assistant_message"]["rating_issue_tag"] == "none"
        assert row_count(Message) == 4
        db.session.expire_all()
        assert db.session.get(Conversation, conversation.id).updated > before

    @pytest.mark.parametrize("content", [None, "", "   ", "\n"])
    def test_blank_content_is_refused(self, content, client, alice, chat):
        body = {"conversation_id": chat["conversation"].slug}
        if content is not None:
            body["content"] = content
        response = client.post("/api/chat/", json=body, headers=alice)
        assert (response.status_code, response.get_json()) == (400, {"error": "El mensaje no puede estar vacío"})
        assert row_count(Message) == 2

    @pytest.mark.parametrize("body", [{"content": "Hola"}, {"content": "Hola", "conversation_id": None},
                                      {"content": "Hola", "conversation_id": ""}])
    def test_chat_needs_a_conversation(self, body, client, alice):
        response = client.post("/api/chat/", json=body, headers=alice)
        assert (response.status_code, response.get_json()) == (400, {"error": "ID de conversación requerido"})
        assert row_count(Message) == 0

    @pytest.mark.parametrize("body", [
        {"content": 5, "conversation_id": "x"},
        {"content": "Hola", "conversation_id": True},
        {"content": "Hola", "conversation_id": [1]},
    ])
    def test_wrong_types_are_400(self, body, client, alice):
        response = client.post("/api/chat/", json=body, headers=alice)
        assert response.status_code == 400
        assert set(response.get_json()) == {"error"}

    @pytest.mark.parametrize("behaviour, status, error", [
        ("status/500", 502, "El modelo de lenguaje respondió con un error"),
        ("slow", 504, "El modelo de lenguaje no respondió a tiempo"),
        (None, 503, "El modelo de lenguaje no está disponible"),
    ])
    def test_a_provider_failure_keeps_the_question_and_answers_in_spanish(
        self, behaviour, status, error, app, client, alice, chat
    ):
        with LlmServer() as server:
            app.config.update(LLM_PROVIDER="openai", LLM_BASE_URL=behaviour and server.url(behaviour),
                              LLM_MODEL="server-model", LLM_TIMEOUT=0.2)
            body = {"conversation_id": chat["conversation"].slug, "content": "¿Hola?"}
            response = client.post("/api/chat/", json=body, headers=alice)
        assert (response.status_code, response.get_json()) == (status, {"error": error})
        stored = db.session.scalars(select(Message.content).order_by(Message.id)).all()
        assert stored == ["Why?", "Because.", "¿Hola?"]


class TestRagChat:
    @pytest.mark.parametrize("content, title", [
        ("¿Cómo cambio mi contraseña?", "¿Cómo cambio mi contraseña?"),
        ("x" * 50, "x" * 50),
        ("y" * 51, "y" * 50 + "..."),
    ])
    def test_without_a_conversation_one_is_made_titled_from_the_content(self, content, title, client, tenants, alice):
        response = client.post("/api/rag/chat/", json={"content": content}, headers=alice)
        assert response.status_code == 201
        body = response.get_json()
        assert set(body) == RAG_KEYS
        conversation = db.session.get(Conversation, body["numeric_id"])
        assert (conversation.title, conversation.slug) == (title, body["slug"])
        assert conversation.user_id == tenants["alice"].id
        assert body["conversation_id"] == body["slug"]
        assert body["response"] == body["assistant_message"]["content"]
        assert (body["rag_used"], body["sources"]) == (False, [])
        assert body["user_message"]["content"] == content

    @pytest.mark.parametrize("use_rag", [True, False])
    def test_into_an_existing_conversation_and_no_retrieval_reported(self, use_rag, client, alice, chat):
        request = {"conversation_id": chat["conversation"].id, "content": "Más", "use_rag": use_rag}
        body = client.post("/api/rag/chat/", json=request, headers=alice).get_json()
        assert body["numeric_id"] == chat["conversation"].id
        assert body["rag_used"] is False
        assert row_count(Conversation) == 1 and row_count(Message) == 4

    @pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": "  "}, {"content": None}])
    def test_blank_content_is_refused(self, body, client, alice):
        response = client.post("/api/rag/chat/", json=body, headers=alice)
        assert (response.status_code, response.get_json()) == (400, {"error": "Contenido del mensaje requerido"})
        assert (row_count(Conversation), row_count(Message)) == (0, 0)


class TestRatings:
    def test_like_is_the_main_apis_positive_feedback(self, client, tenants, alice, chat):
        response = rate(client, alice, chat["answer"], value="like", comment="Útil")
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == RATING_KEYS
        assert body == {"message_id": chat["answer"].id, "conversation_id": chat["conversation"].slug, "value": "like",
                        "status": "created", "updated_at": body["updated_at"], "issue_tag": "none"}
        feedback = feedback_of(chat["answer"])
        assert (feedback.type, feedback.comment, feedback.issue_tag) == ("positive", "Útil", None)
        assert feedback.user_id == tenants["alice"].id
        main = client.post(f"{API}/conversations/{chat['conversation'].uuid}/messages/{chat['answer'].id}/feedback",
                           json={"type": "positive"}, headers=alice).get_json()
        assert (main["id"], main["uuid"], main["comment"]) == (feedback.id, feedback.uuid, "Útil")
        assert row_count(Feedback) == 1

    def test_a_second_rating_updates_the_same_feedback(self, client, alice, chat):
        rate(client, alice, chat["answer"], value="like", comment="Útil")
        body = rate(client, alice, chat["answer"], value="dislike", issue_tag="tardio").get_json()
        assert (body["value"], body["status"], body["issue_tag"]) == ("dislike", "updated", "tardio")
        feedback = feedback_of(chat["answer"])
        assert (feedback.type, feedback.issue_tag, feedback.comment) == ("negative", "tardio", "Útil")
        assert row_count(Feedback) == 1

    def test_clear_removes_the_feedback(self, client, alice, chat):
        rate(client, alice, chat["answer"], value="dislike", issue_tag="otro")
        body = rate(client, alice, chat["answer"], value="clear").get_json()
        assert set(body) == RATING_KEYS
        assert (body["value"], body["status"], body["issue_tag"]) == (None, "removed", "none")
        assert body["updated_at"].endswith("Z")
        assert row_count(Feedback) == 0

    def test_clear_without_a_rating_is_a_noop(self, client, alice, chat):
        body = rate(client, alice, chat["answer"], value="clear").get_json()
        assert (body["value"], body["status"]) == (None, "noop")
        assert row_count(Feedback) == 0

    def test_a_rating_shows_in_the_message_objects(self, client, alice, chat):
        rate(client, alice, chat["answer"], value="dislike", issue_tag="alucinacion")
        _, answer = client.get(messages_path(chat["conversation"].slug), headers=alice).get_json()["messages"]
        assert (answer["rating"], answer["rating_issue_tag"]) == ("dislike", "alucinacion")

    @pytest.mark.parametrize("feedback_type, rating", [("positive", "like"), ("negative", "dislike")])
    def test_feedback_given_through_the_main_api_shows_as_the_rating(self, feedback_type, rating, client, alice, chat):
        url = f"{API}/conversations/{chat['conversation'].uuid}/messages/{chat['answer'].uuid}/feedback"
        assert client.post(url, json={"type": feedback_type}, headers=alice).status_code == 200
        question, answer = client.get(messages_path(chat["conversation"].slug), headers=alice).get_json()["messages"]
        assert (answer["rating"], answer["rating_issue_tag"]) == (rating, "none")
        assert question["rating"] is None

    def test_another_users_rating_is_not_yours(self, client, tenants, auth_headers, chat):
        db.session.add(Feedback(message_id=chat["answer"].id, conversation_id=chat["conversation"].id,
                                user_id=tenants["bob"].id, type="negative"))
        db.session.commit()
        _, answer = client.get(messages_path(chat["conversation"].slug),
                               headers=auth_headers(tenants["alice"])).get_json()["messages"]
        assert answer["rating"] is None

    @pytest.mark.parametrize("comment, tag", [
        ("Esto es irrelevante", "irrelevante"),
        ("Fuera de contexto", "irrelevante"),
        ("No cita ninguna fuente, sin evidencia", "sin_evidencia"),
        ("Tardó demasiado", "tardio"),
        ("Muy lento", "tardio"),
        ("Se inventó los datos", "alucinacion"),
        ("ALUCINACIÓN total", "alucinacion"),
        ("El dato es falso", "alucinacion"),
        ("Hizo otra cosa", "accion_incorrecta"),
        ("Acción incorrecta", "accion_incorrecta"),
        ("No me gustó", "otro"),
        ("", "otro"),
        (None, "otro"),
    ])
    def test_auto_picks_the_tag_from_the_comment(self, comment, tag, client, alice, chat):
        body = {"value": "dislike", "issue_tag": "auto"}
        if comment is not None:
            body["comment"] = comment
        assert rate(client, alice, chat["answer"], **body).get_json()["issue_tag"] == tag
        assert feedback_of(chat["answer"]).issue_tag == tag

    @pytest.mark.parametrize("tag", [
        "irrelevante", "sin_evidencia", "tardio", "alucinacion", "accion_incorrecta", "otro",
    ])
    def test_an_explicit_tag_is_stored(self, tag, client, alice, chat):
        assert rate(client, alice, chat["answer"], value="dislike", issue_tag=tag).get_json()["issue_tag"] == tag
        assert feedback_of(chat["answer"]).issue_tag == tag

    def test_a_rating_without_a_tag_has_none(self, client, alice, chat):
        rate(client, alice, chat["answer"], value="dislike", issue_tag="tardio")
        assert rate(client, alice, chat["answer"], value="like").get_json()["issue_tag"] == "none"
        assert feedback_of(chat["answer"]).issue_tag is None

    @pytest.mark.parametrize("value", ["like", "clear"])
    def test_only_answers_take_ratings(self, value, client, alice, chat):
        response = rate(client, alice, chat["question"], value=value)
        assert response.status_code == 400
        assert response.get_json() == {"error": "Solo se pueden calificar respuestas del asistente."}
        assert row_count(Feedback) == 0

    @pytest.mark.parametrize("whose", HIDDEN)
    def test_a_message_you_may_not_see_is_404(self, whose, client, tenants, alice):
        answer = factories.make_message(others_conversation(tenants, whose), role="assistant", content="Secret")
        db.session.commit()
        response = rate(client, alice, answer, value="like")
        assert (response.status_code, response.get_json()) == (404, MESSAGE_NOT_FOUND)
        assert row_count(Feedback) == 0

    def test_an_unknown_message_is_404(self, client, alice):
        response = client.post("/api/ratings/", json={"message_id": 4242, "value": "like"}, headers=alice)
        assert (response.status_code, response.get_json()) == (404, MESSAGE_NOT_FOUND)

    @pytest.mark.parametrize("body", [
        {"value": "like"}, {"message_id": "abc", "value": "like"}, {"message_id": 0, "value": "like"},
        {"message_id": "MESSAGE"}, {"message_id": "MESSAGE", "value": "meh"}, {"message_id": "MESSAGE", "value": None},
        {"message_id": "MESSAGE", "value": "like", "issue_tag": "grave"},
        {"message_id": "MESSAGE", "value": "like", "comment": "x" * 501},
    ])
    def test_bad_input_is_400_and_writes_nothing(self, body, client, alice, chat):
        if body.get("message_id") == "MESSAGE":
            body = {**body, "message_id": chat["answer"].id}
        response = client.post("/api/ratings/", json=body, headers=alice)
        assert response.status_code == 400
        assert set(response.get_json()) == {"error"}
        assert row_count(Feedback) == 0


class TestBothApis:
    def test_the_same_conversations_through_both_apis(self, client, tenants, alice):
        conversations = conversations_updated_in_order(tenants["alice"], 3)
        for count, conversation in zip((1, 4, 2), conversations):
            factories.make_messages(conversation, count)
        db.session.commit()
        main = client.get(f"{API}/conversations", headers=alice).get_json()["results"]
        nisira = client.get("/api/conversations/", headers=alice).get_json()["conversations"]
        assert [(c["numeric_id"], c["title"]) for c in nisira] == [(c["id"], c["title"]) for c in main]
        for conversation in main:
            messages = client.get(messages_path(conversation["id"]), headers=alice).get_json()
            assert messages["total"] == conversation["messageCount"]
            main_messages = client.get(f"{API}/conversations/{conversation['uuid']}/messages", headers=alice).get_json()
            assert [m["id"] for m in messages["messages"]] == [m["id"] for m in main_messages["results"]]

    def test_a_conversation_made_through_nisira_is_in_the_main_api_at_once(self, client, alice):
        made = client.post("/api/conversations/create/", json={"title": "Desde NISIRA"}, headers=alice).get_json()
        [listed] = client.get(f"{API}/conversations", headers=alice).get_json()["results"]
        assert (listed["id"], listed["title"], listed["messageCount"]) == (made["numeric_id"], "Desde NISIRA", 0)

    def test_a_conversation_made_through_the_main_api_is_in_nisira_at_once(self, client, alice):
        made = client.post(f"{API}/conversations", json={"title": "From OpenRegister"}, headers=alice).get_json()
        [listed] = client.get("/api/conversations/", headers=alice).get_json()["conversations"]
        assert (listed["numeric_id"], listed["title"]) == (made["id"], "From OpenRegister")
        assert listed["slug"] == db.session.get(Conversation, made["id"]).slug

    def test_a_rename_through_the_main_api_shows_in_nisira(self, client, alice, chat):
        client.patch(f"{API}/conversations/{chat['conversation'].uuid}", json={"title": "Renamed"}, headers=alice)
        assert client.get("/api/conversations/", headers=alice).get_json()["conversations"][0]["title"] == "Renamed"
        messages = client.get(messages_path(chat["conversation"].slug), headers=alice).get_json()
        assert messages["conversation_title"] == "Renamed"

    def test_a_conversation_archived_through_the_main_api_leaves_nisira(self, client, alice, chat):
        client.delete(f"{API}/conversations/{chat['conversation'].uuid}", headers=alice)
        assert client.get("/api/conversations/", headers=alice).get_json()["total"] == 0
        assert client.get(messages_path(chat["conversation"].slug), headers=alice).status_code == 404

    def test_chat_through_nisira_shows_in_the_main_api(self, client, tenants, alice, chat):
        other = conversation_of(tenants["alice"], title="Newer")
        client.post("/api/chat/", json={"conversation_id": chat["conversation"].slug, "content": "Otra"}, headers=alice)
        main = client.get(f"{API}/conversations", headers=alice).get_json()["results"]
        assert [(c["id"], c["messageCount"]) for c in main] == [(chat["conversation"].id, 4), (other.id, 0)]

    def test_chat_through_the_main_api_shows_in_nisira(self, client, alice, chat):
        client.post(f"{API}/chat/send", json={"conversation": chat["conversation"].uuid, "message": "Again?"},
                    headers=alice)
        body = client.get(messages_path(chat["conversation"].slug), headers=alice).get_json()
        assert body["total"] == 4
        assert [(m["content"], m["is_user"]) for m in body["messages"]][2] == ("Again?", True)
