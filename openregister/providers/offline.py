from .base import ChatMessage, Reply


class OfflineProvider:
    """No network, no model: a deterministic reply that restates the question, for tests, demos and a first start."""

    def reply(self, system_prompt: str, messages: list[ChatMessage], **settings) -> Reply:
        questions = [message["content"] for message in messages if message["role"] == "user"]
        if not questions:
            return Reply("This is the offline provider, which answers without a language model. Ask me something.")
        return Reply(
            f'You asked: "{questions[-1]}"\n\n'
            "This is the offline provider: it answers without a language model, so it can only restate your "
            "question. Configure OPENREGISTER_LLM_PROVIDER and OPENREGISTER_LLM_BASE_URL for real answers."
        )
