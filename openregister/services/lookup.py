"""How a path reference names a row: all digits is the integer id, anything else the uuid (or another key)."""

from sqlalchemy import select

from ..extensions import db

# The id columns are 32-bit integers on PostgreSQL: a larger number names no row.
MAX_ID = 2**31 - 1


def find_by_ref(model, ref, stmt=None, *, key=None):
    """The row `ref` names: its id when `ref` is all digits, else the row whose `key` column (the uuid
    unless another is named) is `ref`; None when there is none. `stmt`, a select of `model`, may narrow
    the rows further."""
    ref = str(ref)
    if "\x00" in ref:
        return None  # no key holds U+0000, and PostgreSQL's text cannot even be asked
    # ASCII only: str.isdigit() also takes digits such as "¹" that int() refuses.
    is_id = ref.isascii() and ref.isdigit()
    if is_id and (len(ref) > len(str(MAX_ID)) or int(ref) > MAX_ID):
        return None
    column = model.id if is_id else (model.uuid if key is None else key)
    stmt = select(model) if stmt is None else stmt
    return db.session.scalars(stmt.where(column == (int(ref) if is_id else ref))).first()


def equals_or_null(column, value):
    """column = value, or column IS NULL for None (spelled out so that indexes still serve it)."""
    return column.is_(None) if value is None else column == value
