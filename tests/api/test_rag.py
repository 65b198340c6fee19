"""Answers from the organisation's documents: retrieval in chat, sources, and isolation between tenants."""

import io
import logging

import pytest
from sqlalchemy import select

from openregister.extensions import db
from openregister.models import Message, Passage

from .. import factories
from ..conftest import API
from ..embedding_server import EmbeddingServer
from ..llm_server import LlmServer

SOURCE_KEYS = ["type", "id", "name", "relevance", "similarity", "text", "fileId", "mimeType"]
GUIDE = (
    "# Billing guide\n\n"
    "Refunds are paid within fourteen days of the request. Ask the finance desk for a refund form.\n\n"
    "Invoices are sent on the first working day of every month, by e-mail to the account's contact."
)
HOLIDAYS = "Holidays are booked in the staff portal. Book at least two weeks ahead and tell your team lead."
PARKING = "Parking permits for the garage are issued by reception. A permit is valid for one calendar year."


def upload(client, headers, text: str, filename: str):
    response = client.post(f"{API}/documents", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(text.encode()), filename)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def send(client, headers, **body):
    return client.post(f"{API}/chat/send", json=body, headers=headers)


def rag_agent(tenants, organisation="acme", **overrides):
    values = {"name": "Docs", "prompt": "You answer staff questions.", "enable_rag": True, **overrides}
    agent = factories.make_agent(tenants["alice"] if organisation == "acme" else tenants["carol"],
                                 tenants[organisation], **values)
    db.session.commit()
    return agent


@pytest.fixture
def documents(client, alice):
    return {name: upload(client, alice, text, name)
            for name, text in (("billing-guide.md", GUIDE), ("holidays.txt", HOLIDAYS), ("parking.txt", PARKING))}


@pytest.fixture
def embedding_server(app):
    with EmbeddingServer() as server:
        app.config.update(EMBEDDING_PROVIDER="openai", EMBEDDING_BASE_URL=server.url(), EMBEDDING_MODEL="hashed-words")
        yield server


@pytest.fixture
def llm_server(app):
    with LlmServer() as server:
        app.config.update(LLM_PROVIDER="openai", LLM_BASE_URL=server.url("ok"), LLM_MODEL="m", LLM_TIMEOUT=5.0)
        yield server


def passage_of(document_name: str) -> str:
    return db.session.scalars(
        select(Passage.text).join(Passage.document).where(Passage.document.has(name=document_name))
    ).first()


