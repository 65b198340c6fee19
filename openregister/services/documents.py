"""What an import's documents have in common, whichever format they come in."""

from ..errors import BadRequest


class InvalidDocument(BadRequest):
    def __init__(self, position: int, field: str, problem: str):
        where = f"{field}: " if field else ""
        super().__init__(
            "Invalid import", f"Document {position}: {where}{problem}", code="invalid_import",
            errors={"position": position, "field": field, "problem": problem},
        )


def nul_path(value, path=()) -> str | None:
    """Where a NUL character is, in a key or a string: text columns (PostgreSQL's) cannot hold one."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return ".".join(where)
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return ".".join(where)
                stack.append((child, (*where, key)))
        elif isinstance(item, list):
            stack.extend((child, (*where, str(index))) for index, child in enumerate(item))
    return None
