from marshmallow import fields

from .base import CamelCaseSchema, InputSchema, Timestamp


class FeedbackCreateSchema(InputSchema):
    """Create or update the caller's feedback on a message."""

    # Any JSON value: the service refuses all but the two types with "Invalid feedback type".
    feedback_type = fields.Raw(
        data_key="type", load_default=None, metadata={"type": "string", "enum": ["positive", "negative"]}
    )
    comment = fields.String(allow_none=True, metadata={"description": "Kept from before when absent"})


class FeedbackSchema(CamelCaseSchema):
    id = fields.Integer(required=True)
    uuid = fields.String(required=True)
    message_id = fields.Integer(required=True)
    conversation_id = fields.Integer(required=True)
    agent_id = fields.Integer(allow_none=True, required=True)
    user_id = fields.Function(lambda feedback: feedback.user.username, required=True, metadata={"type": "string"})
    organisation = fields.Integer(attribute="organisation_id", allow_none=True, required=True)
    feedback_type = fields.String(attribute="type", data_key="type", required=True)
    comment = fields.String(allow_none=True, required=True)
    created = Timestamp(required=True)
    updated = Timestamp(required=True)
