"""The embedding client against a real /embeddings server on loopback (tests/embedding_server.py)."""

import numpy as np
import pytest

from openregister.providers.embeddings import (
    EmbeddingError,
    EmbeddingSettings,
    embedder_for,
    from_bytes,
    to_bytes,
)

from .embedding_server import EmbeddingServer


@pytest.fixture
def embedding_server():
    with EmbeddingServer() as server:
        yield server


def client_for(url, **overrides):
    settings = {"EMBEDDING_PROVIDER": "openai", "EMBEDDING_BASE_URL": url, "EMBEDDING_MODEL": "hashed-words",
                "EMBEDDING_API_KEY": None, "EMBEDDING_TIMEOUT": 2, **overrides}
    return embedder_for(EmbeddingSettings.from_config(settings))


def test_embeddings_are_unit_rows_in_input_order(embedding_server):
    client = client_for(embedding_server.url(), EMBEDDING_API_KEY="sk-embed")
    vectors = client.embed(["refunds within fourteen days", "holiday policy", "refund days"])
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[0] @ vectors[2] > vectors[0] @ vectors[1]
    request = embedding_server.requests[0]
    assert request["path"] == "/ok/v1/embeddings"
    assert request["body"] == {"model": "hashed-words", "input": ["refunds within fourteen days", "holiday policy",
                                                                  "refund days"]}
    assert request["headers"]["Authorization"] == "Bearer sk-embed"


def test_many_texts_go_in_batches(embedding_server):
    vectors = client_for(embedding_server.url()).embed([f"text {i}" for i in range(150)])
    assert vectors.shape[0] == 150
    assert [len(request["body"]["input"]) for request in embedding_server.requests] == [64, 64, 22]


@pytest.mark.parametrize("behaviour, expected", [
    ("status/500", "HTTP 500"),
    ("status/401", "HTTP 401"),
    ("malformed", "not embeddings"),
    ("short", "not embeddings"),
    ("slow", "unreachable or too slow"),
])
def test_a_failing_server_raises_embedding_error(embedding_server, behaviour, expected):
    client = client_for(embedding_server.url(behaviour), EMBEDDING_TIMEOUT=0.3)
    with pytest.raises(EmbeddingError, match=expected):
        client.embed(["a question"])


def test_an_unreachable_server_raises_embedding_error(closed_port_url):
    with pytest.raises(EmbeddingError, match="unreachable"):
        client_for(closed_port_url).embed(["a question"])


@pytest.mark.parametrize("settings", [
    {"EMBEDDING_PROVIDER": "none", "EMBEDDING_BASE_URL": "http://127.0.0.1:1/v1", "EMBEDDING_MODEL": "m"},
    {"EMBEDDING_PROVIDER": "openai", "EMBEDDING_BASE_URL": None, "EMBEDDING_MODEL": "m"},
    {"EMBEDDING_PROVIDER": "openai", "EMBEDDING_BASE_URL": "http://127.0.0.1:1/v1", "EMBEDDING_MODEL": None},
])
def test_no_client_without_provider_url_and_model(settings):
    assert embedder_for(EmbeddingSettings.from_config(settings)) is None


def test_embeddings_are_stored_as_float32_bytes():
    vector = np.array([0.5, -0.25, 1.0], dtype=np.float32)
    assert len(to_bytes(vector)) == 12
    assert np.array_equal(from_bytes(to_bytes(vector)), vector)
