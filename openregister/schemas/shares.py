from marshmallow import fields, validate

from ..models import ROLES
from .base import CamelCaseSchema, InputSchema, Timestamp
from .transfer import ExactInteger

MAX_EXPIRES_IN = 365 * 24 * 3600


class ShareCreateSchema(InputSchema):
    expires_in = ExactInteger(validate=validate.Range(1, MAX_EXPIRES_IN),
                              metadata={"description": "Seconds until the link stops working; none: never"})


class ShareSchema(CamelCaseSchema):
    token = fields.String(required=True, allow_none=True,
                          metadata={"description": "Shown only when the link is made; null afterwards"})
    url = fields.String(required=True, allow_none=True,
                        metadata={"description": "The public link; null afterwards, as the token"})
    created = Timestamp(required=True)
    expires_at = Timestamp(required=True, allow_none=True)


class SharedMessageSchema(CamelCaseSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    content = fields.String(required=True)
    created = Timestamp(required=True)


class SharedConversationSchema(CamelCaseSchema):
    title = fields.String(required=True)
    shared_at = Timestamp(required=True)
    messages = fields.List(fields.Nested(SharedMessageSchema), required=True)
