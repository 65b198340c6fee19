"""A client that goes away mid-stream: gunicorn's worker stops reading from the provider and closes its
connection to it within 2 seconds (api-contract-beyond.md, section 1); the question stays, no answer.

The provider is the loopback chat-completions server, which notes the moment its client leaves.
"""

import time

import httpx
import pytest
from sqlalchemy import text

from ..llm_server import LlmServer
from .conftest import running_server

pytestmark = pytest.mark.live

# The contract's bound; the server looks at its client twice a second.
GONE_WITHIN = 2.0


@pytest.fixture
def llm():
    with LlmServer() as server:
        yield server


@pytest.mark.parametrize("behaviour, read_until", [
    ("drip/30", "event: start"),  # the provider is silent: nothing is written to the client meanwhile
    ("drip/0.4", "event: delta"),  # the provider writes slowly
], ids=["silent provider", "slow pieces"])
def test_provider_connection_is_closed_soon_after_the_client_leaves(behaviour, read_until, tmp_path, llm):
    env = {"OPENREGISTER_LLM_PROVIDER": "openai", "OPENREGISTER_LLM_BASE_URL": llm.url(behaviour),
           "OPENREGISTER_LLM_MODEL": "m", "OPENREGISTER_LLM_TIMEOUT": "60"}
    with running_server(tmp_path, workers=1, threads=4, **env) as server:
        headers = server.headers("tester")
        with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
            conversation = client.post("/conversations", json={"title": "Leaving"}).json()["uuid"]
        question = "Tell me a long story " + "about streams " * 20
        with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client, client.stream(
            "POST", "/chat/send", json={"conversation": conversation, "message": question},
            headers={"Accept": "text/event-stream"},
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith(read_until):
                    break
        left = time.monotonic()  # the client's connection is closed here

        assert llm.departed.wait(10), "the server never closed its connection to the provider"
        closed_after = llm.departures[0]["at"] - left
        print(f"{behaviour}: closed {closed_after:.2f} s after the client left")
        assert closed_after < GONE_WITHIN, f"the provider's connection was closed {closed_after:.2f} s after the client left"
        time.sleep(1)
        engine = server.engine()
        try:
            with engine.connect() as connection:
                roles = connection.execute(text(
                    "SELECT m.role, m.content FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                    "WHERE c.uuid = :uuid ORDER BY m.id"), {"uuid": conversation}).all()
        finally:
            engine.dispose()
        assert [tuple(row) for row in roles] == [("user", question)]
        assert len(llm.requests) == 1
