from typing import Any

from flask.views import MethodView

from ..config import VERSION
from ..schemas.service import CapabilitiesSchema
from ..providers import PROVIDER_NAMES
from . import protected

bp = protected("capabilities", __name__)


@bp.route("/ocs/v2.php/cloud/capabilities")
class Capabilities(MethodView):
    @bp.response(200, CapabilitiesSchema)
    def get(self) -> dict[str, Any]:
        """List what this server supports, in Nextcloud's OCS envelope."""
        major, minor, micro = (int(part) for part in VERSION.split("."))
        return {
            "ocs": {
                "meta": {"status": "ok", "statuscode": 200, "message": "OK"},
                "data": {
                    "version": {"major": major, "minor": minor, "micro": micro, "string": VERSION, "edition": ""},
                    "capabilities": {
                        "openregister": {
                            "apiVersion": "1",
                            "version": VERSION,
                            "conversations": True,
                            "chat": True,
                            "agents": True,
                            "organisations": True,
                            "feedback": True,
                            "providers": list(PROVIDER_NAMES),
                            "auth": ["bearer", "basic"],
                        }
                    },
                },
            }
        }
