from marshmallow import fields, validate

from .base import CamelCaseSchema, InputSchema


class TokenRequestSchema(InputSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class RefreshRequestSchema(InputSchema):
    refresh = fields.String(required=True, validate=validate.Length(min=1, max=8192))


class TokenSchema(CamelCaseSchema):
    access = fields.String(required=True)
    refresh = fields.String(required=True)
    token_type = fields.String(required=True, dump_default="Bearer")
    expires_in = fields.Integer(required=True)


class RefreshedTokenSchema(CamelCaseSchema):
    access = fields.String(required=True)
    token_type = fields.String(required=True, dump_default="Bearer")
    expires_in = fields.Integer(required=True)
