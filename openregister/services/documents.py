"""What an import's documents have in common, whichever format they come in."""

from ..errors import BadRequest


class InvalidDocument(BadRequest):
    def __init__(self, position: int, field: str, problem: str):
        where = f"{field}: " if field else ""
        super().__init__(
            "Invalid import", f"Document {position}: {where}{problem}", code="invalid_import",
            errors={"position": position, "field": field, "problem": problem},
        )
