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

# obj -> the value of one attribute (or `missing`); value -> its wire form; obj -> its wire dict
Getter = Callable[[Any], Any]
Converter = Callable[[Any], Any]
Dumper = Callable[[Any], dict[str, Any]]


def _getter(key: str) -> Getter:
    """marshmallow.utils.get_value for a key without dots, for dicts and plain objects."""

    def get(obj: Any) -> Any:
        if type(obj) is dict:
            if key in obj:
                return obj[key]
            return getattr(obj, key, missing)
        if not hasattr(obj, "__getitem__"):
            return getattr(obj, key, missing)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            return getattr(obj, key, missing)

    return get


def _converter(field: fields.Field[Any]) -> Converter | None:
    """value -> wire value, as field._serialize does it; None when the field has no fast path."""
    kind = type(field)
    if type(field) is fields.Integer and not field.as_string:
        return lambda value: None if value is None else int(value)
    if type(field) is fields.String:
        return lambda value: None if value is None else str(value)
    if type(field) is fields.Boolean:
        return lambda value: value if value is None or type(value) is bool else field._serialize(value, None, None)
    if "dump_value" in kind.__dict__:
        # A field of ours that says how it dumps a value other than None (base.Timestamp).
        dump_value: Converter = getattr(kind, "dump_value")
        return lambda value: None if value is None else dump_value(value)
    if type(field) is fields.Dict and field.key_field is None and field.value_field is None:
        mapping_type = field.mapping_type
        return lambda value: None if value is None else mapping_type(value)
    if type(field) is fields.Nested:
        return lambda value: None if value is None else field.schema.dump(value, many=field.schema.many or field.many)
    if type(field) is fields.List:
        inner = _converter(field.inner)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(each) for each in value]
    return None


def _serializer(field: fields.Field[Any], attr_name: str, accessor: Callable[[Any, str, Any], Any]) -> Getter:
    """obj -> the field's wire value (or `missing`), through the field's own `serialize`."""
    return lambda obj: field.serialize(attr_name, obj, accessor=accessor)


def compile_dumper(schema: Schema) -> Dumper:
    """obj -> dict, the same as schema._serialize(obj) for one object."""
    # (key, get, convert): `get` reads the value, or `missing` to leave the key out; `convert`, when
    # there is one, makes it the wire value (otherwise `get` gave the wire value already).
    plan: list[tuple[str, Getter, Converter | None]] = []
    accessor = schema.get_attribute
    for attr_name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        source = attr_name if field.attribute is None else field.attribute
        convert = _converter(field)
        simple = (convert is not None and field._CHECK_ATTRIBUTE and "." not in source
                  and field.dump_default is missing)
        if simple:
            plan.append((key, _getter(source), convert))
        else:
            plan.append((key, _serializer(field, attr_name, accessor), None))

    def dump_one(obj: Any) -> dict[str, Any]:
        result = {}
        for key, get, convert in plan:
            value = get(obj)
            if value is missing:
                continue
            result[key] = value if convert is None else convert(value)
        return result

    return dump_one


class CompiledDumpMixin(Schema):
    """A Schema whose `_serialize` runs a dumper compiled on first use (per instance: `only`,
    `exclude` and `dump_only` are already applied to its dump_fields)."""

    _compiled_dumper: Dumper | None = None
    # False dumps with marshmallow's own loop (the tests compare the two).
    compiled = True

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        if not self.compiled or type(self).get_attribute is not Schema.get_attribute or self.dict_class is not dict:
            return super()._serialize(obj, many=many)
        dump_one = self._compiled_dumper
        if dump_one is None:
            dump_one = self._compiled_dumper = compile_dumper(self)
        if many and obj is not None:
            return [dump_one(each) for each in obj]
        return dump_one(obj)
