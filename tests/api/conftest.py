import pytest

from openregister.extensions import db

from .. import factories
from ..llm_server import LlmServer


@pytest.fixture
def alice(tenants, auth_headers):
    """Bearer headers of alice, owner of Acme."""
    return auth_headers(tenants["alice"])


@pytest.fixture
def bob(tenants, auth_headers):
    """Bearer headers of bob, a member of Acme."""
    return auth_headers(tenants["bob"])


@pytest.fixture
def carol(tenants, auth_headers):
    """Bearer headers of carol, owner of Globex."""
    return auth_headers(tenants["carol"])


@pytest.fixture
def agent(tenants):
    """Alice's agent in Acme, with a prompt of its own."""
    agent = factories.make_agent(tenants["alice"], tenants["acme"], prompt="You help Acme's staff.")
    db.session.commit()
    return agent


@pytest.fixture
def llm_server(app):
    """A chat-completions server that the app's openai provider is pointed at."""
    with LlmServer() as server:
        app.config.update(
            LLM_PROVIDER="openai", LLM_BASE_URL=server.url("ok"), LLM_MODEL="server-model", LLM_TIMEOUT=5.0
        )
        yield server
