"""Share links: the owner makes, shows and revokes them; anyone with the link reads the conversation."""

from typing import Any

from flask import url_for
from flask.views import MethodView

from ..auth import current_user
from ..config import API_PREFIX
from ..database import transactional
from ..http import no_store
from ..schemas.base import MessageResponseSchema
from ..schemas.shares import ShareCreateSchema, ShareSchema, SharedConversationSchema
from ..services import shares as service
from ..services.conversations import get_conversation_for
from . import Blueprint, protected

bp = protected("shares", __name__)
# The public view: no login, documented without security.
public_bp = Blueprint("shared", __name__)


@bp.route("/conversations/<ref>/share")
@no_store
class Share(MethodView):
    @bp.arguments(ShareCreateSchema)
    @bp.response(201, ShareSchema)
    @bp.errors(403, 404, 409)
    @transactional
    def post(self, data: dict[str, Any], ref: str) -> dict[str, Any]:
        """Make a public read-only link to your conversation, replacing any earlier one."""
        conversation = get_conversation_for(current_user(), ref, write=True)
        link, token = service.create_share(conversation, expires_in=data.get("expires_in"))
        url = url_for("shared.SharedConversation", token=token, _external=True)
        return {"token": token, "url": url, "created": link.created, "expires_at": link.expires_at}

    @bp.response(200, ShareSchema)
    @bp.errors(403, 404)
    def get(self, ref: str) -> dict[str, Any]:
        """Show your conversation's current link (its token is no longer known)."""
        link = service.get_share(get_conversation_for(current_user(), ref, write=True))
        return {"token": None, "url": None, "created": link.created, "expires_at": link.expires_at}

    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404)
    @transactional
    def delete(self, ref: str) -> dict[str, str]:
        """Revoke your conversation's link."""
        service.revoke_share(get_conversation_for(current_user(), ref, write=True))
        return {"message": "Share revoked"}


@public_bp.route(API_PREFIX + "/shared/<token>")
# A shared conversation is for whoever holds the link, not for caches on the way.
@no_store
class SharedConversation(MethodView):
    @public_bp.response(200, SharedConversationSchema)
    @public_bp.errors(404)
    def get(self, token: str) -> dict[str, Any]:
        """Read a shared conversation: its title and the messages it had when the link was made."""
        link, messages = service.get_shared_conversation(token)
        return {"title": link.conversation.title, "shared_at": link.created, "messages": messages}
