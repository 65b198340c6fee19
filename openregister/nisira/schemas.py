"""NISIRA Assistant's wire format: snake_case keys, its envelopes, and its error bodies."""

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from ..schemas.base import Timestamp, Title
from ..schemas.chat import MAX_MESSAGE_LENGTH
from .ratings import AUTO_ISSUE, ISSUE_TAGS, NO_ISSUE, RATING_VALUES

DEFAULT_PAGE_SIZE = 15
MAX_PAGE_SIZE = 100
# Far past any real page, and low enough that page * size stays a valid SQL offset.
LAST_PAGE = 1_000_000
MAX_COMMENT_LENGTH = 500


class NisiraInputSchema(Schema):
    # NISIRA's clients send keys this server does not use; they are ignored, not errors.
    class Meta:
        unknown = EXCLUDE


class NisiraPageArgsSchema(NisiraInputSchema):
    """page and size as NISIRA takes them: clamped to what it can serve, never refused."""

    page = fields.Integer(load_default=1)
    size = fields.Integer(load_default=DEFAULT_PAGE_SIZE)

    @post_load
    def clamp(self, data: dict[str, Any], **kwargs: Any) -> dict[str, int]:
        return {"page": min(max(data["page"], 1), LAST_PAGE), "size": min(max(data["size"], 1), MAX_PAGE_SIZE)}


class NisiraSignInSchema(NisiraInputSchema):
    # Missing fields are the service's to refuse, with NISIRA's messages.
    username = fields.String(allow_none=True, validate=validate.Length(max=64))
    password = fields.String(allow_none=True, validate=validate.Length(max=4096))


