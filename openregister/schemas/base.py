"""The camelCase base schemas and the fields every resource shares."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from .dumping import CompiledDumpMixin


def camelcase(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class CamelCaseSchema(CompiledDumpMixin):
    """Python attributes in snake_case, JSON keys in camelCase; dumped by a serializer compiled once
    from the fields (dumping.py)."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field[Any]) -> None:
        if field_obj.data_key is None:
            field_obj.data_key = camelcase(field_name)


class InputSchema(CamelCaseSchema):
    # The contract: keys a client may not set (ids, owners, timestamps) are ignored, not errors.
    class Meta:
        unknown = EXCLUDE


def isoformat(value: datetime) -> str:
    """ISO 8601 in UTC with a Z suffix, to the second."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat() begins YYYY-MM-DDTHH:MM:SS whatever follows: the same as timespec="seconds", at less
    # than half the cost (parsing that keyword costs more than the formatting; lists dump 2 or 3 a row).
    return value.isoformat()[:19] + "Z"


class Timestamp(fields.DateTime):
    """ISO 8601 in UTC with a Z suffix, to the second; the database keeps the microseconds."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else isoformat(value)

    # How the compiled dumpers (dumping.py) dump a value other than None.
    dump_value = staticmethod(isoformat)


class StrictBoolean(fields.Boolean):
    """true or false only: a JSON body has real booleans, so "yes" or 1 is a wrong type."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Flag(fields.Boolean):
    """A boolean query parameter: true/false/1/0/yes/no, in any case."""

    truthy = {"true", "1", "yes", "on", 1, True}
    falsy = {"false", "0", "no", "off", 0, False}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        if isinstance(value, str):
            value = value.strip().lower()
        try:
            if value in self.truthy:
                return True
            if value in self.falsy:
                return False
        except TypeError:  # an unhashable value
            pass
        raise self.make_error("invalid", input=value)


class JsonObject(fields.Dict):
    """A JSON object whose serialized size is bounded."""

    def __init__(self, *, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_bytes = max_bytes

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> dict[Any, Any]:
        # JSON objects come with string keys, which the String key field keeps: the size of what was sent
        # is the size of what is loaded. Measured before the validators, which get only a bounded value.
        if isinstance(value, dict) and len(json.dumps(value, separators=(",", ":")).encode()) > self.max_bytes:
            raise ValidationError(f"Must be at most {self.max_bytes // 1024} KiB as JSON.")
        # marshmallow leaves Mapping._deserialize unannotated
        loaded: dict[Any, Any] = super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-untyped-call]
        return loaded


def not_blank(value: str) -> None:
    if not value or not value.strip():
        raise ValidationError("Must not be blank.")


Title = validate.Length(max=255)


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "Short title of the error"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    errors = fields.Dict(
        keys=fields.String(), values=fields.Raw(), metadata={"description": "Problems per field (validation errors)"}
    )


class MessageResponseSchema(Schema):
    message = fields.String(required=True)
