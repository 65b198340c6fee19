import io
from typing import Any

from flask import Response, current_app, request, send_file
from flask.views import MethodView

from ..auth import current_user
from ..errors import ContentTooLarge
from ..models import Document
from ..database import transactional, unit_of_work
from ..providers.embeddings import EmbeddingSettings, embedder_for
from ..schemas.documents import (
    DocumentDeletionSchema,
    DocumentListArgsSchema,
    DocumentPageSchema,
    DocumentSchema,
    DocumentUploadSchema,
)
from ..services import documents as service
from ..services.transfer import content_disposition
from ..services.extraction import ACCEPTED
from . import protected
from ..pagination import window

bp = protected("documents", __name__)

# What multipart framing and the form fields around the file may add to the body.
MULTIPART_ALLOWANCE = 64 * 1024
DOWNLOAD = {
    "description": "The document's original bytes, as a download, with the type it was recognised as",
    "content": {mime_type: {"schema": {"type": "string", "format": "binary"}} for mime_type in ACCEPTED},
}


@bp.before_request
def allow_documents_up_to_their_limit() -> None:
    # Uploads may be larger than the app-wide MAX_CONTENT_LENGTH of JSON bodies, up to the documents' own limit.
    if request.endpoint == "documents.Documents" and request.method == "POST":
        request.max_content_length = current_app.config["MAX_DOCUMENT_SIZE"] + MULTIPART_ALLOWANCE


def too_large() -> ContentTooLarge:
    limit = current_app.config["MAX_DOCUMENT_SIZE"]
    return ContentTooLarge(message=f"Documents may be at most {limit} bytes (OPENREGISTER_MAX_DOCUMENT_SIZE).")


@bp.route("/documents")
class Documents(MethodView):
    # require_json_body lets an upload through as well as JSON.
    extra_body_media_types = ("multipart/form-data",)

    @bp.arguments(DocumentListArgsSchema, location="query")
    @bp.response(200, DocumentPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the active organisation's documents, newest first."""
        return service.list_documents(current_user(), window(args), search=args.get("search"))

    @bp.arguments(DocumentUploadSchema, location="files")
    @bp.response(201, DocumentSchema)
    def post(self, form: dict[str, Any]) -> Document:
        """Upload a document into the active organisation and index it for the agents' retrieval."""
        upload = form["file"]
        limit = current_app.config["MAX_DOCUMENT_SIZE"]
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            raise too_large()
        # Extracting and embedding may take a while: before the transaction, which is short.
        prepared = service.prepare_document(
            data=data, filename=upload.filename, name=form.get("name"), declared_type=upload.mimetype,
            embedder=embedder_for(EmbeddingSettings.from_config(current_app.config)),
        )
        with unit_of_work():
            return service.upload_document(current_user(), prepared)


@bp.route("/documents/<ref>")
class DocumentByRef(MethodView):
    @bp.response(200, DocumentSchema)
    @bp.errors(404)
    def get(self, ref: str) -> Document:
        """Show a document of one of your organisations."""
        return service.get_document_for(current_user(), ref)

    @bp.response(200, DocumentDeletionSchema)
    @bp.errors(403, 404)
    @transactional
    def delete(self, ref: str) -> dict[str, str]:
        """Delete a document and its passages (the uploader or the organisation's owner)."""
        document = service.get_document_for(current_user(), ref)
        uuid = document.uuid
        service.delete_document(current_user(), document)
        return {"message": "Document deleted", "uuid": uuid}


@bp.route("/documents/<ref>/content")
class DocumentContent(MethodView):
    @bp.doc(responses={200: DOWNLOAD})
    @bp.errors(404)
    def get(self, ref: str) -> Response:
        """Download a document's original bytes."""
        document = service.get_document_for(current_user(), ref)
        response = send_file(io.BytesIO(document.content), mimetype=document.mime_type, max_age=0)
        # A name may hold any character an upload sent; the header gets it made safe, as an export's title.
        response.headers["Content-Disposition"] = content_disposition(document.name, "", fallback="document")
        return response
