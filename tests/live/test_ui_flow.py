"""The OpenRegister UI's whole chat flow against a running server and a real OpenAI-compatible server
on loopback. (The same flow with the offline provider, in-process: tests/api/test_chat.py.)"""

import httpx
import pytest

from ..llm_server import LlmServer
from .conftest import PASSWORD, running_server


pytestmark = pytest.mark.live


@pytest.fixture
def flow_server(tmp_path):
    with LlmServer() as llm, running_server(
        tmp_path, OPENREGISTER_WORKERS="2", OPENREGISTER_LLM_PROVIDER="openai",
        OPENREGISTER_LLM_BASE_URL=llm.url("ok"), OPENREGISTER_LLM_MODEL="test-model",
    ) as server:
        yield server, llm


def test_the_whole_ui_flow(flow_server):
    server, llm = flow_server
    with httpx.Client(base_url=server.base, auth=("tester", PASSWORD), timeout=30) as client:
        token = client.post("/auth/token", json={"username": "tester", "password": PASSWORD}).json()["access"]
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        assert client.get("/conversations").json()["total"] == 0
        agent = client.post("/agents", json={"name": "Support", "prompt": "Be brief.", "isPrivate": False}).json()
        assert [a["uuid"] for a in client.get("/agents").json()["results"]] == [agent["uuid"]]

        conversation = client.post("/conversations", json={"agentUuid": agent["uuid"]})
        assert conversation.status_code == 201
        uuid = conversation.json()["uuid"]
        answers = []
        for text in ("How do I update my billing information?", "And my address?", "Thanks"):
            sent = client.post("/chat/send", json={"conversation": uuid, "message": text})
            assert sent.status_code == 200, sent.text
            answers.append(sent.json()["message"])
        assert sent.json()["title"] == "How do I update my billing information?"
        assert answers[0]["content"] == "Echo: How do I update my billing information?"
        first_request = llm.requests[0]["body"]
        assert first_request["model"] == "test-model"
        assert first_request["messages"][0] == {"role": "system", "content": "Be brief."}

        newest = client.get(f"/conversations/{uuid}/messages", params={"limit": 4}).json()
        assert [m["role"] for m in newest["results"]] == ["user", "assistant", "user", "assistant"]
        assert newest["hasMore"] is True and newest["total"] == 6
        older = client.get(f"/conversations/{uuid}/messages", params={"limit": 4, "offset": 4}).json()
        assert [m["content"] for m in older["results"]][0] == "How do I update my billing information?"

        rated = client.post(f"/conversations/{uuid}/messages/{answers[0]['id']}/feedback", json={"type": "positive"})
        assert rated.status_code == 200 and rated.json()["type"] == "positive"
        assert client.patch(f"/conversations/{uuid}", json={"title": "Billing"}).json()["title"] == "Billing"

        assert client.delete(f"/conversations/{uuid}").json()["archived"] is True
        assert client.get("/conversations").json()["total"] == 0
        assert [c["uuid"] for c in client.get("/conversations", params={"_deleted": "true"}).json()["results"]] == [uuid]
        assert client.post("/chat/send", json={"conversation": uuid, "message": "hello?"}).status_code == 409
        assert client.post(f"/conversations/{uuid}/restore").json()["deletedAt"] is None
        assert client.get("/conversations").json()["results"][0]["messageCount"] == 6

        client.delete(f"/conversations/{uuid}")
        gone = client.delete(f"/conversations/{uuid}")
        assert gone.json() == {"message": "Conversation permanently deleted", "uuid": uuid}
        assert client.get(f"/conversations/{uuid}").status_code == 404
