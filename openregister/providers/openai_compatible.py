import functools
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
from httpx_sse import EventSource

from ..errors import ProviderError, ProviderTimeout, ProviderUnavailable
from .base import ChatMessage, Grounding

log = logging.getLogger(__name__)

OLLAMA_BASE_URL = "http://localhost:11434/v1"
DONE = "[DONE]"


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

    def stream(
        self,
        system_prompt: str,
        messages: list[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        passages: Sequence[Grounding] = (),
    ) -> "CompletionStream":
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
        body: dict[str, Any] = {
            "model": model, "messages": [{"role": "system", "content": system_prompt}, *messages], "stream": True,
        }
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return CompletionStream(self.base_url.rstrip("/") + "/chat/completions", body, headers, self.timeout)


class CompletionStream:
    """A chat completion as the server streams it (`data: {...}` events, each with the next
    `choices[0].delta.content`, then `data: [DONE]`), or as one piece when it answers with a plain completion.

    `timeout` bounds the wait for each piece. `close()`, from any thread, shuts the connection, which
    ends a read that waits on it at once.
    """

    def __init__(self, url: str, body: dict[str, Any], headers: dict[str, str], timeout: float):
        self.url = url
        self.body = body
        self.headers = headers
        self.timeout = timeout
        self._lock = threading.Lock()
        self._closed = False
        self._response: httpx.Response | None = None

    def __iter__(self) -> Iterator[str]:
        return self._pieces()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            response = self._response
        if response is not None:
            network_stream = response.extensions.get("network_stream")
            sock = network_stream.get_extra_info("socket") if network_stream is not None else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed

    def _pieces(self) -> Iterator[str]:
        response = self._send()
        try:
            with self._lock:
                self._response = response
                if self._closed:
                    return
            if not response.is_success:
                response.read()
                raise _error_status(response)
            content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
            if content_type != "text/event-stream":
                response.read()
                content = _content_of(response)
                if content:
                    yield content
                return
            yield from self._deltas(response)
        except httpx.TimeoutException:
            raise self._timeout() from None
        except httpx.TransportError as error:
            if self._closed:
                return
            log.warning("Language model server %s broke off its answer: %r", self.url, error)
            raise _broke_off() from None
        finally:
            response.close()

    def _deltas(self, response: httpx.Response) -> Iterator[str]:
        last_piece = time.monotonic()
        for event in EventSource(response).iter_sse():
            if event.data == DONE:
                return
            content = _delta_of(event.data)
            if content:
                last_piece = time.monotonic()
                yield content
            elif time.monotonic() - last_piece > self.timeout:
                raise self._timeout()
        if self._closed:
            return
        log.warning("Language model server %s ended its stream without [DONE]", self.url)
        raise _broke_off()

    def _send(self) -> httpx.Response:
        client = http_client()
        try:
            request = client.build_request("POST", self.url, json=self.body, headers=self.headers, timeout=self.timeout)
            return client.send(request, stream=True)
        except httpx.TimeoutException:
            raise self._timeout() from None
        except (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            log.warning("Language model server %s unreachable: %r", self.url, error)
            raise ProviderUnavailable(
                "Provider unavailable", "The language model server cannot be reached.",
                code="provider_unavailable",
            ) from None
        except httpx.TransportError as error:
            log.warning("Language model server %s broke off its answer: %r", self.url, error)
            raise _broke_off() from None

    def _timeout(self) -> ProviderTimeout:
        return ProviderTimeout(
            "Provider timeout", f"The language model server did not answer within {self.timeout:g} seconds.",
            code="provider_timeout"
        )


def _broke_off() -> ProviderError:
    return ProviderError("Provider error", "The language model server broke off its answer.", code="provider_error")


def _malformed(text: str) -> ProviderError:
    log.warning("Language model server sent a malformed answer: %.500s", text)
    return ProviderError(
        "Provider error", "The language model server sent an answer that is not a chat completion.",
        code="provider_error",
    )


def _error_status(response: httpx.Response) -> ProviderError:
    # Our status stays 502 whatever the server said; its body may help the operator, not the user.
    log.warning("Language model server answered %s: %.500s", response.status_code, response.text)
    return ProviderError(
        "Provider error", f"The language model server answered with HTTP status {response.status_code}.",
        code="provider_error"
    )


def _content_of(response: httpx.Response) -> str:
    """The reply in a plain chat completion; raises ProviderError for a body that is not one."""
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, LookupError, TypeError):
        content = None
    if not isinstance(content, str):
        raise _malformed(response.text)
    return content


def _delta_of(data: str) -> str | None:
    """The next piece in one event of a streamed chat completion (None when it carries none, as the
    first, with the role, and the last, with finish_reason, often do); raises ProviderError for an
    event that is not a chunk of one."""
    try:
        chunk = json.loads(data)
        choices = chunk["choices"]
        if not isinstance(choices, list):
            raise TypeError
        # A chunk with no choices (usage, at the end) carries no piece.
        content = choices[0]["delta"].get("content") if choices else None
    except (ValueError, LookupError, TypeError, AttributeError):
        raise _malformed(data) from None
    if content is not None and not isinstance(content, str):
        raise _malformed(data)
    return content
