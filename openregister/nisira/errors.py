"""NISIRA's error bodies, worded by error code: {"error": "<Spanish>"}, or DRF's {"detail"} for refused credentials.

The core turns whatever went wrong into an ApiError and rolls back (openregister.errors); this module
only says how NISIRA words it. Unknown /api/ paths and wrong methods never reach NISIRA's blueprint
(routing fails first), so they keep the core's body, which has "error" too.
"""

from flask import Response

from ..errors import ApiError, ValidationFailed, json_response

# DRF's and simplejwt's words for refused credentials: NISIRA's front end gets those from its framework.
AUTHENTICATION_DETAILS = {
    "unauthorized": "Authentication credentials were not provided.",
    "invalid_credentials": "No active account found with the given credentials",
    "invalid_token": "Token is invalid or expired",
}
# NISIRA's own words, for its errors and for those of the core that reach its routes (an HTTP
# error's code is spelled like its name: "Request Entity Too Large" -> request_entity_too_large).
SPANISH = {
    # NISIRA's sign-in view: the same words for an unknown user and a wrong password.
    "sign_in_refused": "Usuario o contraseña incorrectos",
    "missing_credentials": "Por favor ingresa tu usuario y contraseña",
    "missing_username": "Por favor ingresa tu nombre de usuario",
    "missing_password": "Por favor ingresa tu contraseña",
    "conversation_not_found": "Conversación no encontrada",
    "message_not_found": "Mensaje no encontrado o sin permiso.",
    "only_answers_rated": "Solo se pueden calificar respuestas del asistente.",
    "empty_message": "El mensaje no puede estar vacío",
    "content_required": "Contenido del mensaje requerido",
    "conversation_required": "ID de conversación requerido",
    "malformed_json": "El cuerpo de la solicitud no es un JSON válido",
    "malformed_url": "La URL contiene el carácter NUL (%00), que no es válido",
    "unsupported_media_type": "El cuerpo de la solicitud debe ser JSON (Content-Type: application/json)",
    "request_entity_too_large": "El cuerpo de la solicitud es demasiado grande",
    "too_many_requests": "Demasiados intentos fallidos; inténtalo más tarde",
    "agent_not_found": "El asistente de esta conversación ya no está disponible",
    "provider_error": "El modelo de lenguaje respondió con un error",
    "provider_unavailable": "El modelo de lenguaje no está disponible",
    "provider_timeout": "El modelo de lenguaje no respondió a tiempo",
    "internal_server_error": "Error interno del servidor",
    "concurrent_change": "Otra solicitud cambió lo mismo al mismo tiempo; no se guardó nada. Inténtalo de nuevo",
}


def error_body(error: ApiError) -> dict[str, str]:
    """NISIRA's body for an error: its Spanish words, DRF's {"detail"} for other refused credentials."""
    if error.code == ValidationFailed.code:
        return {"error": f"Datos inválidos: {error.message}"}
    if error.code in SPANISH:
        return {"error": SPANISH[error.code]}
    if error.status == 401:
        body = {"detail": AUTHENTICATION_DETAILS.get(error.code, error.message)}
        if error.code == "invalid_token":
            body["code"] = "token_not_valid"
        return body
    return {"error": error.title}


def render_error(error: ApiError) -> Response:
    return json_response(error.status, error_body(error), error.headers)
