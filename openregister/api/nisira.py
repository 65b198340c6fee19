"""NISIRA Assistant's API, a second front door over the same users, conversations, messages and feedback.

Its routes start at /api/ and answer with or without the trailing slash. Its errors have NISIRA's
bodies, rendered by the handlers below: Flask asks a blueprint's handlers before the app's, so these
replace the app's for this blueprint and for nothing else. Unknown /api/ paths and wrong methods
never reach a blueprint (routing fails first), so they keep the app's body, which has "error" too.
"""

import functools
import logging

from flask import current_app, g, jsonify, request
from flask.views import MethodView
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from ..auth import REFRESH, issue_token, login, require_user, user_from_token
from ..database import transactional, unit_of_work
from ..errors import ApiError, validation_errors
from ..extensions import db
from ..models.base import utcnow
from ..schemas.auth import RefreshRequestSchema, TokenRequestSchema
from ..schemas.base import MessageResponseSchema, isoformat
from ..schemas.nisira import (
    INTERNAL_ERROR,
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
    error_body,
    http_error_body,
    validation_error_body,
)
from ..services import nisira as service
from ..services.conversations import destroy_conversation
from ..services.feedback import UNCHANGED
from . import Blueprint
from .chat import answer

log = logging.getLogger(__name__)

bp = Blueprint("nisira", __name__, description="NISIRA Assistant's API (snake_case, Spanish errors)")
# NISIRA's AllowAny views: signing in and the health check.
PUBLIC_ENDPOINTS = frozenset({"nisira.Token", "nisira.Refresh", "nisira.Login", "nisira.Health"})


@bp.before_request
def require_user_off_public_routes() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        require_user()


# How the OpenAPI document names the credentials these routes take (registered with the main API's).
AUTHENTICATED = [{"bearerAuth": []}, {"basicAuth": []}]
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


def documented(*statuses, protected=True):
    """Document the errors a view answers, in NISIRA's bodies; a protected view also takes credentials."""

    def decorator(func):
        answered = {*statuses, 401, 429} if protected else set(statuses)
        for status in sorted(answered):
            schema = NisiraAuthenticationErrorSchema if status == 401 else NisiraErrorSchema
            func = bp.alt_response(status, schema=schema, description=ERROR_DESCRIPTIONS[status])(func)
        return bp.doc(security=AUTHENTICATED)(func) if protected else func

    return decorator


def render_error(status: int, body: dict, headers=None):
    db.session.rollback()
    response = jsonify(body)
    response.status_code = status
    response.headers.extend(headers or {})
    return response


@bp.errorhandler(ApiError)
def handle_api_error(error: ApiError):
    return render_error(error.status, error_body(error, sign_in=request.endpoint == "nisira.Login"), error.headers)


@bp.errorhandler(ValidationError)
def handle_validation_error(error: ValidationError):
    return render_error(400, validation_error_body(validation_errors(error.messages)))


@bp.errorhandler(HTTPException)
def handle_http_exception(error: HTTPException):
    return render_error(error.code or 500, http_error_body(error.name))


@bp.errorhandler(Exception)
def handle_unexpected_error(error: Exception):
    log.exception("Unhandled error")
    return render_error(500, {"error": INTERNAL_ERROR})


def tokens_for(user) -> dict:
    return {"access": issue_token(user), "refresh": issue_token(user, REFRESH)}


@bp.route("/api/auth/token/", strict_slashes=False)
class Token(MethodView):
    @bp.arguments(TokenRequestSchema)
    @bp.response(200, NisiraTokenPairSchema)
    @documented(400, 401, 413, 415, 429, protected=False)
    def post(self, data):
        """Exchange a user name and password for an access and a refresh token."""
        return tokens_for(login(data["username"], data["password"]))


@bp.route("/api/auth/refresh/", strict_slashes=False)
class Refresh(MethodView):
    @bp.arguments(RefreshRequestSchema)
    @bp.response(200, NisiraTokenPairSchema)
    @documented(400, 401, 413, 415, protected=False)
    def post(self, data):
        """Exchange a refresh token for a new access and refresh token."""
        return tokens_for(user_from_token(data["refresh"], REFRESH))


@bp.route("/api/auth/login/", strict_slashes=False)
class Login(MethodView):
    @bp.arguments(NisiraSignInSchema)
    @bp.response(200, NisiraSignedInSchema)
    @bp.alt_response(401, schema=NisiraErrorSchema, description="Usuario o contraseña incorrectos")
    @documented(400, 413, 415, 429, protected=False)
    def post(self, data):
        """Sign in with a user name and password; get the tokens and your profile."""
        service.check_sign_in_fields(data.get("username"), data.get("password"))
        user = login(data["username"], data["password"])
        return {**tokens_for(user), "user": user}


