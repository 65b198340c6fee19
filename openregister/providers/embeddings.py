"""Embeddings: any OpenAI-compatible /embeddings endpoint (OpenAI, Ollama, vLLM, llama.cpp), or none."""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from .openai_compatible import http_client

# Embeddings, one float32 row per text (or one row: a single vector).
Vectors = npt.NDArray[np.float32]

log = logging.getLogger(__name__)

EMBEDDING_PROVIDERS = ("none", "openai")
BATCH_SIZE = 64


class EmbeddingError(Exception):
    """The embedding server failed or answered with something that is not embeddings."""


@dataclass(frozen=True)
class EmbeddingSettings:
    """The server's OPENREGISTER_EMBEDDING_* settings."""

    provider: str = "none"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "EmbeddingSettings":
        return cls(
            provider=(config.get("EMBEDDING_PROVIDER") or "none").strip().lower(),
            base_url=config.get("EMBEDDING_BASE_URL") or None,
            model=config.get("EMBEDDING_MODEL") or None,
            api_key=config.get("EMBEDDING_API_KEY") or None,
            timeout=float(config.get("EMBEDDING_TIMEOUT") or 30.0),
        )


class OpenAICompatibleEmbeddings:
    def __init__(self, *, base_url: str, model: str, api_key: str | None, timeout: float):
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length float32 row per text; raises EmbeddingError."""
        rows = []
        for start in range(0, len(texts), BATCH_SIZE):
            rows.extend(self._embed_batch(list(texts[start:start + BATCH_SIZE])))
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return normalised(np.asarray(rows, dtype=np.float32))

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        url = self.base_url.rstrip("/") + "/embeddings"
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = http_client().post(url, json={"model": self.model, "input": texts}, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise EmbeddingError(f"embedding server {url} unreachable or too slow: {error!r}") from None
        if not response.is_success:
            raise EmbeddingError(f"embedding server answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = [item["embedding"] for item in data]
            width = len(vectors[0])
            valid = (len(vectors) == len(texts) and width > 0
                     and all(len(vector) == width and all(isinstance(x, (int, float)) for x in vector) for vector in vectors))
        except (ValueError, LookupError, TypeError, AttributeError):
            valid = False
        if not valid:
            raise EmbeddingError(f"embedding server sent something that is not embeddings: {response.text[:300]}")
        return vectors


def normalised(matrix: Vectors) -> Vectors:
    norms: npt.NDArray[np.floating[Any]] = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


def embedder_for(settings: EmbeddingSettings) -> OpenAICompatibleEmbeddings | None:
    """The configured embedding client; None when there is none (retrieval is then keyword only)."""
    if settings.provider != "openai" or not settings.base_url or not settings.model:
        return None
    return OpenAICompatibleEmbeddings(
        base_url=settings.base_url, model=settings.model, api_key=settings.api_key, timeout=settings.timeout
    )


def to_bytes(vector: Vectors) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vectors:
    return np.frombuffer(data, dtype="<f4")
