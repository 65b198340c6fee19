"""Export documents (what an export writes, and an import of ours reads) and the import's answer."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from ..models import ROLES
from .base import CamelCaseSchema, JsonObject, Timestamp, Title
from .conversations import METADATA_MAX_BYTES

FEEDBACK_TYPES = ("positive", "negative")


class ImportedFeedback(TypedDict):
    type: str
    comment: NotRequired[str | None]


class ImportedMessage(TypedDict):
    role: str
    content: str
    sources: NotRequired[list[dict[str, Any]]]
    created: NotRequired[datetime | None]
    feedback: NotRequired[ImportedFeedback | None]


class ImportedConversation(TypedDict):
    """One conversation of an import, as DocumentSchema loads it."""

    title: str
    metadata: dict[str, Any]
    created: datetime | None
    updated: datetime | None
    deleted_at: datetime | None
    agent_uuid: str | None
    messages: list[ImportedMessage]


class ExactInteger(fields.Integer):
    """An integer in the JSON sense only: true/false and 1.0 are wrong types."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> int:
        if type(value) is not int:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ImportTimestamp(fields.DateTime):
    """ISO 8601; with an offset converted to UTC, without one taken as UTC; stored naive, as every column."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        if loaded.tzinfo is not None:
            try:
                loaded = loaded.astimezone(UTC).replace(tzinfo=None)
            except OverflowError:
                raise self.make_error("invalid", input=loaded, obj_type=self.OBJ_TYPE) from None
        return loaded


class Lenient(Schema):
    # Everything not named here is optional and ignored.
    class Meta:
        unknown = EXCLUDE


class FeedbackDocumentSchema(Lenient):
    type = fields.String(required=True, validate=validate.OneOf(FEEDBACK_TYPES))
    comment = fields.String(allow_none=True)


class MessageDocumentSchema(Lenient):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    content = fields.String(required=True)
    sources = fields.List(fields.Dict())
    created = ImportTimestamp(allow_none=True)
    feedback = fields.Nested(FeedbackDocumentSchema, allow_none=True)

    @post_load
    def only_answers_take_feedback(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("feedback") and data["role"] != "assistant":
            raise ValidationError("Only the assistant's messages take feedback.", "feedback")
        return data


class AgentDocumentSchema(Lenient):
    uuid = fields.String(required=True)
    name = fields.String(allow_none=True)


class ConversationDocumentSchema(Lenient):
    title = fields.String(required=True, validate=Title)
    metadata = JsonObject(max_bytes=METADATA_MAX_BYTES, allow_none=True)
    created = ImportTimestamp(allow_none=True)
    updated = ImportTimestamp(allow_none=True)
    deleted_at = ImportTimestamp(data_key="deletedAt", allow_none=True)
    agent = fields.Nested(AgentDocumentSchema, allow_none=True)


class DocumentSchema(Lenient):
    """An export document, loaded as the flat dict that services.transfer.import_conversations takes."""

    format = fields.String(required=True, validate=validate.Equal("openregister.conversation"))
    version = ExactInteger(required=True, validate=validate.Equal(1))
    conversation = fields.Nested(ConversationDocumentSchema, required=True)
    messages = fields.List(fields.Nested(MessageDocumentSchema), required=True)

    @post_load
    def flatten(self, data: dict[str, Any], **kwargs: Any) -> ImportedConversation:
        conversation = data["conversation"]
        return {
            "title": conversation["title"],
            "metadata": conversation.get("metadata") or {},
            "created": conversation.get("created"),
            "updated": conversation.get("updated"),
            "deleted_at": conversation.get("deleted_at"),
            "agent_uuid": (conversation.get("agent") or {}).get("uuid"),
            "messages": data["messages"],
        }


class ExportFeedbackSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(FEEDBACK_TYPES))
    comment = fields.String(required=True, allow_none=True)


class ExportMessageSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    content = fields.String(required=True)
    sources = fields.List(fields.Dict(), required=True)
    created = Timestamp(required=True)
    feedback = fields.Nested(ExportFeedbackSchema, required=True, allow_none=True)


class ExportAgentSchema(Schema):
    uuid = fields.String(required=True)
    name = fields.String(required=True)


class ExportConversationSchema(Schema):
    uuid = fields.String(required=True)
    title = fields.String(required=True)
    metadata = fields.Dict(required=True)
    created = Timestamp(required=True)
    updated = Timestamp(required=True)
    deletedAt = Timestamp(required=True, allow_none=True)
    agent = fields.Nested(ExportAgentSchema, required=True, allow_none=True)


class ExportDocumentSchema(Schema):
    """One conversation as exported: what GET .../export answers, and one line of the NDJSON export."""

    format = fields.String(required=True, validate=validate.Equal("openregister.conversation"))
    version = fields.Integer(required=True, validate=validate.Equal(1))
    exported = Timestamp(required=True)
    conversation = fields.Nested(ExportConversationSchema, required=True)
    messages = fields.List(fields.Nested(ExportMessageSchema), required=True)


class ExportArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "markdown"]))


class ImportedConversationSchema(CamelCaseSchema):
    uuid = fields.String(required=True)
    title = fields.String(required=True)


class ImportResultSchema(Schema):
    imported = fields.Integer(required=True)
    conversations = fields.List(fields.Nested(ImportedConversationSchema), required=True)