@bp.route("/api/health/", strict_slashes=False)
class Health(MethodView):
    @bp.response(200, NisiraHealthSchema)
    def get(self):
        """Answer that the API is up, as NISIRA's health check does."""
        return {"status": "healthy", "timestamp": isoformat(utcnow()), "message": "API funcionando correctamente"}


@bp.route("/api/conversations/create/", strict_slashes=False)
class ConversationCreate(MethodView):
    @bp.arguments(NisiraConversationCreateSchema)
    @bp.response(201, NisiraCreatedConversationSchema)
    @documented(400, 413, 415)
    @transactional
    def post(self, data):
        """Create a conversation; without a title it is named for the date and time."""
        conversation = service.create_nisira_conversation(
            g.current_user, title=data.get("title"), timezone=current_app.config["TIMEZONE"]
        )
        return conversation


# NISIRA's urls.py creates at .../create/, its front end posts to /api/conversations/: both are served.
@bp.route("/api/conversations/", strict_slashes=False)
class Conversations(ConversationCreate):
    @bp.arguments(NisiraPageArgsSchema, location="query")
    @bp.response(200, NisiraConversationPageSchema)
    @documented(400)
    def get(self, args):
        """List your conversations in the active organisation, most recently updated first."""
        return service.list_nisira_conversations(g.current_user, page=args["page"], size=args["size"])


@bp.route("/api/conversations/<conversation_id>/messages/", strict_slashes=False)
class ConversationMessages(MethodView):
    @bp.arguments(NisiraPageArgsSchema, location="query")
    @bp.response(200, NisiraMessagePageSchema)
    @documented(400, 404)
    def get(self, args, conversation_id):
        """Page through a conversation's messages, newest page first, each page oldest first."""
        conversation = service.get_nisira_conversation(g.current_user, conversation_id)
        return service.page_nisira_messages(g.current_user, conversation, page=args["page"], size=args["size"])


@bp.route("/api/conversations/<conversation_id>/delete/", strict_slashes=False)
class ConversationDelete(MethodView):
    @bp.response(200, MessageResponseSchema)
    @documented(404)
    @transactional
    def delete(self, conversation_id):
        """Delete a conversation for good, with its messages and their ratings."""
        destroy_conversation(service.get_nisira_conversation(g.current_user, conversation_id))
        return {"message": "Conversación eliminada exitosamente"}


# NISIRA's urls.py deletes at .../delete/, its front end sends DELETE to the conversation itself.
@bp.route("/api/conversations/<conversation_id>/", strict_slashes=False)
class ConversationByRef(ConversationDelete):
    pass


def send_with(store_question, data) -> dict:
    """The chat routes' one body: `store_question` (a NISIRA service function) stores the question, then it is answered."""
    with unit_of_work():
        question = store_question(g.current_user, conversation_ref=data.get("conversation_id"), content=data.get("content"))
    return service.exchange_of(answer(question))


@bp.route("/api/chat/", strict_slashes=False)
class Chat(MethodView):
    @bp.arguments(NisiraChatRequestSchema)
    @bp.response(200, NisiraExchangeSchema)
    @documented(400, 404, 413, 415, 502, 503, 504)
    def post(self, data):
        """Send a message to a conversation and get the assistant's answer."""
        return send_with(service.send_nisira_message, data)


@bp.route("/api/rag/chat/", strict_slashes=False)
class RagChat(MethodView):
    @bp.arguments(NisiraRagChatRequestSchema)
    @bp.response(201, NisiraRagExchangeSchema)
    @documented(400, 404, 413, 415, 502, 503, 504)
    def post(self, data):
        """Send a message, starting a conversation when none is named, answered from the organisation's documents."""
        return send_with(functools.partial(service.send_rag_message, use_rag=data["use_rag"]), data)


@bp.route("/api/ratings/", strict_slashes=False)
class Ratings(MethodView):
    @bp.arguments(NisiraRatingRequestSchema)
    @bp.response(200, NisiraRatingSchema)
    @documented(400, 404, 413, 415)
    @transactional
    def post(self, data):
        """Like or dislike an answer, or clear your rating; the same feedback the main API shows."""
        rating = service.rate_message(
            g.current_user,
            message_id=data["message_id"],
            value=data["value"],
            comment=data.get("comment", UNCHANGED),
            issue_tag=data["issue_tag"],
        )
        return rating
