"""Dumping compiled once per schema from its fields: the same output as marshmallow's, faster.

marshmallow stays the one description of the wire (validation, the OpenAPI document, and which
keys a response has in which order); this only replaces its per-value dispatch when dumping.
Each field of a schema becomes one small function, chosen once from the field's type: for the
plain types (integers, strings, booleans, timestamps, untyped dicts, lists and nested schemas)
it does what that field's `_serialize` does, without the calls in between; any other field, or a
field with a dotted attribute or a dump default, goes through the field's own `serialize`.
"""

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, NamedTuple

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
    if kind is fields.List and _dumps_whole_lists(field.inner):
        schema = field.inner.schema
        each = _converter(field.inner)

        def convert_list(value: Any) -> Any:
            if value is None:
                return None
            items = value if type(value) is list else list(value)
            if any(item is None for item in items):
                return [each(item) for item in items]  # type: ignore[misc]
            # The nested schema's dump of the whole list: its dumper looks each result's row labels up once.
            return schema.dump(items, many=True)

        return convert_list
    if kind is fields.List:
        inner = _converter(field.inner)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(each) for each in value]
    return None


Plan = list[tuple[str, Callable[[Any], Any] | None, Callable[[Any], Any] | None, Any]]


def _row_dumper(plan: Plan, sources: list[str | None], labels: tuple[str, ...],
                run: Callable[[Plan, Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    """row -> dict for rows with these column labels, as `run(plan, row)` gives it: a labelled value
    is read by its position, in a function written out for these labels."""
    positions = {label: position for position, label in enumerate(labels)}
    if len(positions) < len(labels):
        return partial(run, plan)  # a label twice: reading it by name fails as it does for marshmallow
    namespace: dict[str, Any] = {"missing": missing}
    lines = ["def dump_row(row):", "    result = {}"]
    for number, ((key, get, convert, slow), source) in enumerate(zip(plan, sources)):
        if slow is not None:
            return partial(run, plan)
        namespace[f"convert{number}"] = convert
        # Only where getattr(row, source) is the column: a label such as "count" names Row's method.
        if source is not None and not hasattr(Row, source):
            if source in positions:
                lines.append(f"    result[{key!r}] = convert{number}(row[{positions[source]}])")
            # else: getattr(row, source) fails, marshmallow's value is missing and the key is left out.
            continue
        namespace[f"get{number}"] = get
        lines += [f"    value = get{number}(row)", "    if value is not missing:",
                  f"        result[{key!r}] = convert{number}(value)"]
    lines.append("    return result")
    exec(compile("\n".join(lines), f"<dumper for {', '.join(labels)}>", "exec"), namespace)
    dump_row: Callable[[Any], dict[str, Any]] = namespace["dump_row"]
    return dump_row


def _dumps_whole_lists(field: Any) -> bool:
    """A Nested field of one object whose schema has no hooks: a list of them is the schema's dump(many=True)."""
    if type(field) is not fields.Nested or field.many:
        return False
    schema = field.schema
    return not schema.many and not any(schema._hooks.values())


def compile_dumper(schema: Schema) -> "Dumper":
    """obj -> dict and objs -> list of dicts, the same as schema._serialize(obj) and schema._serialize(objs, many=True)."""
    plan: Plan = []
    # The attribute each simple field reads, else None.
    sources: list[str | None] = []
    for attr_name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        source = attr_name if field.attribute is None else field.attribute
        if type(field) is fields.Function and field.serialize_func is not None:
            # Function._serialize is serialize_func(obj), whatever the attribute holds.
            plan.append((key, field.serialize_func, _identity, None))
            sources.append(None)
            continue
        convert = _converter(field)
        simple = (convert is not None and field._CHECK_ATTRIBUTE and "." not in source
                  and field.dump_default is missing)
        if simple:
            plan.append((key, _getter(source), convert, None))
            sources.append(source)
        else:
            plan.append((key, None, None, (field, attr_name)))
            sources.append(None)
    accessor = schema.get_attribute
    # Rows of one statement share their labels: one function for each set of labels.
    row_dumpers: dict[tuple[str, ...], Callable[[Any], dict[str, Any]]] = {}

    def row_dumper(row: Row[Any]) -> Callable[[Any], dict[str, Any]]:
        labels = row._fields
        dumper = row_dumpers.get(labels)
        if dumper is None:
            dumper = row_dumpers[labels] = _row_dumper(plan, sources, labels, run)
        return dumper

    def run(steps: Plan, obj: Any) -> dict[str, Any]:
        result = {}
        for key, get, convert, slow in steps:
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

    def dump_one(obj: Any) -> dict[str, Any]:
        if type(obj) is Row:
            return row_dumper(obj)(obj)
        return run(plan, obj)

    def dump_many(objs: Iterable[Any]) -> list[dict[str, Any]]:
        dumped = []
        result_of_rows = None
        dump_row: Callable[[Any], dict[str, Any]] = dump_one
        for obj in objs:
            if type(obj) is not Row:
                dumped.append(run(plan, obj))
                continue
            if obj._parent is not result_of_rows:
                # The rows of one result share its labels: looked up once for them all.
                result_of_rows, dump_row = obj._parent, row_dumper(obj)
            dumped.append(dump_row(obj))
        return dumped

    return Dumper(dump_one, dump_many)


class Dumper(NamedTuple):
    one: Callable[[Any], dict[str, Any]]
    many: Callable[[Iterable[Any]], list[dict[str, Any]]]


class CompiledDumpMixin(Schema):
    """A Schema whose `_serialize` runs a dumper compiled on first use (per instance: `only`,
    `exclude` and `dump_only` are already applied to its dump_fields)."""

    _compiled_dumper: Dumper | None = None
    # False dumps with marshmallow's own loop (the tests compare the two).
    compiled = True

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        if not self.compiled or type(self).get_attribute is not Schema.get_attribute or self.dict_class is not dict:
            return super()._serialize(obj, many=many)
        dumper = self._compiled_dumper
        if dumper is None:
            dumper = self._compiled_dumper = compile_dumper(self)
        if many and obj is not None:
            return dumper.many(obj)
        return dumper.one(obj)
