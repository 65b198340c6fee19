"""Retrieval quality (hit rate at 5 per mode) and keyword speed when other organisations hold many passages.

    .venv/bin/python bench/retrieval.py [--database URL] [--passages 100000]
        [--embedding-base-url URL --embedding-model NAME [--embedding-api-key KEY]]

Quality: the 20 documents and 30 questions of bench/retrieval_set.py; a hit is the answering document
among the first 5 sources. Semantic and hybrid use the loopback embedding server of the tests (a
hashed bag of words and word pieces) unless a real OpenAI-compatible server is named.

Speed: keyword retrieval for one organisation of 1,000 passages, timed while the database holds
only those, then again after other organisations add `--passages` more: the ratio of the two medians
(same questions, same process, repeated) says whether other tenants slow it. Run by hand; not a test.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from retrieval_set import DOCUMENTS, QUESTIONS  # noqa: E402
from openregister import create_app  # noqa: E402
from openregister.extensions import db  # noqa: E402
from openregister.models import Document, Organisation, Passage, User  # noqa: E402
from openregister.providers.embeddings import EmbeddingSettings, embedder_for  # noqa: E402
from openregister.services.documents import prepare_document, store_document  # noqa: E402
from openregister.services.retrieval import retrieve  # noqa: E402
from tests.embedding_server import EmbeddingServer  # noqa: E402

WORDS = ("invoice refund holiday parking expense laptop badge doctor printer meeting pension course fire bicycle "
         "salary desk lunch review fraud phone garage permit travel password colleague budget allowance office "
         "report manager team calendar portal approval contract supplier customer order delivery warehouse").split()


def organisation(name: str) -> Organisation:
    owner = User(username=f"owner-{name.lower()}")
    organisation = Organisation(name=name, slug=name.lower(), owner=owner)
    db.session.add_all([owner, organisation])
    db.session.flush()
    return organisation


def hit_rates(organisation_id: int, embedder) -> dict[str, float]:
    rates = {}
    for mode in ("keyword", "semantic", "hybrid"):
        hits = 0
        for question, answer in QUESTIONS:
            names = [passage.document_name for passage in retrieve(organisation_id, question, mode=mode, limit=5,
                                                                   embedder=embedder)]
            hits += answer in names
        rates[mode] = hits / len(QUESTIONS)
    return rates


def filler(organisation_id: int, count: int, rng: random.Random) -> None:
    """`count` passages of 60 words from a shared vocabulary, in one document per 1,000, written in bulk."""
    for start in range(0, count, 1000):
        document = Document(name=f"filler-{start}.txt", mime_type="text/plain", size=0, content=b"",
                            organisation_id=organisation_id, status="indexed", chunks=min(1000, count - start))
        db.session.add(document)
        db.session.flush()
        db.session.execute(insert(Passage), [
            {"document_id": document.id, "organisation_id": organisation_id, "position": position,
             "text": " ".join(rng.choices(WORDS, k=60)) + "."}
            for position in range(min(1000, count - start))
        ])
        db.session.commit()


def timed_keyword(organisation_id: int, rounds: int) -> float:
    """Median seconds of one keyword retrieval of 5 passages, over `rounds` passes through the questions."""
    timings = []
    for _ in range(rounds):
        for question, _ in QUESTIONS:
            started = time.perf_counter()
            retrieve(organisation_id, question, mode="keyword", limit=5)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="SQLAlchemy URL of an empty database (default: a temporary SQLite file)")
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--embedding-base-url")
    parser.add_argument("--embedding-model")
    parser.add_argument("--embedding-api-key")
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    app = create_app({"TESTING": True, "JWT_SECRET": "x" * 64,
                      "SQLALCHEMY_DATABASE_URI": args.database or f"sqlite:///{folder}/bench.sqlite"})
    with app.app_context(), EmbeddingServer() as loopback:
        db.drop_all()
        db.create_all()
        settings = EmbeddingSettings(provider="openai", base_url=args.embedding_base_url or loopback.url(),
                                     model=args.embedding_model or "hashed-words", api_key=args.embedding_api_key)
        embedder = embedder_for(settings)
        rng = random.Random(7)

        acme = organisation("Acme")
        for name, text in DOCUMENTS.items():
            prepared = prepare_document(data=text.encode(), filename=name, name=None, declared_type=None,
                                        embedder=embedder)
            store_document(acme.id, acme.owner, prepared)
        db.session.commit()
        rates = hit_rates(acme.id, embedder)
        print(f"Hit rate at 5 over {len(QUESTIONS)} questions, {len(DOCUMENTS)} documents "
              f"({'loopback hashed-words' if not args.embedding_base_url else settings.model} embeddings):")
        for mode, rate in rates.items():
            print(f"  {mode:8} {rate:.0%}")

        filler(acme.id, 1000 - len(DOCUMENTS), rng)
        alone = timed_keyword(acme.id, args.rounds)
        others = [organisation(f"Other{number}") for number in range(10)]
        db.session.commit()
        for index, other in enumerate(others):
            filler(other.id, args.passages // len(others), rng)
        crowded = timed_keyword(acme.id, args.rounds)
        print(f"Keyword retrieval for an organisation of 1,000 passages ({db.engine.dialect.name}):")
        print(f"  alone in the database       {alone * 1000:.2f} ms (median)")
        print(f"  beside {args.passages:,} other passages {crowded * 1000:.2f} ms (median), ratio {crowded / alone:.2f}")

        big = others[0]
        filler(big.id, args.passages - args.passages // len(others), rng)
        large = timed_keyword(big.id, args.rounds)
        print(f"  an organisation of {args.passages:,} passages itself: {large * 1000:.2f} ms (median), "
              f"ratio {large / alone:.2f}")
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
