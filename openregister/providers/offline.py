import re
from collections.abc import Sequence
from typing import Any

from .base import ChatMessage, Grounding

# Word by word: each piece is a word with the whitespace after it, so the pieces join to the reply.
WORD = re.compile(r"\S+\s*|\s+")


class OfflinePieces(list[str]):
    """The offline reply's pieces; there is nothing to let go of."""

    def close(self) -> None:
        pass


class OfflineProvider:
    """No network, no model: a deterministic reply that restates the question, or quotes the best passage
    of the organisation's documents, for tests, demos and a first start."""

    def stream(self, system_prompt: str, messages: list[ChatMessage], *, passages: Sequence[Grounding] = (),
               **settings: Any) -> OfflinePieces:
        return OfflinePieces(WORD.findall(self.reply_text(messages, passages)))

    @staticmethod
    def reply_text(messages: list[ChatMessage], passages: Sequence[Grounding] = ()) -> str:
        questions = [message["content"] for message in messages if message["role"] == "user"]
        if not questions:
            return "This is the offline provider, which answers without a language model. Ask me something."
        if passages:
            best = passages[0]
            quoted = "\n".join(f"> {line}" if line else ">" for line in best.text.splitlines())
            return (
                f'From "{best.document_name}":\n\n{quoted}\n\n'
                "This is the offline provider: it answers without a language model, so it quotes the passage of "
                "your organisation's documents that best matches your question."
            )
        return (
            f'You asked: "{questions[-1]}"\n\n'
            "This is the offline provider: it answers without a language model, so it can only restate your "
            "question. Configure OPENREGISTER_LLM_PROVIDER and OPENREGISTER_LLM_BASE_URL for real answers."
        )
