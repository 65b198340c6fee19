import logging
from collections.abc import Generator, Iterator
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView

from ..auth import current_user
from ..database import transactional, unit_of_work
from ..errors import ApiError
from ..pagination import window
from ..providers import LlmSettings
from ..providers.embeddings import EmbeddingSettings, embedder_for
from ..schemas.chat import (
    ChatClearedSchema,
    ChatHistoryArgsSchema,
    ChatHistorySchema,
    ChatRequestSchema,
    ChatResponseSchema,
    ChatStartEventSchema,
    ChatStatsSchema,
)
from ..services import chat as service
from . import protected
from .streaming import (
    EVENT_STREAM,
    EVENT_STREAM_CONTENT,
    STREAM_DESCRIPTION,
    error_event,
    event,
    event_stream,
    idle_every,
    kept_alive,
    wants_stream,
)

log = logging.getLogger(__name__)

bp = protected("chat", __name__)

HISTORY_LIMIT = 100


@bp.route("/chat/message", endpoint="ChatMessage")
@bp.route("/chat/send")
class ChatSend(MethodView):
    @bp.arguments(ChatRequestSchema)
    @bp.response(200, ChatResponseSchema, description=STREAM_DESCRIPTION)
    @bp.doc(responses={200: {"content": {EVENT_STREAM: EVENT_STREAM_CONTENT}}})
    @bp.errors(403, 404, 409, 502, 503, 504)
    def post(self, data: dict[str, Any]) -> service.Exchange | Response:
        """Send a message to the conversation's agent and get its answer (streamed, when asked)."""
        with unit_of_work():
            question = service.store_question(
                current_user(),
                message=data.get("message"),
                conversation_ref=data.get("conversation"),
                agent_ref=data.get("agent_uuid"),
                include_files=data.get("include_files"),
                num_sources=data.get("num_sources_files"),
            )
            start = ChatStartEventSchema().dump(service.stored_question(question)) if wants_stream(data) else None
        return answer(question) if start is None else event_stream(streamed_answer(question, start))


def answer(question: service.Question) -> service.Exchange:
    """Ask the provider with no transaction open and no connection held, then store its answer in a short one.

    The question is committed before (by the caller): it stays when the provider fails.
    """
    question = grounded(question)
    provider_answer = service.ask(question, LlmSettings.from_config(current_app.config))
    with unit_of_work():
        return service.store_answer(current_user(), question, provider_answer)


def grounded(question: service.Question) -> service.Question:
    """The question with its passages, retrieved in a short read of their own, so that both dialects and a
    stream cite the same."""
    with unit_of_work():
        return service.retrieve_passages(question, embedder_for(EmbeddingSettings.from_config(current_app.config)))


def streamed_answer(question: service.Question, start: dict[str, Any]) -> Iterator[str]:
    """The events of a streamed answer: `start` (the question is stored), a `delta` a piece, then `done` (the
    answer is stored) or `error`. As `answer`, with no transaction open while the provider writes."""
    actor, environ = current_user(), request.environ
    keep_alive = current_app.config["STREAM_KEEPALIVE"]
    yield event("start", start)
    pieces: Iterator[str | None] | None = None
    try:
        stream = service.AnswerStream(grounded(question), LlmSettings.from_config(current_app.config),
                                      idle_every=idle_every(keep_alive))
        pieces = iter(stream)
        deltas = (None if piece is None else event("delta", {"content": piece}) for piece in pieces)
        if not (yield from kept_alive(deltas, keep_alive, environ)):
            return  # the client went away: no answer to store
        with unit_of_work():
            exchange = service.store_answer(actor, question, stream.answer())
        yield event("done", ChatResponseSchema().dump(exchange))
    except ApiError as error:
        yield error_event(error)
    except Exception:
        log.exception("Unhandled error while streaming an answer")
        yield error_event(ApiError("Internal Server Error", "The server failed to complete the request.",
                                   code="internal_server_error"))
    finally:
        if isinstance(pieces, Generator):  # closing it ends the provider's answer (and its connection)
            pieces.close()


@bp.route("/chat/history")
class ChatHistory(MethodView):
    @bp.arguments(ChatHistoryArgsSchema, location="query")
    @bp.response(200, ChatHistorySchema)
    @bp.errors(403, 404)
    def get(self, args: dict[str, Any]) -> service.ChatHistory:
        """List a conversation's messages, oldest first."""
        max_limit = min(HISTORY_LIMIT, current_app.config["MAX_PAGE_SIZE"])
        page = window(args, default_limit=HISTORY_LIMIT, max_limit=max_limit)
        return service.conversation_history(current_user(), args.get("conversation_id"), page)

    @bp.arguments(ChatHistoryArgsSchema, location="query")
    @bp.response(200, ChatClearedSchema)
    @bp.errors(403, 404)
    @transactional
    def delete(self, args: dict[str, Any]) -> dict[str, Any]:
        """Clear a conversation: archive it."""
        conversation = service.clear_history(current_user(), args.get("conversation_id"))
        return {"message": "Conversation cleared successfully", "conversation_id": conversation.id}


@bp.route("/chat/stats")
class ChatStats(MethodView):
    @bp.response(200, ChatStatsSchema)
    def get(self) -> service.ChatStats:
        """Count agents, conversations and messages in your active organisation."""
        return service.chat_stats(current_user())
