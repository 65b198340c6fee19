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


class WithValues:
    """A row, and values for its schema that depend on the request (who asks, what else was loaded).

    The schema reads `values` first, then the row's attributes, so that nothing is set on the ORM object.
    """

    __slots__ = ("row", "values")

    def __init__(self, row: object, **values: Any) -> None:
        self.row = row
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            return getattr(self.row, name)


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


class Conversion(NamedTuple):
    """What field._serialize(value) does, as a Python expression: `{value}` is the value (an expression
    cheap to repeat, such as `row[3]`), `{0}`, `{1}`... the helpers. Generated code inlines it."""

    template: str
    helpers: tuple[Any, ...] = ()

    def expression(self, value: str, helper_names: list[str]) -> str:
        return self.template.format(*helper_names, value=value)

    def function(self) -> Callable[[Any], Any]:
        names = [f"helper{number}" for number in range(len(self.helpers))]
        namespace = dict(zip(names, self.helpers))
        converter: Callable[[Any], Any] = eval(f"lambda value: {self.expression('value', names)}", namespace)
        return converter


def _conversion(field: Any) -> Conversion | None:
    """How field._serialize converts a value, for the plain types; None when the field has no fast path."""
    kind = type(field)
    if kind is fields.Integer and not field.as_string:
        return Conversion("{value} if {value}.__class__ is int else None if {value} is None else int({value})")
    if kind is fields.String:
        return Conversion("{value} if {value}.__class__ is str else None if {value} is None else str({value})")
    if kind is fields.Boolean:
        return Conversion("{value} if {value} is None or {value}.__class__ is bool else {0}({value}, None, None)",
                          (field._serialize,))
    if "dump_value" in kind.__dict__:
        # A field of ours that says how it dumps a value other than None (base.Timestamp).
        return Conversion("None if {value} is None else {0}({value})", (kind.dump_value,))
    if kind is fields.Dict and field.key_field is None and field.value_field is None:
        return Conversion("None if {value} is None else {0}({value})", (field.mapping_type,))
    if kind is fields.Nested:
        return Conversion("None if {value} is None else {0}({value}, many={1})",
                          (field.schema.dump, field.schema.many or field.many))
    if kind is fields.List and _dumps_whole_lists(field.inner):
        schema = field.inner.schema
        each = _conversion(field.inner).function()  # type: ignore[union-attr]

        def convert_list(value: Any) -> Any:
            if value is None:
                return None
            items = value if type(value) is list else list(value)
            if any(item is None for item in items):
                return [each(item) for item in items]
            # The nested schema's dump of the whole list: its dumper looks each result's row labels up once.
            return schema.dump(items, many=True)

        return Conversion("{0}({value})", (convert_list,))
    if kind is fields.List:
        inner = _conversion(field.inner)
        if inner is None:
            return None
        return Conversion("None if {value} is None else [{0}(each) for each in {value}]", (inner.function(),))
    return None


# (key, getter, converter, its conversion, (field, attribute name) for a field without a fast path)
Plan = list[tuple[str, Callable[[Any], Any] | None, Callable[[Any], Any] | None, Conversion | None, Any]]


def _row_dumper(plan: Plan, sources: list[str | None], labels: tuple[str, ...], value_names: tuple[str, ...],
                run: Callable[[Plan, Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    """row -> dict for rows with these column labels, as `run(plan, row)` gives it, in a function written
    out for these labels: a labelled value is taken by its position and converted inline. When every
    key is sure to be there, the function returns one dict display. With `value_names`, the function
    takes a WithValues of such a row with these values, which come before the row's columns."""
    if len(set(labels)) < len(labels) or any(step[4] is not None for step in plan):
        return partial(run, plan)  # a label twice: reading it by name fails as it does for marshmallow
    # The row's values, unpacked once into locals c0, c1...: the expressions read them more than once.
    expressions = {label: f"c{position}" for position, label in enumerate(labels)}
    lines = ["def dump_row(obj):", "    row, values = obj.row, obj.values" if value_names else "    row = obj",
             "    " + "".join(f"c{position}, " for position in range(len(labels))) + "= row"]
    lines += [f"    v{number} = values[{name!r}]" for number, name in enumerate(value_names)]
    expressions.update({name: f"v{number}" for number, name in enumerate(value_names)})
    namespace: dict[str, Any] = {"missing": missing, "run": run, "plan": plan}
    items = []
    for number, ((key, get, convert, conversion, _), source) in enumerate(zip(plan, sources)):
        # Only where getattr(row, source) is the column: a label such as "count" names Row's method.
        if source is not None and (source in value_names or not hasattr(Row, source)):
            if source not in expressions:
                continue  # getattr(row, source) fails, marshmallow's value is missing and the key is left out
            assert conversion is not None
            helper_names = [f"helper{number}_{index}" for index in range(len(conversion.helpers))]
            namespace.update(zip(helper_names, conversion.helpers))
            items.append(f"{key!r}: {conversion.expression(expressions[source], helper_names)}")
            continue
        # Read through the getter (a function field, or an attribute of Row's own): it may be missing,
        # and then marshmallow leaves the key out, as run() does.
        namespace[f"get{number}"], namespace[f"convert{number}"] = get, convert
        lines += [f"    value{number} = get{number}(obj)", f"    if value{number} is missing:",
                  "        return run(plan, obj)"]
        items.append(f"{key!r}: convert{number}(value{number})")
    lines.append("    return {" + ", ".join(items) + "}")
    exec(compile("\n".join(lines), f"<dumper for {', '.join(value_names + labels)}>", "exec"), namespace)
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
            plan.append((key, field.serialize_func, _identity, None, None))
            sources.append(None)
            continue
        conversion = _conversion(field)
        simple = (conversion is not None and field._CHECK_ATTRIBUTE and "." not in source
                  and field.dump_default is missing)
        if simple:
            assert conversion is not None
            plan.append((key, _getter(source), conversion.function(), conversion, None))
            sources.append(source)
        else:
            plan.append((key, None, None, None, (field, attr_name)))
            sources.append(None)
    accessor = schema.get_attribute
    # Rows of one statement share their labels: one function for each set of labels (and of values).
    row_dumpers: dict[tuple[tuple[str, ...], tuple[str, ...]], Callable[[Any], dict[str, Any]]] = {}

    def row_dumper(row: Row[Any], value_names: tuple[str, ...] = ()) -> Callable[[Any], dict[str, Any]]:
        labels = row._fields
        dumper = row_dumpers.get((labels, value_names))
        if dumper is None:
            dumper = row_dumpers[labels, value_names] = _row_dumper(plan, sources, labels, value_names, run)
        return dumper

    def run(steps: Plan, obj: Any) -> dict[str, Any]:
        result = {}
        for key, get, convert, _, slow in steps:
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
        kind = type(obj)
        if kind is Row:
            return row_dumper(obj)(obj)
        if kind is WithValues and type(obj.row) is Row:
            if not obj.values:
                return row_dumper(obj.row)(obj.row)
            return row_dumper(obj.row, tuple(obj.values))(obj)
        return run(plan, obj)

    def dump_many(objs: Iterable[Any]) -> list[dict[str, Any]]:
        dumped = []
        result_of_rows = None
        dump_row: Callable[[Any], dict[str, Any]] = dump_one
        for obj in objs:
            if type(obj) is not Row:
                dumped.append(dump_one(obj))
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
