"""Retrieval: the passages of an organisation's documents that best answer a question.

Keyword ranking uses the database's full-text index (FTS5 with bm25 over the organisation's own
statistics on SQLite, ts_rank_cd on PostgreSQL), semantic
ranking the cosine similarity of embeddings, and hybrid the reciprocal rank fusion of both. Every
query is scoped to one organisation: no passage of another ever comes back.
"""

import logging
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select, text

from ..extensions import db
from ..models import Agent, Caller, Document, Passage
from ..providers.embeddings import EmbeddingError, OpenAICompatibleEmbeddings, Vectors, from_bytes
from .organisations import is_member

log = logging.getLogger(__name__)

MODES = ("keyword", "semantic", "hybrid")
DEFAULT_MODE = "hybrid"
DEFAULT_SOURCES = 5
MAX_SOURCES = 50
# Reciprocal rank fusion's constant (Cormack, Clarke and Büttcher, 2009): 1 / (k + rank) per ranking.
RRF_K = 60
# Each ranking offers this many candidates to the fusion, however few sources are asked for.
CANDIDATES = 50
MAX_QUERY_WORDS = 32
# SQLite: matching passages rescored with the organisation's own statistics (sqlite_keyword_ranking).
KEYWORD_CANDIDATES = 100
WORD = re.compile(r"[^\W_]+")
COMBINING_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it its me my of on or our the this that to "
    "we what when where which who why will with you your".split()
)


@dataclass(frozen=True)
class Retrieved:
    """A passage chosen for a question, with its document and how relevant it was found (0..1)."""

    passage_id: int
    text: str
    document_id: int
    document_uuid: str
    document_name: str
    mime_type: str
    relevance: float

    def source(self) -> dict[str, Any]:
        """The assistant message's source object, as the real app's UI lists it."""
        relevance = round(self.relevance, 4)
        return {
            "type": "file", "id": self.document_uuid, "name": self.document_name, "relevance": relevance,
            "similarity": relevance, "text": self.text, "fileId": self.document_id, "mimeType": self.mime_type,
        }


@dataclass(frozen=True)
class RetrievalSettings:
    mode: str = DEFAULT_MODE
    limit: int = DEFAULT_SOURCES


def settings_for(agent: Agent | None, *, include_files: bool | None = None,
                 num_sources: int | None = None) -> RetrievalSettings | None:
    """What a send retrieves with this agent and the request's overrides; None when it retrieves nothing.

    Retrieval needs an agent with enableRag; includeFiles overrides its searchFiles and
    numSourcesFiles its ragNumSources (0: none).
    """
    if agent is None or not agent.enable_rag:
        return None
    search_files = agent.search_files if include_files is None else include_files
    limit = num_sources if num_sources is not None else agent.rag_num_sources
    limit = DEFAULT_SOURCES if limit is None else min(limit, MAX_SOURCES)
    if not search_files or limit <= 0:
        return None
    mode = agent.rag_search_mode if agent.rag_search_mode in MODES else DEFAULT_MODE
    return RetrievalSettings(mode=mode, limit=limit)


@dataclass(frozen=True)
class RetrievalPlan:
    """What one send retrieves, as plain values, so that retrieving needs no row of the question's transaction."""

    organisation_id: int
    query: str
    mode: str
    limit: int


def plan_for(actor: Caller, organisation_id: int | None, query: str,
             settings: RetrievalSettings | None) -> RetrievalPlan | None:
    """Retrieval from an organisation the actor belongs to; None when there is nothing to retrieve from."""
    if settings is None or organisation_id is None or not is_member(actor, organisation_id):
        return None
    return RetrievalPlan(organisation_id, query, settings.mode, settings.limit)


def grounded_prompt(prompt: str, passages: list[Retrieved]) -> str:
    """The agent's prompt, then the passages, each under its document's name."""
    if not passages:
        return prompt
    quoted = "\n\n".join(
        f'[{number}] From the document "{passage.document_name}":\n{passage.text}'
        for number, passage in enumerate(passages, start=1)
    )
    return (
        f"{prompt}\n\nAnswer from these passages of the organisation's documents when they answer the question, "
        f"and name the document you draw on. If they do not answer it, say so.\n\n{quoted}"
    )


def retrieve(organisation_id: int, question: str, *, mode: str = DEFAULT_MODE, limit: int = DEFAULT_SOURCES,
             embedder: OpenAICompatibleEmbeddings | None = None) -> list[Retrieved]:
    """The best `limit` passages of the organisation's documents for `question`, best first.

    Semantic and hybrid fall back to keyword without an embedding provider, or when it fails
    (logged), and semantic also when no passage has an embedding of the model; the question is
    embedded at most once.
    """
    if limit <= 0 or not question.strip():
        return []
    vector = embed_question(embedder, question) if mode in ("semantic", "hybrid") else None
    if vector is None or embedder is None:
        ranking = keyword_ranking(organisation_id, question, limit)
    elif mode == "semantic":
        # Passages uploaded while the embedding server was away (or before a model change, until
        # `flask documents reindex`) have no embedding of this model: the keyword index still has them.
        ranking = semantic_ranking(organisation_id, vector, embedder.model, limit) or keyword_ranking(
            organisation_id, question, limit)
    else:
        ranking = fused(
            keyword_ranking(organisation_id, question, CANDIDATES),
            semantic_ranking(organisation_id, vector, embedder.model, CANDIDATES),
        )[:limit]
    return with_documents(ranking)


def embed_question(embedder: OpenAICompatibleEmbeddings | None, question: str) -> Vectors | None:
    if embedder is None:
        return None
    try:
        vector: Vectors = embedder.embed([question])[0]
        return vector
    except EmbeddingError as error:
        log.warning("Retrieval falls back to keyword: the question could not be embedded: %s", error)
        return None


