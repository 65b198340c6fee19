from collections.abc import Mapping
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from .base import CamelCaseSchema, InputSchema, Timestamp
from .pagination import PaginationArgsSchema, page_schema

SEARCH_LENGTH = 200


class DocumentSchema(CamelCaseSchema):
    id = fields.Integer(required=True)
    uuid = fields.String(required=True)
    name = fields.String(required=True)
    mime_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes"})
    organisation = fields.Integer(attribute="organisation_id", required=True)
    owner = fields.Function(
        lambda document: document.owner.username if document.owner else None,
        required=True, metadata={"type": "string", "nullable": True, "description": "The uploader's user name"},
    )
    chunks = fields.Integer(required=True, metadata={"description": "Passages the text was cut into"})
    status = fields.String(required=True, validate=validate.OneOf(["indexed", "failed"]))
    error = fields.String(allow_none=True, required=True, metadata={"description": "Why a failed document has no text"})
    created = Timestamp(required=True)
    updated = Timestamp(required=True)


DocumentPageSchema = page_schema("DocumentPageSchema", DocumentSchema)


class DocumentListArgsSchema(PaginationArgsSchema):
    search = fields.String(data_key="_search", validate=validate.Length(max=SEARCH_LENGTH),
                           metadata={"description": "Part of the name, in any case"})


class File(Upload):  # type: ignore[misc]  # flask_smorest has no type information: Upload is Any
    """A file part of the multipart body; a plain form field of the same name is not one."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ValidationError("Not a file: send it as a file part of a multipart/form-data body.")
        return value


class DocumentUploadSchema(InputSchema):
    file = File(required=True, metadata={"description": "Plain text, Markdown, HTML, PDF or DOCX"})
    name = fields.String(validate=validate.Length(max=255), metadata={"description": "Defaults to the file's name"})


class DocumentDeletionSchema(CamelCaseSchema):
    message = fields.String(required=True)
    uuid = fields.String(required=True)