class TestOfflineAnswersFromDocuments:
    def test_the_answer_quotes_the_best_passage_and_the_source_names_the_document(
            self, client, tenants, alice, documents):
        agent = rag_agent(tenants)
        response = send(client, alice, agentUuid=agent.uuid, message="How long do refunds take?")
        assert response.status_code == 200
        body = response.get_json()
        guide = documents["billing-guide.md"]
        answer = body["message"]["content"]
        assert answer.startswith('From "billing-guide.md":\n\n> # Billing guide\n>\n> Refunds are paid within fourteen days')
        assert "offline provider" in answer
        best = body["sources"][0]
        assert list(best) == SOURCE_KEYS
        assert best == {"type": "file", "id": guide["uuid"], "name": "billing-guide.md", "relevance": best["relevance"],
                        "similarity": best["relevance"], "text": passage_of("billing-guide.md"), "fileId": guide["id"],
                        "mimeType": "text/markdown"}
        assert 0 < best["relevance"] <= 1
        assert body["message"]["sources"] == body["sources"]
        stored = db.session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert stored.sources == body["sources"]

    def test_sources_are_best_first_and_only_matching_passages(self, client, tenants, alice, documents):
        agent = rag_agent(tenants, rag_search_mode="keyword")
        body = send(client, alice, agentUuid=agent.uuid, message="Who issues parking permits for the garage?").get_json()
        names = [source["name"] for source in body["sources"]]
        assert names == ["parking.txt"]
        relevances = [source["relevance"] for source in body["sources"]]
        assert relevances == sorted(relevances, reverse=True)

    def test_the_conversation_history_shows_the_sources(self, client, tenants, alice, documents):
        agent = rag_agent(tenants)
        conversation = send(client, alice, agentUuid=agent.uuid, message="When are invoices sent?").get_json()
        messages = client.get(f"{API}/conversations/{conversation['conversation']}/messages", headers=alice).get_json()
        answer = [m for m in messages["results"] if m["role"] == "assistant"][0]
        assert answer["sources"][0]["name"] == "billing-guide.md"

    def test_nisira_rag_chat_answers_from_the_organisations_documents(self, client, tenants, alice, documents):
        response = client.post("/api/rag/chat/", json={"content": "How long do refunds take?"}, headers=alice)
        assert response.status_code == 201
        body = response.get_json()
        assert body["rag_used"] is True
        assert body["sources"][0]["name"] == "billing-guide.md"
        assert list(body["sources"][0]) == SOURCE_KEYS
        assert body["assistant_message"]["sources"] == body["sources"]
        assert body["response"].startswith('From "billing-guide.md"')

    def test_nisira_rag_chat_with_use_rag_false_does_not_retrieve(self, client, tenants, alice, documents):
        body = client.post("/api/rag/chat/", json={"content": "How long do refunds take?", "use_rag": False},
                           headers=alice).get_json()
        assert (body["rag_used"], body["sources"]) == (False, [])
        assert body["response"].startswith('You asked: "How long do refunds take?"')

    def test_nisira_rag_chat_follows_the_conversations_agent(self, client, tenants, alice, documents):
        agent = rag_agent(tenants, enable_rag=False)
        conversation = factories.make_conversation(tenants["alice"], agent_id=agent.id)
        db.session.commit()
        body = client.post("/api/rag/chat/", json={"content": "How long do refunds take?",
                                                   "conversation_id": conversation.id}, headers=alice).get_json()
        assert (body["rag_used"], body["sources"]) == (False, [])

    def test_plain_nisira_chat_uses_the_agents_retrieval_too(self, client, tenants, alice, documents):
        agent = rag_agent(tenants)
        conversation = factories.make_conversation(tenants["alice"], agent_id=agent.id)
        db.session.commit()
        body = client.post("/api/chat/", json={"content": "How long do refunds take?",
                                               "conversation_id": conversation.id}, headers=alice).get_json()
        assert body["assistant_message"]["sources"][0]["name"] == "billing-guide.md"

    def test_without_passages_the_offline_provider_answers_as_before(self, client, tenants, alice, documents):
        agent = rag_agent(tenants)
        body = send(client, alice, agentUuid=agent.uuid, message="Xylophone quartz zebra?").get_json()
        assert body["sources"] == []
        assert body["message"]["content"].startswith('You asked: "Xylophone quartz zebra?"')


class TestRetrievalSettings:
    def test_an_agent_without_rag_retrieves_nothing(self, client, tenants, alice, documents):
        agent = rag_agent(tenants, enable_rag=False)
        assert send(client, alice, agentUuid=agent.uuid, message="How long do refunds take?").get_json()["sources"] == []

    def test_search_files_false_retrieves_nothing_unless_include_files_says_so(self, client, tenants, alice, documents):
        agent = rag_agent(tenants, search_files=False)
        assert send(client, alice, agentUuid=agent.uuid, message="refunds?").get_json()["sources"] == []
        body = send(client, alice, agentUuid=agent.uuid, message="refunds?", includeFiles=True).get_json()
        assert [s["name"] for s in body["sources"]] == ["billing-guide.md"]

    def test_include_files_false_overrides_the_agent(self, client, tenants, alice, documents):
        agent = rag_agent(tenants)
        assert send(client, alice, agentUuid=agent.uuid, message="refunds?", includeFiles=False).get_json()["sources"] == []

    @pytest.mark.parametrize("agent_sources, requested, expected", [(None, None, 3), (2, None, 2), (1, 3, 3), (5, 0, 0)])
    def test_num_sources_files_overrides_rag_num_sources(self, client, tenants, alice, documents, agent_sources,
                                                         requested, expected):
        agent = rag_agent(tenants, rag_num_sources=agent_sources, rag_search_mode="keyword")
        body = {"agentUuid": agent.uuid, "message": "refunds holidays parking permits staff"}
        if requested is not None:
            body["numSourcesFiles"] = requested
        assert len(send(client, alice, **body).get_json()["sources"]) == expected

    def test_the_real_apps_other_settings_are_accepted_and_ignored(self, client, tenants, alice, documents):
        agent = rag_agent(tenants)
        response = send(client, alice, agentUuid=agent.uuid, message="refunds?", includeObjects=True,
                        numSourcesObjects=7, views=["v1"], tools=["register"])
        assert response.status_code == 200
        assert [s["name"] for s in response.get_json()["sources"]] == ["billing-guide.md"]

    @pytest.mark.parametrize("value", [51, -1, "3", 2.5])
    def test_num_sources_files_out_of_range_is_400(self, client, tenants, alice, value):
        agent = rag_agent(tenants)
        response = send(client, alice, agentUuid=agent.uuid, message="refunds?", numSourcesFiles=value)
        assert response.status_code == 400
        assert "numSourcesFiles" in response.get_json()["errors"]

    def test_passages_go_to_the_provider_in_the_system_prompt_with_their_document_names(
            self, client, tenants, alice, documents, llm_server):
        agent = rag_agent(tenants, provider="openai")
        send(client, alice, agentUuid=agent.uuid, message="How long do refunds take?")
        [request] = llm_server.requests
        system = request["body"]["messages"][0]
        assert system["role"] == "system"
        assert system["content"].startswith("You answer staff questions.\n\n")
        assert f'[1] From the document "billing-guide.md":\n{passage_of("billing-guide.md")}' in system["content"]
        assert request["body"]["messages"][-1] == {"role": "user", "content": "How long do refunds take?"}


