from typing import Any

from flask.views import MethodView

from ..auth import current_user
from ..database import transactional
from ..models import Feedback
from ..schemas.base import MessageResponseSchema
from ..schemas.feedback import FeedbackCreateSchema, FeedbackSchema
from ..services import feedback as service
from . import protected

bp = protected("feedback", __name__)


@bp.route("/conversations/<ref>/messages/<message_ref>/feedback")
class MessageFeedback(MethodView):
    @bp.arguments(FeedbackCreateSchema)
    @bp.response(200, FeedbackSchema)
    @bp.errors(403, 404)
    @transactional
    def post(self, data: dict[str, Any], ref: str, message_ref: str) -> Feedback:
        """Rate an assistant message, or change your rating."""
        message = service.get_message_for(current_user(), ref, message_ref)
        feedback = service.give_feedback(
            current_user(), message, feedback_type=data["feedback_type"], comment=data.get("comment", service.UNCHANGED)
        )
        return feedback

    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404)
    @transactional
    def delete(self, ref: str, message_ref: str) -> dict[str, str]:
        """Remove your rating of a message."""
        service.remove_feedback(current_user(), service.get_message_for(current_user(), ref, message_ref))
        return {"message": "Feedback removed"}
