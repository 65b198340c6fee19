from marshmallow import fields, validate
from marshmallow.types import Validator

from .base import CamelCaseSchema, InputSchema, Timestamp, not_blank
from .pagination import PaginationArgsSchema

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*\Z"
Name: list[Validator] = [validate.Length(min=1, max=255), not_blank]


class OrganisationSchema(CamelCaseSchema):
    id = fields.Integer(required=True)
    uuid = fields.String(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True, required=True)
    users = fields.Function(
        lambda organisation: [membership.user.username for membership in organisation.memberships],
        required=True,
        metadata={"type": "array", "items": {"type": "string"},
                  "description": "The members' user ids, in the order they joined"},
    )
    owner = fields.Function(
        lambda organisation: organisation.owner.username if organisation.owner else None,
        required=True, metadata={"type": "string", "nullable": True},
    )
    active = fields.Boolean(
        attribute="is_active", required=True, metadata={"description": "Whether it is your active organisation"}
    )
    parent = fields.Integer(attribute="parent_id", allow_none=True, required=True)
    children = fields.Function(
        lambda organisation: [child.id for child in organisation.children],
        required=True, metadata={"type": "array", "items": {"type": "integer"}},
    )
    created = Timestamp(required=True)
    updated = Timestamp(required=True)


class OrganisationListSchema(CamelCaseSchema):
    total = fields.Integer(required=True)
    active = fields.Nested(OrganisationSchema, allow_none=True, required=True)
    results = fields.List(fields.Nested(OrganisationSchema), required=True)


class OrganisationSearchArgsSchema(PaginationArgsSchema):
    query = fields.String(load_default="", validate=validate.Length(max=255))


class OrganisationSearchSchema(CamelCaseSchema):
    organisations = fields.List(fields.Nested(OrganisationSchema), attribute="results", required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class OrganisationEnvelopeSchema(CamelCaseSchema):
    organisation = fields.Nested(OrganisationSchema, required=True)


class OrganisationCreatedSchema(CamelCaseSchema):
    message = fields.String(required=True)
    organisation = fields.Nested(OrganisationSchema, required=True)


class ActiveOrganisationSchema(CamelCaseSchema):
    active_organisation = fields.Nested(OrganisationSchema, allow_none=True, required=True)


class ActivatedSchema(CamelCaseSchema):
    message = fields.String(required=True)
    active_organisation = fields.Nested(OrganisationSchema, required=True)


class OrganisationCreateSchema(InputSchema):
    name = fields.String(required=True, validate=Name)
    description = fields.String(allow_none=True)


class OrganisationUpdateSchema(InputSchema):
    name = fields.String(validate=Name)
    description = fields.String(allow_none=True)
    slug = fields.String(
        validate=[
            validate.Length(min=1, max=255),
            validate.Regexp(SLUG_PATTERN, error="Use lowercase letters, digits and single hyphens."),
        ]
    )


class MemberSchema(InputSchema):
    user_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
