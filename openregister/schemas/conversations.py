from marshmallow import fields, validate

from ..models import ROLES
from .base import CamelCaseSchema, Flag, InputSchema, JsonObject, Timestamp, Title, not_blank
from .pagination import PaginationArgsSchema, page_schema

METADATA_MAX_BYTES = 64 * 1024


class MessageSchema(CamelCaseSchema):
    id = fields.Integer(required=True)
    uuid = fields.String(required=True)
    conversation_id = fields.Integer(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    content = fields.String(required=True)
    sources = fields.List(fields.Dict(), required=True)
    created = Timestamp(required=True)


class ConversationSchema(CamelCaseSchema):
    id = fields.Integer(required=True)
    uuid = fields.String(required=True)
    title = fields.String(required=True)
    user_id = fields.Function(lambda conversation: conversation.owner_name, required=True, metadata={"type": "string"})
    organisation = fields.Integer(attribute="organisation_id", allow_none=True, required=True)
    agent_id = fields.Integer(allow_none=True, required=True)
    metadata_ = fields.Dict(data_key="metadata", required=True)
    deleted_at = Timestamp(allow_none=True, required=True)
    created = Timestamp(required=True)
    updated = Timestamp(required=True)
    message_count = fields.Integer(required=True)


class MatchSchema(CamelCaseSchema):
    message_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The newest matching message; null when only the title matches"}
    )
    snippet = fields.String(
        required=True, validate=validate.Length(max=200),
        metadata={"description": "Plain text around the first hit, at most 200 characters; … marks a cut"},
    )
    highlights = fields.List(
        fields.List(fields.Integer(), validate=validate.Length(equal=2)), required=True,
        metadata={"description": "[start, end) character offsets in snippet of each matched word"},
    )


class ConversationSearchResultSchema(ConversationSchema):
    match = fields.Nested(MatchSchema, metadata={"description": "Only in the results of a search (non-blank _search)"})


class ConversationDetailSchema(ConversationSchema):
    messages = fields.List(fields.Nested(MessageSchema), attribute="recent_messages", required=True)


ConversationPageSchema = page_schema("ConversationPageSchema", ConversationSearchResultSchema)
MessagePageSchema = page_schema("MessagePageSchema", MessageSchema, has_more=fields.Boolean(required=True))


SEARCH_MAX_LENGTH = 200
Search = fields.String(
    data_key="_search", validate=validate.Length(max=SEARCH_MAX_LENGTH),
    metadata={"description": "Whole words, case and accents ignored, the last word also as a prefix; blank: no filter"},
)


class ArchiveListArgsSchema(PaginationArgsSchema):
    search = Search


class ConversationListArgsSchema(ArchiveListArgsSchema):
    only_deleted = Flag(data_key="_deleted", load_default=False)
    include_deleted = Flag(load_default=False)


class MessageListArgsSchema(ArchiveListArgsSchema):
    order = fields.String(load_default="latest", validate=validate.OneOf(["latest", "asc"]))


class ConversationCreateSchema(InputSchema):
    title = fields.String(allow_none=True, validate=Title)
    metadata_ = JsonObject(data_key="metadata", max_bytes=METADATA_MAX_BYTES)
    agent_uuid = fields.String(allow_none=True)
    agent_id = fields.Integer(allow_none=True, strict=True)


class ConversationUpdateSchema(InputSchema):
    title = fields.String(validate=[Title, not_blank])
    metadata_ = JsonObject(data_key="metadata", max_bytes=METADATA_MAX_BYTES)


class DeletionSchema(CamelCaseSchema):
    message = fields.String(required=True)
    uuid = fields.String(required=True)
    archived = fields.Boolean(metadata={"description": "Present (true) when the delete archived the conversation"})
