"""Export and import of conversations: one as a download, all as streamed NDJSON, and imports."""

import json
from typing import Any

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView

from ..auth import current_user
from ..database import transactional
from ..schemas.transfer import ExportArgsSchema, ExportDocumentSchema, ImportResultSchema
from ..services import transfer as service
from ..services.conversations import get_conversation_for
from . import protected

bp = protected("transfer", __name__)

MARKDOWN = "text/markdown"
DOWNLOAD_HEADERS = {
    "Content-Disposition": {
        "description": "attachment, with the title as a safe file name and, in filename*, the title itself",
        "schema": {"type": "string"},
    }
}
IMPORT_BODY = {
    "required": True,
    "description": "One export document (application/json), NDJSON of export documents (application/x-ndjson), "
    "or ChatGPT's conversations.json (application/json, an array). At most OPENREGISTER_MAX_IMPORT_SIZE bytes.",
    "content": {
        "application/json": {
            "schema": {"oneOf": [
                {"$ref": "#/components/schemas/ExportDocument"},
                {"type": "array", "items": {"type": "object"}, "description": "ChatGPT's conversations.json"},
            ]}
        },
        service.NDJSON: {"schema": {"type": "string", "description": "One export document a line"}},
    },
}


def download(body: str, mimetype: str, title: str, extension: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = service.content_disposition(title, extension)
    return response


@bp.route("/conversations/export")
class Export(MethodView):
    @bp.response(200, ExportDocumentSchema, content_type=service.NDJSON, headers=DOWNLOAD_HEADERS,
                 description="Every conversation of yours in the active organisation, archived ones included: "
                 "one export document a line, streamed")
    def get(self) -> Response:
        """Export all your conversations in the active organisation as NDJSON."""
        response = Response(stream_with_context(service.export_lines(current_user())), mimetype=service.NDJSON)
        response.headers["Content-Disposition"] = service.content_disposition("conversations", ".ndjson")
        return response


@bp.route("/conversations/import")
class Import(MethodView):
    # require_json_body lets these through as well as JSON.
    extra_body_media_types = (service.NDJSON,)

    @bp.doc(requestBody=IMPORT_BODY)
    @bp.response(201, ImportResultSchema)
    @transactional
    def post(self) -> dict[str, Any]:
        """Import conversations: an export of ours (JSON or NDJSON) or ChatGPT's conversations.json."""
        # This route's own limit on the body, instead of the app's MAX_CONTENT_LENGTH; above it, 413.
        request.max_content_length = current_app.config["MAX_IMPORT_SIZE"]
        documents = service.read_import(request.get_data(cache=False), request.mimetype, current_app.json.loads)
        conversations = service.import_conversations(current_user(), documents)
        return {"imported": len(conversations), "conversations": conversations}


@bp.route("/conversations/<ref>/export")
class ConversationExport(MethodView):
    @bp.arguments(ExportArgsSchema, location="query")
    @bp.response(200, ExportDocumentSchema, headers=DOWNLOAD_HEADERS,
                 description="The conversation as an export document (format=json) or as Markdown (format=markdown)")
    @bp.doc(responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}})
    @bp.errors(403, 404)
    def get(self, args: dict[str, Any], ref: str) -> Response:
        """Download a conversation as JSON or Markdown."""
        conversation = get_conversation_for(current_user(), ref)
        document = service.export_document(current_user(), conversation)
        if args["format"] == "markdown":
            return download(service.markdown(document), MARKDOWN, conversation.title, ".md")
        return download(json.dumps(document, ensure_ascii=False), "application/json", conversation.title, ".json")
