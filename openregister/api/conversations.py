from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from ..auth import current_user
from ..database import transactional
from ..models import Conversation
from ..pagination import window
from ..schemas.conversations import (
    ArchiveListArgsSchema,
    ConversationCreateSchema,
    ConversationDetailSchema,
    ConversationListArgsSchema,
    ConversationPageSchema,
    ConversationSchema,
    ConversationUpdateSchema,
    DeletionSchema,
    MessageListArgsSchema,
    MessagePageSchema,
)
from ..schemas.dumping import WithValues
from ..services import conversations as service
from . import protected

bp = protected("conversations", __name__)


def deletion(uuid: str, *, archived: bool) -> dict[str, Any]:
    if archived:
        return {"message": "Conversation deleted successfully", "uuid": uuid, "archived": True}
    return {"message": "Conversation permanently deleted", "uuid": uuid}


@bp.route("/conversations")
class Conversations(MethodView):
    @bp.arguments(ConversationListArgsSchema, location="query")
    @bp.response(200, ConversationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List your conversations in the active organisation."""
        archived = None if args["include_deleted"] else args["only_deleted"]
        return service.list_conversations(current_user(), window(args), archived=archived, search=args.get("search"))

    @bp.arguments(ConversationCreateSchema)
    @bp.response(201, ConversationSchema)
    @transactional
    def post(self, data: dict[str, Any]) -> tuple[service.InsertedConversation, dict[str, str]]:
        """Create a conversation, optionally with an agent."""
        agent = service.resolve_agent(current_user(), agent_uuid=data.get("agent_uuid"), agent_id=data.get("agent_id"))
        conversation = service.insert_conversation(
            current_user(), title=data.get("title"), metadata=data.get("metadata_"), agent=agent
        )
        return conversation, {"Location": url_for(".ConversationByRef", ref=conversation.uuid)}


@bp.route("/conversations/archive")
class Archive(MethodView):
    @bp.arguments(ArchiveListArgsSchema, location="query")
    @bp.response(200, ConversationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List your archived (soft-deleted) conversations."""
        return service.list_conversations(current_user(), window(args), archived=True, search=args.get("search"))


@bp.route("/conversations/<ref>")
class ConversationByRef(MethodView):
    @bp.response(200, ConversationDetailSchema)
    @bp.errors(403, 404)
    def get(self, ref: str) -> WithValues:
        """Show a conversation with its latest messages."""
        conversation = service.get_conversation_row_for(current_user(), ref)
        messages = service.latest_messages(conversation.id, current_app.config["CONVERSATION_MESSAGES_LIMIT"])
        return WithValues(conversation, recent_messages=messages)

    @bp.arguments(ConversationUpdateSchema)
    @bp.response(200, ConversationSchema)
    @bp.errors(403, 404)
    @transactional
    def patch(self, data: dict[str, Any], ref: str) -> Conversation:
        """Rename a conversation or replace its metadata."""
        conversation = service.get_conversation_for(current_user(), ref, write=True)
        service.update_conversation(conversation, title=data.get("title"), metadata=data.get("metadata_"))
        return conversation

    put = patch

    @bp.response(200, DeletionSchema)
    @bp.errors(403, 404)
    @transactional
    def delete(self, ref: str) -> dict[str, Any]:
        """Archive a conversation; an archived one is deleted for good."""
        conversation = service.get_conversation_for(current_user(), ref, write=True)
        uuid = conversation.uuid
        archived = service.delete_conversation(conversation)
        return deletion(uuid, archived=archived)


@bp.route("/conversations/<ref>/restore")
class Restore(MethodView):
    @bp.response(200, ConversationSchema)
    @bp.errors(403, 404)
    @transactional
    def post(self, ref: str) -> Conversation:
        """Restore an archived conversation."""
        conversation = service.restore_conversation(service.get_conversation_for(current_user(), ref, write=True))
        return conversation


@bp.route("/conversations/<ref>/permanent")
class Permanent(MethodView):
    @bp.response(200, DeletionSchema)
    @bp.errors(403, 404)
    @transactional
    def delete(self, ref: str) -> dict[str, Any]:
        """Delete a conversation for good, with its messages and feedback."""
        conversation = service.get_conversation_for(current_user(), ref, write=True)
        uuid = conversation.uuid
        service.destroy_conversation(conversation)
        return deletion(uuid, archived=False)


@bp.route("/conversations/<ref>/messages")
class Messages(MethodView):
    @bp.arguments(MessageListArgsSchema, location="query")
    @bp.response(200, MessagePageSchema)
    @bp.errors(403, 404)
    def get(self, args: dict[str, Any], ref: str) -> dict[str, Any]:
        """Page through a conversation's messages, newest page first by default."""
        return service.page_messages_for(current_user(), ref, window(args), order=args["order"], search=args.get("search"))
