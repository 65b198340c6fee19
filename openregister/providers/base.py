"""What every provider takes and gives, and the settings the server configures for them."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict


class ChatMessage(TypedDict):
    role: str
    content: str


class Grounding(Protocol):
    """A passage of an organisation's document that the answer may draw on (services.retrieval.Retrieved)."""

    @property
    def text(self) -> str: ...

    @property
    def document_name(self) -> str: ...


@dataclass(frozen=True)
class Reply:
    content: str
    sources: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class LlmSettings:
    """The server's OPENREGISTER_LLM_* settings; the view reads them from the app config and passes them in."""

    provider: str = "offline"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None
    timeout: float = 60.0
    allowed_base_urls: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "LlmSettings":
        return cls(
            provider=config["LLM_PROVIDER"] or "offline",
            base_url=config["LLM_BASE_URL"] or None,
            api_key=config["LLM_API_KEY"] or None,
            model=config["LLM_MODEL"] or None,
            timeout=float(config["LLM_TIMEOUT"]),
            allowed_base_urls=tuple(
                url.strip().rstrip("/") for url in config["LLM_ALLOWED_BASE_URLS"].split(",") if url.strip()
            ),
        )


class Pieces(Protocol):
    """An answer as it is written: iterate once for its pieces, in order; joined, they are the answer.

    `close()` stops it and lets go of whatever it holds (a connection to the model's server). It may
    be called from another thread while the iterating one waits for a piece, which then ends soon.
    """

    def __iter__(self) -> Iterator[str]: ...

    def close(self) -> None: ...


class Provider(Protocol):
    def stream(
        self,
        system_prompt: str,
        messages: list[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        passages: Sequence[Grounding] = (),
    ) -> Pieces:
        """The assistant's answer to `messages` (chronological, the last one the user's question), in pieces.

        `passages`, best first, are already in the system prompt; a provider without a model may use them directly.

        Iterating raises ProviderError (bad answer, one that breaks off), ProviderUnavailable (not configured,
        unreachable) or ProviderTimeout (a piece that does not come in time).
        """
        ...


def joined(pieces: Pieces) -> str:
    """The whole answer: every piece, joined."""
    try:
        return "".join(pieces)
    finally:
        pieces.close()