class ConversationRef(fields.Raw):
    """A conversation's slug, or its numeric id as a string or a JSON number."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError("Must be a conversation slug or id.")
        return str(value)


class NisiraConversationCreateSchema(NisiraInputSchema):
    title = fields.String(allow_none=True, validate=Title)


class NisiraChatRequestSchema(NisiraInputSchema):
    # Blank or absent fields are the service's to refuse, with NISIRA's messages.
    conversation_id = ConversationRef(allow_none=True, metadata={"type": "string"})
    content = fields.String(allow_none=True, validate=validate.Length(max=MAX_MESSAGE_LENGTH))


class NisiraRagChatRequestSchema(NisiraChatRequestSchema):
    use_rag = fields.Boolean(load_default=True, metadata={"description": "false: answer without the organisation's documents"})


class NisiraRatingRequestSchema(NisiraInputSchema):
    message_id = fields.Integer(required=True, validate=validate.Range(min=1))
    value = fields.String(required=True, validate=validate.OneOf(RATING_VALUES))
    comment = fields.String(allow_none=True, validate=validate.Length(max=MAX_COMMENT_LENGTH))
    issue_tag = fields.String(load_default=NO_ISSUE, validate=validate.OneOf((*ISSUE_TAGS, AUTO_ISSUE)))


class NisiraTokenPairSchema(Schema):
    access = fields.String(required=True)
    refresh = fields.String(required=True)


class NisiraUserSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    # Django's empty strings where a user has no e-mail address or name.
    email = fields.Function(lambda user: user.email or "", required=True, metadata={"type": "string"})
    first_name = fields.Function(
        lambda user: (user.display_name or "").partition(" ")[0], required=True, metadata={"type": "string"}
    )
    last_name = fields.Function(
        lambda user: (user.display_name or "").partition(" ")[2], required=True, metadata={"type": "string"}
    )


class NisiraSignedInSchema(NisiraTokenPairSchema):
    user = fields.Nested(NisiraUserSchema, required=True)


class NisiraHealthSchema(Schema):
    status = fields.String(required=True)
    timestamp = fields.String(required=True)
    message = fields.String(required=True)


class NisiraConversationFields(Schema):
    # dump_only: marshmallow refuses two loadable fields on one attribute.
    id = fields.String(attribute="slug", dump_only=True, required=True, metadata={"description": "The slug"})
    numeric_id = fields.Integer(attribute="id", required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)
    created_at = Timestamp(attribute="created", required=True)


class NisiraConversationSchema(NisiraConversationFields):
    updated_at = Timestamp(attribute="updated", required=True)


class NisiraCreatedConversationSchema(NisiraConversationFields):
    message = fields.Constant("Conversación creada exitosamente", required=True, metadata={"type": "string"})


class NisiraMessageSchema(Schema):
    """A RatedMessage."""

    id = fields.Integer(attribute="message.id", required=True)
    content = fields.String(attribute="message.content", required=True)
    is_user = fields.Function(lambda rated: rated.message.role == "user", required=True, metadata={"type": "boolean"})
    timestamp = Timestamp(attribute="message.created", required=True)
    sources = fields.List(fields.Dict(), attribute="message.sources", required=True)
    rating = fields.String(allow_none=True, required=True, metadata={"enum": ["like", "dislike"]})
    rating_issue_tag = fields.String(attribute="issue_tag", required=True)


def page_fields() -> dict[str, fields.Field[Any]]:
    return {
        "page": fields.Integer(required=True),
        "size": fields.Integer(required=True),
        "total": fields.Integer(required=True),
        "has_more": fields.Boolean(required=True),
    }


def conversation_ref_fields() -> dict[str, fields.Field[Any]]:
    """How NISIRA names the conversation of a response; dump_only as in NisiraConversationFields."""
    return {
        "conversation_id": fields.String(
            attribute="conversation.slug", dump_only=True, required=True, metadata={"description": "The slug"}
        ),
        "numeric_id": fields.Integer(attribute="conversation.id", required=True),
        "slug": fields.String(attribute="conversation.slug", required=True),
    }


def exchange_fields() -> dict[str, fields.Field[Any]]:
    return {
        "user_message": fields.Nested(NisiraMessageSchema, required=True),
        "assistant_message": fields.Nested(NisiraMessageSchema, required=True),
    }


# Built from dicts so that the keys come out in the order NISIRA sends them.
NisiraConversationPageSchema = Schema.from_dict(
    {"conversations": fields.List(fields.Nested(NisiraConversationSchema), required=True), **page_fields()},
    name="NisiraConversationPageSchema",
)
NisiraMessagePageSchema = Schema.from_dict(
    {
        **conversation_ref_fields(),
        "conversation_title": fields.String(attribute="conversation.title", required=True),
        "messages": fields.List(fields.Nested(NisiraMessageSchema), required=True),
        **page_fields(),
    },
    name="NisiraMessagePageSchema",
)
NisiraExchangeSchema = Schema.from_dict(
    {**exchange_fields(), **conversation_ref_fields()}, name="NisiraExchangeSchema"
)
NisiraRagExchangeSchema = Schema.from_dict(
    {
        **conversation_ref_fields(),
        **exchange_fields(),
        "response": fields.String(attribute="assistant_message.message.content", required=True),
        "rag_used": fields.Function(
            lambda exchange: bool(exchange["assistant_message"].message.sources), required=True,
            metadata={"type": "boolean", "description": "Whether the answer drew on documents: sources is not empty"},
        ),
        "sources": fields.List(fields.Dict(), attribute="assistant_message.message.sources", required=True),
    },
    name="NisiraRagExchangeSchema",
)


class NisiraRatingSchema(Schema):
    message_id = fields.Integer(attribute="message.id", required=True)
    conversation_id = fields.String(attribute="conversation.slug", required=True)
    value = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"enum": ["created", "updated", "removed", "noop"]})
    updated_at = Timestamp(required=True)
    issue_tag = fields.String(required=True)


class NisiraErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "What went wrong, in NISIRA's Spanish"})


class NisiraAuthenticationErrorSchema(Schema):
    """DRF's body for missing or refused credentials."""

    detail = fields.String(required=True)
    code = fields.String(metadata={"description": "token_not_valid when a token was refused"})
