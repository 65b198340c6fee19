from flask import current_app, g
from flask.views import MethodView

from ..database import transactional, unit_of_work
from ..pagination import window
from ..providers import LlmSettings
from ..providers.embeddings import EmbeddingSettings, embedder_for
from ..schemas.chat import (
    ChatClearedSchema,
    ChatHistoryArgsSchema,
    ChatHistorySchema,
    ChatRequestSchema,
    ChatResponseSchema,
    ChatStatsSchema,
)
from ..services import chat as service
from . import protected

bp = protected("chat", __name__)

HISTORY_LIMIT = 100


@bp.route("/chat/message", endpoint="ChatMessage")
@bp.route("/chat/send")
class ChatSend(MethodView):
    @bp.arguments(ChatRequestSchema)
    @bp.response(200, ChatResponseSchema)
    @bp.errors(403, 404, 409, 502, 503, 504)
    def post(self, data):
        """Send a message to the conversation's agent and get its answer."""
        with unit_of_work():
            question = service.store_question(
                g.current_user,
                message=data.get("message"),
                conversation_ref=data.get("conversation"),
                agent_ref=data.get("agent_uuid"),
                include_files=data.get("include_files"),
                num_sources=data.get("num_sources_files"),
            )
        return answer(question)


def answer(question: service.Question) -> service.Exchange:
    """Ask the provider with no transaction open and no connection held, then store its answer in a short one.

    The question is committed before (by the caller): it stays when the provider fails. Its passages
    are retrieved first, in a short read of their own, so both dialects (and a stream) cite the same.
    """
    with unit_of_work():
        question = service.retrieve_passages(question, embedder_for(EmbeddingSettings.from_config(current_app.config)))
    provider_answer = service.ask(question, LlmSettings.from_config(current_app.config))
    with unit_of_work():
        return service.store_answer(g.current_user, question, provider_answer)


@bp.route("/chat/history")
class ChatHistory(MethodView):
    @bp.arguments(ChatHistoryArgsSchema, location="query")
    @bp.response(200, ChatHistorySchema)
    @bp.errors(403, 404)
    def get(self, args):
        """List a conversation's messages, oldest first."""
        max_limit = min(HISTORY_LIMIT, current_app.config["MAX_PAGE_SIZE"])
        page = window(args, default_limit=HISTORY_LIMIT, max_limit=max_limit)
        return service.conversation_history(g.current_user, args.get("conversation_id"), page)

    @bp.arguments(ChatHistoryArgsSchema, location="query")
    @bp.response(200, ChatClearedSchema)
    @bp.errors(403, 404)
    @transactional
    def delete(self, args):
        """Clear a conversation: archive it."""
        conversation = service.clear_history(g.current_user, args.get("conversation_id"))
        return {"message": "Conversation cleared successfully", "conversation_id": conversation.id}


@bp.route("/chat/stats")
class ChatStats(MethodView):
    @bp.response(200, ChatStatsSchema)
    def get(self):
        """Count agents, conversations and messages in your active organisation."""
        return service.chat_stats(g.current_user)
