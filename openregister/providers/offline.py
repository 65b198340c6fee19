import re

from .base import ChatMessage

# Word by word: each piece is a word with the whitespace after it, so the pieces join to the reply.
WORD = re.compile(r"\S+\s*|\s+")


class OfflinePieces(list):
    """The offline reply's pieces; there is nothing to let go of."""

    def close(self) -> None:
        pass


class OfflineProvider:
    """No network, no model: a deterministic reply that restates the question, for tests, demos and a first start."""

    def stream(self, system_prompt: str, messages: list[ChatMessage], **settings) -> OfflinePieces:
        return OfflinePieces(WORD.findall(self.reply_text(messages)))

    @staticmethod
    def reply_text(messages: list[ChatMessage]) -> str:
        questions = [message["content"] for message in messages if message["role"] == "user"]
        if not questions:
            return "This is the offline provider, which answers without a language model. Ask me something."
        return (
            f'You asked: "{questions[-1]}"\n\n'
            "This is the offline provider: it answers without a language model, so it can only restate your "
            "question. Configure OPENREGISTER_LLM_PROVIDER and OPENREGISTER_LLM_BASE_URL for real answers."
        )
