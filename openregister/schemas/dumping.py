"""Dumping compiled once per schema from its fields: the same output as marshmallow's, faster.

marshmallow stays the one description of the wire (validation, the OpenAPI document, and which
keys a response has in which order); this only replaces its per-value dispatch when dumping.
Each field of a schema becomes one small function, chosen once from the field's type: for the
plain types (integers, strings, booleans, timestamps, untyped dicts, lists and nested schemas)
it does what that field's `_serialize` does, without the calls in between; any other field, or a
field with a dotted attribute or a dump default, goes through the field's own `serialize`.
"""

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing
from sqlalchemy import Row


def _getter(key: str) -> Callable[[Any], Any]:
    """marshmallow.utils.get_value for a key without dots, for dicts, rows and plain objects."""

    def get(obj: Any) -> Any:
        kind = type(obj)
        if kind is dict:
            if key in obj:
                return obj[key]
            return getattr(obj, key, missing)
        if kind is Row or not hasattr(obj, "__getitem__"):
            # A row's items are indexed by position only: marshmallow's obj[key] fails, then it reads the attribute.
            return getattr(obj, key, missing)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            return getattr(obj, key, missing)

    return get


def _identity(value: Any) -> Any:
    return value


def _converter(field: Any) -> Callable[[Any], Any] | None:
    """value -> wire value, as field._serialize does it; None when the field has no fast path."""
    kind = type(field)
    if kind is fields.Integer and not field.as_string:
        return lambda value: None if value is None else int(value)
    if kind is fields.String:
        return lambda value: None if value is None else str(value)
    if kind is fields.Boolean:
        return lambda value: value if value is None or type(value) is bool else field._serialize(value, None, None)
    if "dump_value" in kind.__dict__:
        # A field of ours that says how it dumps a value other than None (base.Timestamp).
        dump_value = kind.dump_value
        return lambda value: None if value is None else dump_value(value)
    if kind is fields.Dict and field.key_field is None and field.value_field is None:
        mapping_type = field.mapping_type
        return lambda value: None if value is None else mapping_type(value)
    if kind is fields.Nested:
        return lambda value: None if value is None else field.schema.dump(value, many=field.schema.many or field.many)
    if kind is fields.List:
        inner = _converter(field.inner)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(each) for each in value]
    return None


def compile_dumper(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """obj -> dict, the same as schema._serialize(obj) for one object."""
    plan: list[tuple[str, Callable[[Any], Any] | None, Callable[[Any], Any] | None, Any]] = []
    for attr_name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        source = attr_name if field.attribute is None else field.attribute
        if type(field) is fields.Function and field.serialize_func is not None:
            # Function._serialize is serialize_func(obj), whatever the attribute holds.
            plan.append((key, field.serialize_func, _identity, None))
            continue
        convert = _converter(field)
        simple = (convert is not None and field._CHECK_ATTRIBUTE and "." not in source
                  and field.dump_default is missing)
        if simple:
            plan.append((key, _getter(source), convert, None))
        else:
            plan.append((key, None, None, (field, attr_name)))
    accessor = schema.get_attribute

    def dump_one(obj: Any) -> dict[str, Any]:
        result = {}
        for key, get, convert, slow in plan:
            if slow is None:
                value = get(obj)  # type: ignore[misc]
                if value is missing:
                    continue
                result[key] = convert(value)  # type: ignore[misc]
            else:
                value = slow[0].serialize(slow[1], obj, accessor=accessor)
                if value is not missing:
                    result[key] = value
        return result

    return dump_one


class CompiledDumpMixin:
    """A Schema whose `_serialize` runs a dumper compiled on first use (per instance: `only`,
    `exclude` and `dump_only` are already applied to its dump_fields)."""

    _compiled_dumper = None
    # False dumps with marshmallow's own loop (the tests compare the two).
    compiled = True

    def _serialize(self, obj, *, many: bool = False):
        if not self.compiled or type(self).get_attribute is not Schema.get_attribute or self.dict_class is not dict:
            return super()._serialize(obj, many=many)
        dump_one = self._compiled_dumper
        if dump_one is None:
            dump_one = self._compiled_dumper = compile_dumper(self)
        if many and obj is not None:
            return [dump_one(each) for each in obj]
        return dump_one(obj)
