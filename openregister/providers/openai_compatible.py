import functools
import logging

import httpx

from ..errors import ProviderError, ProviderTimeout, ProviderUnavailable
from .base import ChatMessage, Reply

log = logging.getLogger(__name__)

OLLAMA_BASE_URL = "http://localhost:11434/v1"


@functools.cache
def http_client() -> httpx.Client:
    """One HTTP client a process, shared by its threads: it reuses connections, and building a client
    (an SSL context loading the CA bundle) costs more CPU than the rest of a chat request."""
    return httpx.Client(limits=httpx.Limits(max_connections=None, max_keepalive_connections=20))


class OpenAICompatibleProvider:
    """Any server that speaks OpenAI's chat completions: OpenAI, Ollama, vLLM, llama.cpp server, LM Studio."""

    def __init__(self, *, base_url: str | None, api_key: str | None, default_model: str | None, timeout: float):
        self.base_url = base_url
        self.api_key = api_key
        self.default_model = default_model
        self.timeout = timeout

    def reply(
        self,
        system_prompt: str,
        messages: list[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        passages=(),
    ) -> Reply:
        # The passages are in the system prompt already.
        if not self.base_url:
            raise ProviderUnavailable(
                "Provider unavailable",
                "No language model server is configured: set OPENREGISTER_LLM_BASE_URL or the agent's baseUrl.",
                code="provider_unavailable",
            )
        model = model or self.default_model
        if not model:
            raise ProviderUnavailable(
                "Provider unavailable", "No model is configured: set the agent's model or OPENREGISTER_LLM_MODEL.",
                code="provider_unavailable"
            )
        body = {"model": model, "messages": [{"role": "system", "content": system_prompt}, *messages]}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return _reply_from(self._post(body, headers))

    def _post(self, body: dict, headers: dict) -> httpx.Response:
        url = self.base_url.rstrip("/") + "/chat/completions"
        try:
            return http_client().post(url, json=body, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException:
            raise ProviderTimeout(
                "Provider timeout", f"The language model server did not answer within {self.timeout:g} seconds.",
                code="provider_timeout"
            ) from None
        except (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            log.warning("Language model server %s unreachable: %r", url, error)
            raise ProviderUnavailable(
                "Provider unavailable", "The language model server cannot be reached.",
                code="provider_unavailable",
            ) from None
        except httpx.TransportError as error:
            log.warning("Language model server %s broke off its answer: %r", url, error)
            raise ProviderError(
                "Provider error", "The language model server broke off its answer.",
                code="provider_error",
            ) from None


def _reply_from(response: httpx.Response) -> Reply:
    """The reply in a chat completion; raises ProviderError for an error status or a body that is not one."""
    if not response.is_success:
        # Our status stays 502 whatever the server said; its body may help the operator, not the user.
        log.warning("Language model server answered %s: %.500s", response.status_code, response.text)
        raise ProviderError(
            "Provider error", f"The language model server answered with HTTP status {response.status_code}.",
            code="provider_error"
        )
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, LookupError, TypeError):
        content = None
    if not isinstance(content, str):
        log.warning("Language model server sent a malformed answer: %.500s", response.text)
        raise ProviderError(
            "Provider error", "The language model server sent an answer that is not a chat completion.",
            code="provider_error",
        )
    return Reply(content)
