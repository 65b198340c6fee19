"""LLM providers: each turns (system prompt, messages, settings) into a reply."""

PROVIDER_NAMES = ("offline", "openai", "ollama")
