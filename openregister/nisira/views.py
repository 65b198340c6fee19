"""NISIRA Assistant's API, a second front door over the same users, conversations, messages and feedback.

Its routes start at /api/ and answer with or without the trailing slash. NISIRA's AllowAny views
(signing in, the health check) are in `public`; every other route is in `protected`, which asks for
credentials. Both are nested in the package's blueprint, which renders their errors (errors.py).
"""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import current_app
from flask.views import MethodView

from ..api import Blueprint
from ..api.chat import answer
from ..api.docs import AUTHENTICATED
from ..auth import REFRESH, current_user, login, require_user, user_from_token
from ..database import transactional, unit_of_work
from ..http import no_store
from ..models import Conversation
from ..models.base import utcnow
from ..pagination import Window, window
from ..schemas.auth import RefreshRequestSchema, TokenRequestSchema
from ..schemas.base import MessageResponseSchema, isoformat
from ..services.conversations import destroy_conversation
from ..services.feedback import UNCHANGED
from . import service
from .service import ConversationPage, MessagePage, NisiraExchange, Rating, SignedIn, TokenPair
from .schemas import (
    MAX_PAGE_SIZE,
    NisiraAuthenticationErrorSchema,
    NisiraChatRequestSchema,
    NisiraConversationCreateSchema,
    NisiraConversationPageSchema,
    NisiraCreatedConversationSchema,
    NisiraErrorSchema,
    NisiraExchangeSchema,
    NisiraHealthSchema,
    NisiraMessagePageSchema,
    NisiraPageArgsSchema,
    NisiraRagChatRequestSchema,
    NisiraRagExchangeSchema,
    NisiraRatingRequestSchema,
    NisiraRatingSchema,
    NisiraSignedInSchema,
    NisiraSignInSchema,
    NisiraTokenPairSchema,
)

public = Blueprint("public", __name__)
protected = Blueprint("protected", __name__)
protected.before_request(require_user)

F = TypeVar("F", bound=Callable[..., Any])

ERROR_DESCRIPTIONS = {
    400: "Bad input: malformed JSON, a wrong type or value, or a missing field",
    401: "No valid credentials",
    404: "No such conversation or message, or none that you may see",
    413: "The body is larger than the server accepts",
    415: "A body was sent that is not JSON",
    429: "Too many failed sign-ins for this user name or client address",
    502: "The LLM provider answered with an error; your message is stored",
    503: "No LLM provider is configured or reachable; your message is stored",
    504: "The LLM provider did not answer in time; your message is stored",
}


def documented(*statuses: int, protected: bool = True) -> Callable[[F], F]:
    """Document the errors a view answers, in NISIRA's bodies; a protected view also takes credentials
    (the security schemes of the main API's document, api/docs.py)."""

    def decorator(func: F) -> F:
        answered = {*statuses, 401, 429} if protected else set(statuses)
        for status in sorted(answered):
            schema = NisiraAuthenticationErrorSchema if status == 401 else NisiraErrorSchema
            func = public.alt_response(status, schema=schema, description=ERROR_DESCRIPTIONS[status])(func)
        return public.doc(security=AUTHENTICATED)(func) if protected else func

    return decorator


def page_of(args: Mapping[str, Any]) -> Window:
    """The window of NISIRA's page and size (already clamped by NisiraPageArgsSchema)."""
    return window({"page": args["page"], "limit": args["size"]}, max_limit=MAX_PAGE_SIZE)


@public.route("/auth/token/", strict_slashes=False)
@no_store
class Token(MethodView):
    @public.arguments(TokenRequestSchema)
    @public.response(200, NisiraTokenPairSchema)
    @documented(400, 401, 413, 415, 429, protected=False)
    def post(self, data: dict[str, Any]) -> TokenPair:
        """Exchange a user name and password for an access and a refresh token."""
        return service.tokens_for(login(data["username"], data["password"]))


@public.route("/auth/refresh/", strict_slashes=False)
@no_store
class Refresh(MethodView):
    @public.arguments(RefreshRequestSchema)
    @public.response(200, NisiraTokenPairSchema)
    @documented(400, 401, 413, 415, protected=False)
    def post(self, data: dict[str, Any]) -> TokenPair:
        """Exchange a refresh token for a new access and refresh token."""
        return service.tokens_for(user_from_token(data["refresh"], REFRESH))


@public.route("/auth/login/", strict_slashes=False)
@no_store
class Login(MethodView):
    @public.arguments(NisiraSignInSchema)
    @public.response(200, NisiraSignedInSchema)
    @public.alt_response(401, schema=NisiraErrorSchema, description="Usuario o contraseña incorrectos")
    @documented(400, 413, 415, 429, protected=False)
    def post(self, data: dict[str, Any]) -> SignedIn:
        """Sign in with a user name and password; get the tokens and your profile."""
        return service.sign_in(data.get("username"), data.get("password"))


