"""What an import's documents have in common, whichever format they come in."""

from ..errors import BadRequest


class InvalidDocument(BadRequest):
    """A document of an import that cannot be read: its position among the documents, the field, the problem."""

    code = "invalid_import"

    def __init__(self, position: int, field: str, problem: str):
        where = f"{field}: " if field else ""
        super().__init__(
            "Invalid import", f"Document {position}: {where}{problem}", code=self.code,
            errors={"position": position, "field": field, "problem": problem},
        )
