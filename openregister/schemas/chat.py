from marshmallow import fields, validate

from .base import CamelCaseSchema, InputSchema, StrictBoolean
from .conversations import MessageSchema
from .pagination import PaginationArgsSchema

MAX_MESSAGE_LENGTH = 32_000
SourceCount = validate.Range(min=0, max=50)


class ChatRequestSchema(InputSchema):
    # Blank or absent fields are the service's to refuse, with the titles the contract gives them.
    message = fields.String(allow_none=True, validate=validate.Length(max=MAX_MESSAGE_LENGTH))
    conversation = fields.String(allow_none=True, metadata={"description": "uuid or id of an existing conversation"})
    agent_uuid = fields.String(allow_none=True, metadata={"description": "Start a new conversation with this agent"})
    # The real app's per-request retrieval settings: includeFiles overrides the agent's searchFiles and
    # numSourcesFiles its ragNumSources (0: none); the others are validated and ignored (no register objects here).
    include_files = StrictBoolean(allow_none=True)
    num_sources_files = fields.Integer(strict=True, allow_none=True, validate=SourceCount)
    views = fields.List(fields.String())
    tools = fields.List(fields.String())
    include_objects = StrictBoolean()
    num_sources_objects = fields.Integer(strict=True, validate=SourceCount)
    stream = StrictBoolean(metadata={
        "description": "Stream the answer as Server-Sent Events (as `Accept: text/event-stream` does)"
    })


class TimingsSchema(CamelCaseSchema):
    history = fields.Float(required=True, metadata={"description": "Seconds spent loading the history"})
    llm = fields.Float(required=True, metadata={"description": "Seconds the provider took"})
    total = fields.Float(required=True)


class ChatResponseSchema(CamelCaseSchema):
    message = fields.Nested(MessageSchema, attribute="assistant_message", required=True)
    user_message = fields.Nested(MessageSchema, required=True)
    sources = fields.List(fields.Dict(), attribute="assistant_message.sources", required=True)
    title = fields.String(attribute="conversation.title", required=True)
    conversation = fields.String(attribute="conversation.uuid", required=True)
    timings = fields.Nested(TimingsSchema, required=True)


class ChatStartEventSchema(CamelCaseSchema):
    """The data of a stream's `start` event: the stored question."""

    conversation = fields.String(attribute="conversation.uuid", required=True)
    user_message = fields.Nested(MessageSchema, required=True)


class ChatDeltaEventSchema(CamelCaseSchema):
    """The data of a `delta` event: the next piece of the answer."""

    content = fields.String(required=True)


class ChatErrorEventSchema(CamelCaseSchema):
    """The data of an `error` event: what a plain send would have answered, with its status."""

    error = fields.String(required=True)
    message = fields.String(required=True)
    status = fields.Integer(required=True, metadata={
        "description": "502, 503 or 504 for the provider's failures; 404 when the conversation was deleted "
        "meanwhile; 500 for the server's own"
    })


class ChatHistoryArgsSchema(PaginationArgsSchema):
    conversation_id = fields.String(metadata={"description": "id or uuid of the conversation"})


class ChatHistorySchema(CamelCaseSchema):
    messages = fields.List(fields.Nested(MessageSchema), required=True)
    total = fields.Integer(required=True)
    conversation_id = fields.Integer(required=True)


class ChatClearedSchema(CamelCaseSchema):
    message = fields.String(required=True)
    conversation_id = fields.Integer(required=True)


class ChatStatsSchema(CamelCaseSchema):
    # snake_case on the wire: the real app's settings page reads these names.
    total_agents = fields.Integer(data_key="total_agents", required=True)
    total_conversations = fields.Integer(data_key="total_conversations", required=True)
    total_messages = fields.Integer(data_key="total_messages", required=True)