class TestModes:
    @pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
    def test_every_mode_finds_the_answering_document(self, client, tenants, alice, embedding_server, documents, mode):
        agent = rag_agent(tenants, rag_search_mode=mode)
        body = send(client, alice, agentUuid=agent.uuid, message="When must holidays be booked?").get_json()
        assert body["sources"][0]["name"] == "holidays.txt"
        assert all(0 <= s["relevance"] <= 1 for s in body["sources"])

    def test_semantic_finds_what_keyword_cannot(self, client, tenants, alice, embedding_server, documents):
        # "refund" is in no passage as a whole word ("Refunds", "refund form" are): word pieces still match.
        question = "invoicing monthly?"
        keyword = rag_agent(tenants, rag_search_mode="keyword")
        semantic = rag_agent(tenants, rag_search_mode="semantic")
        assert send(client, alice, agentUuid=keyword.uuid, message=question).get_json()["sources"] == []
        body = send(client, alice, agentUuid=semantic.uuid, message=question).get_json()
        assert body["sources"][0]["name"] == "billing-guide.md"

    def test_hybrid_fuses_both_rankings_and_embeds_the_question_once(self, client, tenants, alice, embedding_server,
                                                                     documents):
        agent = rag_agent(tenants, rag_search_mode="hybrid")
        asked_before = len(embedding_server.requests)
        body = send(client, alice, agentUuid=agent.uuid, message="parking permit validity").get_json()
        assert embedding_server.inputs()[asked_before:] == ["parking permit validity"]
        assert body["sources"][0]["name"] == "parking.txt"
        assert body["sources"][0]["relevance"] == 1.0  # first in both rankings

    def test_passages_are_embedded_at_upload(self, client, alice, embedding_server, documents):
        models = db.session.scalars(select(Passage.embedding_model)).all()
        assert models == ["hashed-words"] * 3
        assert sorted(embedding_server.inputs()) == sorted(db.session.scalars(select(Passage.text)))

    @pytest.mark.parametrize("mode", ["semantic", "hybrid"])
    def test_without_an_embedding_provider_semantic_and_hybrid_are_keyword(
            self, client, tenants, alice, documents, mode):
        agent = rag_agent(tenants, rag_search_mode=mode)
        keyword = rag_agent(tenants, rag_search_mode="keyword")
        question = "When must holidays be booked?"
        sources = send(client, alice, agentUuid=agent.uuid, message=question).get_json()["sources"]
        assert sources == send(client, alice, agentUuid=keyword.uuid, message=question).get_json()["sources"]
        assert sources[0]["name"] == "holidays.txt"

    def test_a_failing_embedding_server_degrades_to_keyword_and_logs_it(self, app, client, tenants, alice,
                                                                        embedding_server, documents, caplog):
        app.config["EMBEDDING_BASE_URL"] = embedding_server.url("status/500")
        agent = rag_agent(tenants, rag_search_mode="semantic")
        with caplog.at_level(logging.WARNING, logger="openregister.services.retrieval"):
            response = send(client, alice, agentUuid=agent.uuid, message="When must holidays be booked?")
        assert response.status_code == 200
        assert response.get_json()["sources"][0]["name"] == "holidays.txt"
        assert "falls back to keyword" in caplog.text and "HTTP 500" in caplog.text

    def test_upload_with_a_failing_embedding_server_is_indexed_for_keyword_and_logged(
            self, app, client, tenants, alice, embedding_server, caplog):
        app.config["EMBEDDING_BASE_URL"] = embedding_server.url("malformed")
        with caplog.at_level(logging.WARNING, logger="openregister.services.documents"):
            document = upload(client, alice, HOLIDAYS, "holidays.txt")
        assert (document["status"], document["chunks"]) == ("indexed", 1)
        assert "keyword retrieval only" in caplog.text
        assert db.session.scalars(select(Passage.embedding)).all() == [None]
        agent = rag_agent(tenants, rag_search_mode="hybrid")
        app.config["EMBEDDING_BASE_URL"] = embedding_server.url()
        body = send(client, alice, agentUuid=agent.uuid, message="When must holidays be booked?").get_json()
        assert [s["name"] for s in body["sources"]] == ["holidays.txt"]

    def test_semantic_finds_passages_uploaded_before_embeddings_were_configured_by_keyword(
            self, app, client, tenants, alice, documents):
        agent = rag_agent(tenants, rag_search_mode="semantic")
        with EmbeddingServer() as server:
            app.config.update(EMBEDDING_PROVIDER="openai", EMBEDDING_BASE_URL=server.url(), EMBEDDING_MODEL="new-model")
            body = send(client, alice, agentUuid=agent.uuid, message="When must holidays be booked?").get_json()
        assert body["sources"][0]["name"] == "holidays.txt"

    def test_accents_and_case_are_folded(self, client, tenants, alice):
        upload(client, alice, "Le café ouvre à huit heures. Réunion le lundi.", "cafe.txt")
        agent = rag_agent(tenants, rag_search_mode="keyword")
        body = send(client, alice, agentUuid=agent.uuid, message="CAFE reunion?").get_json()
        assert [s["name"] for s in body["sources"]] == ["cafe.txt"]


