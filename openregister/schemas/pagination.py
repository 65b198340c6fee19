from marshmallow import fields, post_load, validate

from .base import CamelCaseSchema, InputSchema


class PaginationArgsSchema(InputSchema):
    """limit/_limit, offset/_offset, page/_page, as OpenRegister's and NISIRA's clients send them."""

    limit = fields.Integer(validate=validate.Range(min=1))
    underscore_limit = fields.Integer(data_key="_limit", validate=validate.Range(min=1))
    offset = fields.Integer(validate=validate.Range(min=0))
    underscore_offset = fields.Integer(data_key="_offset", validate=validate.Range(min=0))
    page = fields.Integer(validate=validate.Range(min=1))
    underscore_page = fields.Integer(data_key="_page", validate=validate.Range(min=1))

    @post_load
    def merge_aliases(self, data, **kwargs):
        merged = {}
        for name in ("limit", "offset", "page"):
            value = data.pop(name, None)
            alias = data.pop("underscore_" + name, None)
            merged[name] = alias if alias is not None else value
        return {**data, **merged}


def page_schema(name: str, item_schema: type, **extra_fields) -> type:
    """The list envelope {"results", "total", "limit", "offset"} around one item schema."""
    return CamelCaseSchema.from_dict(
        {
            "results": fields.List(fields.Nested(item_schema), required=True),
            "total": fields.Integer(required=True, metadata={"description": "Everything that matches, not just this page"}),
            "limit": fields.Integer(required=True, metadata={"description": "The page size used, after clamping"}),
            "offset": fields.Integer(required=True),
            **extra_fields,
        },
        name=name,
    )
