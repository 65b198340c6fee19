from typing import Any

from marshmallow import Schema, fields, post_load, validate

from .base import CamelCaseSchema, InputSchema


# Far past any real list, and small enough that offset = (page - 1) * limit fits a 64-bit SQL integer.
MAX_POSITION = 10**9
LIMIT = validate.Range(min=1, max=MAX_POSITION)
OFFSET = validate.Range(min=0, max=MAX_POSITION)


class PaginationArgsSchema(InputSchema):
    """limit/_limit, offset/_offset, page/_page, as OpenRegister's and NISIRA's clients send them."""

    limit = fields.Integer(validate=LIMIT)
    underscore_limit = fields.Integer(data_key="_limit", validate=LIMIT)
    offset = fields.Integer(validate=OFFSET)
    underscore_offset = fields.Integer(data_key="_offset", validate=OFFSET)
    page = fields.Integer(validate=LIMIT)
    underscore_page = fields.Integer(data_key="_page", validate=LIMIT)

    @post_load
    def merge_aliases(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        merged = {}
        for name in ("limit", "offset", "page"):
            value = data.pop(name, None)
            alias = data.pop("underscore_" + name, None)
            merged[name] = alias if alias is not None else value
        return {**data, **merged}


def page_schema(name: str, item_schema: type[Schema], **extra_fields: fields.Field[Any]) -> type[Schema]:
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