def tokens(text_: str) -> list[str]:
    """Words as the full-text index sees them: case and accents folded, split on anything but letters and digits."""
    if not text_.isascii():
        text_ = COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text_))
    return WORD.findall(text_.casefold())


def query_words(question: str) -> list[str]:
    words = [word for word in tokens(question) if word not in STOP_WORDS]
    return list(dict.fromkeys(words))[:MAX_QUERY_WORDS]


def keyword_ranking(organisation_id: int, question: str, limit: int) -> list[tuple[int, float]]:
    """(passage id, relevance 0..1) by full-text ranking within the organisation, best first."""
    words = query_words(question)
    if not words:
        return []
    if db.engine.dialect.name == "postgresql":
        # ts_rank_cd looks at the passage and the query only, so the organisation's own index rows decide.
        rows = db.session.execute(text(
            "SELECT f.passage_id, ts_rank_cd(f.vector, q) AS score "
            "FROM passages_fts f, to_tsquery('simple', public.unaccent(:query)) q "
            "WHERE f.organisation_id = :organisation AND f.vector @@ q "
            "ORDER BY score DESC, f.passage_id LIMIT :limit"
        ), {"query": " | ".join(words), "organisation": organisation_id, "limit": limit}).all()
        return [(passage_id, squashed(score)) for passage_id, score in rows]
    return sqlite_keyword_ranking(organisation_id, words, limit)


def sqlite_keyword_ranking(organisation_id: int, words: list[str], limit: int) -> list[tuple[int, float]]:
    """FTS5 finds the organisation's matching passages; bm25 is then scored over the organisation alone.

    FTS5's own bm25() counts documents over the whole table, every organisation's: its figures (and
    order) would change with what other organisations upload. The candidates come in FTS5's order,
    so only past KEYWORD_CANDIDATES matches does the table-wide order pick which are rescored.
    """
    rows = db.session.execute(text(
        "SELECT p.id, p.text FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid "
        "WHERE passages_fts MATCH :query AND p.organisation_id = :organisation "
        "ORDER BY bm25(passages_fts), p.id LIMIT :candidates"
    ), {"query": " OR ".join(f'"{word}"' for word in words), "organisation": organisation_id,
        "candidates": KEYWORD_CANDIDATES}).all()
    if not rows:
        return []
    total = db.session.scalars(select(func.count(Passage.id)).where(Passage.organisation_id == organisation_id)).one()
    scores = bm25([(passage_id, tokens(passage_text)) for passage_id, passage_text in rows], words, total)
    return [(passage_id, squashed(score)) for passage_id, score in scores[:limit]]


def bm25(documents: list[tuple[int, list[str]]], words: list[str], total: int,
         k1: float = 1.2, b: float = 0.75) -> list[tuple[int, float]]:
    """Okapi BM25 of each document for the query words, best first; `total` documents in the collection."""
    frequencies = [(passage_id, Counter(document_tokens), len(document_tokens)) for passage_id, document_tokens in documents]
    average_length = sum(length for _, _, length in frequencies) / len(frequencies) or 1.0
    document_frequency = {word: sum(1 for _, counts, _ in frequencies if counts[word]) for word in words}
    scored = []
    for passage_id, counts, length in frequencies:
        score = 0.0
        for word in words:
            tf = counts[word]
            if tf:
                idf = math.log((total - document_frequency[word] + 0.5) / (document_frequency[word] + 0.5) + 1.0)
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average_length))
        scored.append((passage_id, score))
    return sorted(scored, key=lambda item: (-item[1], item[0]))


def squashed(score: float) -> float:
    """An unbounded positive score mapped into 0..1, keeping its order."""
    score = max(float(score), 0.0)
    return score / (1.0 + score)


def semantic_ranking(organisation_id: int, vector: Vectors, model: str, limit: int) -> list[tuple[int, float]]:
    """(passage id, cosine similarity clipped to 0..1) over the passages embedded by `model`, best first."""
    rows = db.session.execute(
        select(Passage.id, Passage.embedding)
        .where(Passage.organisation_id == organisation_id, Passage.embedding.is_not(None),
               Passage.embedding_model == model)
    ).all()
    embedded = [(passage_id, from_bytes(data)) for passage_id, data in rows
                if data is not None and len(data) == vector.size * 4]
    if not embedded:
        return []
    matrix = np.vstack([embedding for _, embedding in embedded])
    scores = matrix @ vector.astype(np.float32)
    order = np.argsort(-scores, kind="stable")[:limit]
    return [(embedded[index][0], float(min(max(scores[index], 0.0), 1.0))) for index in order]


def fused(*rankings: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Reciprocal rank fusion; relevance is the fused score over the best possible (first in every ranking)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (passage_id, _) in enumerate(ranking, start=1):
            scores[passage_id] = scores.get(passage_id, 0.0) + 1.0 / (RRF_K + rank)
    best = len(rankings) / (RRF_K + 1)
    return sorted(((passage_id, score / best) for passage_id, score in scores.items()), key=lambda item: (-item[1], item[0]))


def with_documents(ranking: list[tuple[int, float]]) -> list[Retrieved]:
    if not ranking:
        return []
    rows = db.session.execute(
        select(Passage.id, Passage.text, Document.id, Document.uuid, Document.name, Document.mime_type)
        .join(Document, Document.id == Passage.document_id)
        .where(Passage.id.in_([passage_id for passage_id, _ in ranking]))
    ).all()
    found = {row[0]: row for row in rows}
    return [
        Retrieved(passage_id, found[passage_id][1], found[passage_id][2], found[passage_id][3], found[passage_id][4],
                  found[passage_id][5], relevance)
        for passage_id, relevance in ranking if passage_id in found
    ]