@public.route("/health/", strict_slashes=False)
class Health(MethodView):
    @public.response(200, NisiraHealthSchema)
    def get(self) -> dict[str, str]:
        """Answer that the API is up, as NISIRA's health check does."""
        return {"status": "healthy", "timestamp": isoformat(utcnow()), "message": "API funcionando correctamente"}


@protected.route("/conversations/create/", strict_slashes=False)
class ConversationCreate(MethodView):
    @protected.arguments(NisiraConversationCreateSchema)
    @protected.response(201, NisiraCreatedConversationSchema)
    @documented(400, 413, 415)
    @transactional
    def post(self, data: dict[str, Any]) -> Conversation:
        """Create a conversation; without a title it is named for the date and time."""
        conversation = service.create_nisira_conversation(
            current_user(), title=data.get("title"), timezone=current_app.config["TIMEZONE"]
        )
        return conversation


# NISIRA's urls.py creates at .../create/, its front end posts to /api/conversations/: both are served.
@protected.route("/conversations/", strict_slashes=False)
class Conversations(ConversationCreate):
    @protected.arguments(NisiraPageArgsSchema, location="query")
    @protected.response(200, NisiraConversationPageSchema)
    @documented(400)
    def get(self, args: dict[str, Any]) -> ConversationPage:
        """List your conversations in the active organisation, most recently updated first."""
        return service.list_nisira_conversations(current_user(), page_of(args), page=args["page"])


@protected.route("/conversations/<conversation_id>/messages/", strict_slashes=False)
class ConversationMessages(MethodView):
    @protected.arguments(NisiraPageArgsSchema, location="query")
    @protected.response(200, NisiraMessagePageSchema)
    @documented(400, 404)
    def get(self, args: dict[str, Any], conversation_id: str) -> MessagePage:
        """Page through a conversation's messages, newest page first, each page oldest first."""
        conversation = service.get_nisira_conversation(current_user(), conversation_id)
        return service.page_nisira_messages(current_user(), conversation, page_of(args), page=args["page"])


@protected.route("/conversations/<conversation_id>/delete/", strict_slashes=False)
class ConversationDelete(MethodView):
    @protected.response(200, MessageResponseSchema)
    @documented(404)
    @transactional
    def delete(self, conversation_id: str) -> dict[str, str]:
        """Delete a conversation for good, with its messages and their ratings."""
        destroy_conversation(service.get_nisira_conversation(current_user(), conversation_id))
        return {"message": "Conversación eliminada exitosamente"}


# NISIRA's urls.py deletes at .../delete/, its front end sends DELETE to the conversation itself.
@protected.route("/conversations/<conversation_id>/", strict_slashes=False)
class ConversationByRef(ConversationDelete):
    pass


def send_with(data: Mapping[str, Any], *, start: bool, use_rag: bool = True) -> NisiraExchange:
    """The chat routes' one body: store the question, then answer it (see service.store_nisira_question)."""
    with unit_of_work():
        question = service.store_nisira_question(
            current_user(), conversation_ref=data.get("conversation_id"), content=data.get("content"), start=start,
            use_rag=use_rag,
        )
    return service.exchange_of(answer(question))


@protected.route("/chat/", strict_slashes=False)
class Chat(MethodView):
    @protected.arguments(NisiraChatRequestSchema)
    @protected.response(200, NisiraExchangeSchema)
    @documented(400, 404, 413, 415, 502, 503, 504)
    def post(self, data: dict[str, Any]) -> NisiraExchange:
        """Send a message to a conversation and get the assistant's answer."""
        return send_with(data, start=False)


@protected.route("/rag/chat/", strict_slashes=False)
class RagChat(MethodView):
    @protected.arguments(NisiraRagChatRequestSchema)
    @protected.response(201, NisiraRagExchangeSchema)
    @documented(400, 404, 413, 415, 502, 503, 504)
    def post(self, data: dict[str, Any]) -> NisiraExchange:
        """Send a message, starting a conversation when none is named, answered from the organisation's documents."""
        return send_with(data, start=True, use_rag=data["use_rag"])


@protected.route("/ratings/", strict_slashes=False)
class Ratings(MethodView):
    @protected.arguments(NisiraRatingRequestSchema)
    @protected.response(200, NisiraRatingSchema)
    @documented(400, 404, 413, 415)
    @transactional
    def post(self, data: dict[str, Any]) -> Rating:
        """Like or dislike an answer, or clear your rating; the same feedback the main API shows."""
        rating = service.rate_message(
            current_user(),
            message_id=data["message_id"],
            value=data["value"],
            comment=data.get("comment", UNCHANGED),
            issue_tag=data["issue_tag"],
        )
        return rating