class TestIsolation:
    SECRET = "zorbulation"
    QUESTION = f"What is the {SECRET} protocol of refunds and holidays?"

    def test_another_organisations_passage_never_reaches_a_prompt_a_source_or_a_relevance(
            self, client, tenants, alice, carol, embedding_server, documents, llm_server):
        upload(client, carol, f"Globex only: the {self.SECRET} protocol of refunds and holidays.", "globex.txt")
        for mode in ("keyword", "semantic", "hybrid"):
            agent = rag_agent(tenants, provider="openai", rag_search_mode=mode, rag_num_sources=50)
            body = send(client, alice, agentUuid=agent.uuid, message=self.QUESTION).get_json()
            assert body["sources"] and self.SECRET not in str(body["sources"])
            assert all(source["name"] != "globex.txt" for source in body["sources"])
        nisira = client.post("/api/rag/chat/", json={"content": f"{self.SECRET} refunds holidays"}, headers=alice)
        assert nisira.get_json()["sources"] and self.SECRET not in str(nisira.get_json()["sources"])
        assert llm_server.requests and all(self.SECRET not in str(r["body"]["messages"][:-1]) for r in llm_server.requests)
        # The same question in Globex finds it: the word is there to be found.
        globex_agent = rag_agent(tenants, organisation="globex", rag_search_mode="keyword")
        body = send(client, carol, agentUuid=globex_agent.uuid, message=self.QUESTION).get_json()
        assert [s["name"] for s in body["sources"]] == ["globex.txt"]

    @pytest.mark.parametrize("mode", ["keyword", "hybrid"])
    def test_relevance_figures_do_not_depend_on_other_organisations(self, client, tenants, alice, carol,
                                                                    embedding_server, documents, mode):
        agent = rag_agent(tenants, rag_search_mode=mode)
        question = "How long do refunds take?"
        before = send(client, alice, agentUuid=agent.uuid, message=question).get_json()["sources"]
        for number in range(5):
            upload(client, carol, f"Refunds take {number} days at Globex. Refunds refunds refunds.", f"g{number}.txt")
        after = send(client, alice, agentUuid=agent.uuid, message=question).get_json()["sources"]
        assert after == before
        assert all(s["name"] != "g0.txt" for s in after)

    def test_a_document_deleted_a_moment_before_is_never_retrieved(self, client, tenants, alice, llm_server,
                                                                   embedding_server):
        document = upload(client, alice, f"The {self.SECRET} rule: refunds on Fridays.", "old-rules.txt")
        upload(client, alice, HOLIDAYS, "holidays.txt")
        assert client.delete(f"{API}/documents/{document['uuid']}", headers=alice).status_code == 200
        for mode in ("keyword", "semantic", "hybrid"):
            agent = rag_agent(tenants, provider="openai", rag_search_mode=mode)
            body = send(client, alice, agentUuid=agent.uuid, message=f"What is the {self.SECRET} rule?").get_json()
            assert self.SECRET not in str(body["sources"])
            assert all(source["id"] != document["uuid"] for source in body["sources"])
        assert all(self.SECRET not in str(r["body"]["messages"][:-1]) for r in llm_server.requests)
