"""How a path reference names a row: all digits is the integer id, anything else the uuid (or another key)."""

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, inspect, select
from sqlalchemy.orm import QueryableAttribute

from ..extensions import db
from ..models.base import Model

# The id columns are 32-bit integers on PostgreSQL: a larger number names no row.
MAX_ID = 2**31 - 1

# What a path names a row by: its id or its uuid (an id may come as a number).
Ref = str | int
M = TypeVar("M", bound=Model)
T = TypeVar("T")


def find_by_ref(model: type[M], ref: Ref, stmt: Select[M] | None = None, *,
                key: QueryableAttribute[str] | None = None) -> M | None:
    """The row `ref` names: its id when `ref` is all digits, else the row whose `key` column (the uuid
    unless another is named) is `ref`; None when there is none. `stmt`, a select of `model`, may narrow
    the rows further."""
    text = str(ref)
    if "\x00" in text:
        return None  # no key holds U+0000, and PostgreSQL's text cannot even be asked
    # ASCII only: str.isdigit() also takes digits such as "¹" that int() refuses.
    is_id = text.isascii() and text.isdigit()
    if is_id and (len(text) > len(str(MAX_ID)) or int(text) > MAX_ID):
        return None
    columns = inspect(model).columns
    column: ColumnElement[Any] | QueryableAttribute[str] = (
        columns["id"] if is_id else (columns["uuid"] if key is None else key)
    )
    stmt = select(model) if stmt is None else stmt
    return db.session.scalars(stmt.where(column == (int(text) if is_id else text))).first()


def equals_or_null(column: QueryableAttribute[T] | ColumnElement[T], value: T | None) -> ColumnElement[bool]:
    """column = value, or column IS NULL for None (spelled out so that indexes still serve it)."""
    return column.is_(None) if value is None else column == value
