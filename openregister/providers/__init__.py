"""LLM providers: each turns (system prompt, messages, settings) into a reply, in pieces as it is written."""

from ..errors import ProviderUnavailable
from .base import ChatMessage, LlmSettings, Pieces, Provider, Reply, joined
from .offline import OfflineProvider
from .openai_compatible import OLLAMA_BASE_URL, OpenAICompatibleProvider

PROVIDER_NAMES = ("offline", "openai", "ollama")

__all__ = ["PROVIDER_NAMES", "ChatMessage", "LlmSettings", "Pieces", "Provider", "Reply", "joined", "provider_for"]


def provider_for(name: str | None, settings: LlmSettings, *, base_url: str | None = None) -> Provider:
    """The provider an agent names (None or "" means the configured default).

    `base_url` is the agent's own server (its configuration.baseUrl), which wins over the configured one
    when the server's configuration allows it.
    Raises ProviderUnavailable for a name this server does not know or a base URL it does not allow.
    """
    name = ((name or "").strip() or (settings.provider or "").strip() or "offline").lower()
    if name == "offline":
        return OfflineProvider()
    if name not in PROVIDER_NAMES:
        raise ProviderUnavailable(
            "Provider unavailable", f"Unknown provider {name!r}; this server offers {', '.join(PROVIDER_NAMES)}.",
            code="provider_unavailable"
        )
    # Agent owners choose their baseUrl; unless the operator allowed it, this server would post to any
    # address an owner names, internal ones included.
    if base_url and base_url.rstrip("/") not in (*settings.allowed_base_urls, (settings.base_url or "").rstrip("/")):
        raise ProviderUnavailable(
            "Provider unavailable",
            "The agent's baseUrl is not allowed here: the operator can list it in OPENREGISTER_LLM_ALLOWED_BASE_URLS.",
            code="provider_unavailable",
        )
    url = base_url or settings.base_url or (OLLAMA_BASE_URL if name == "ollama" else None)
    # The API key goes only to the server it was configured for: agents are editable by their owners,
    # and one pointing at a server of its own choosing must not collect the key.
    api_key = settings.api_key if url == settings.base_url else None
    return OpenAICompatibleProvider(
        base_url=url, api_key=api_key, default_model=settings.model, timeout=settings.timeout
    )
