"""How a path reference names a row: all digits is the integer id, anything else the uuid (or another key)."""

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db

# The id columns are 32-bit integers on PostgreSQL: a larger number names no row.
MAX_ID = 2**31 - 1


@cache
def _by_column(model: type, column_name: str) -> Select[Any]:
    # Built once per model and key column: every route taking a reference looks its row up this way.
    return select(model).where(getattr(model, column_name) == bindparam("ref"))


def find_by_ref(model: type, ref: object, stmt: Select[Any] | None = None, *,
                key: InstrumentedAttribute[Any] | None = None) -> Any:
    """The row `ref` names: its id when `ref` is all digits, else the row whose `key` column (the uuid
    unless another is named) is `ref`; None when there is none. `stmt`, a select of `model`, may narrow
    the rows further."""
    ref = str(ref)
    # ASCII only: str.isdigit() also takes digits such as "¹" that int() refuses.
    is_id = ref.isascii() and ref.isdigit()
    if is_id and (len(ref) > len(str(MAX_ID)) or int(ref) > MAX_ID):
        return None
    column_name = "id" if is_id else ("uuid" if key is None else key.key)
    value = int(ref) if is_id else ref
    if stmt is None:
        return db.session.execute(_by_column(model, column_name), {"ref": value}).scalars().first()
    return db.session.scalars(stmt.where(getattr(model, column_name) == value)).first()


def equals_or_null(column: Any, value: object) -> ColumnElement[bool]:
    """column = value, or column IS NULL for None (spelled out so that indexes still serve it)."""
    condition: ColumnElement[bool] = column.is_(None) if value is None else column == value
    return condition
