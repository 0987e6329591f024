"""One error envelope for every API answer that is not a success:

    {"error": {"status": 422, "code": "validation_error", "message": "...", "details": {...}}}

``ApiError`` is raised by the API's views and helpers; the handlers below turn it, every
HTTP error (401/403/404/405/409/413/429, webargs/marshmallow validation errors, CSRF) and any
unexpected exception into the envelope. flask-smorest's own error handler is not installed
(see RecoveryApi). An after_request hook rewrites the JSON errors answered outside the API's
views (the app-wide permission check, routing 404/405) into the same envelope.
"""

from __future__ import annotations

import json

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from recovery.extensions import db

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "server_error",
}


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Authentication required: send a valid API token (Authorization: Bearer …)."),
        403: _("You do not have permission to do this."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept that method."),
        409: _("The request conflicts with the current state."),
        413: _("The request is larger than the allowed size."),
        415: _("Send the body as JSON (Content-Type: application/json)."),
        422: _("The request is not valid: see the details."),
        429: _("Too many requests; wait and try again."),
        500: _("An unexpected error happened. Nothing was saved; please try again."),
    }


class ApiError(Exception):
    """A refusal with its HTTP status, a stable code and the details (per field or record)."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message or "")
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.details = details
        self.headers = headers or {}


def envelope(status: int, message=None, code=None, details=None, headers=None):
    body = {
        "status": status,
        "code": code or CODES.get(status, "error"),
        "message": str(message) if message else _messages().get(status, _("Error")),
    }
    if details:
        body["details"] = details
    response = jsonify(error=body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _text_details(value):
    """Marshmallow/webargs messages as plain JSON (lazy strings made text)."""
    return json.loads(json.dumps(value, default=str))


def handle_api_error(error: ApiError):
    if error.status >= 400:
        db.session.rollback()
    return envelope(error.status, error.message, error.code, error.details, error.headers)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if status >= 500:
        db.session.rollback()
        return envelope(500)
    details = None
    data = getattr(error, "data", None)
    if isinstance(data, dict) and data.get("messages"):
        # webargs: {"json": {"field": ["message"]}, "query": {...}}
        details = _text_details(data["messages"])
        status = 422
        # A batch: the errors of its records also under "records", keyed by index, as when
        # the ledger refuses records of a well-formed batch.
        body = details.get("json") if isinstance(details, dict) else None
        for name in ("items", "receipts"):
            records = body.get(name) if isinstance(body, dict) else None
            if isinstance(records, dict) and all(str(k).isdigit() for k in records):
                details["records"] = records
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    message = None
    if status == 422 and details is None and error.description:
        message = error.description
    return envelope(status, message, details=details, headers=headers)


def handle_csrf_error(error: CSRFError):
    return envelope(
        400,
        _("A signed-in browser session must send the CSRF token; API clients use a token."),
        code="csrf_failed",
    )


def handle_unexpected(error: Exception):
    db.session.rollback()
    current_app.logger.exception("unhandled API error")
    return envelope(500)


def install(blueprint) -> None:
    blueprint.register_error_handler(ApiError, handle_api_error)
    blueprint.register_error_handler(CSRFError, handle_csrf_error)
    blueprint.register_error_handler(HTTPException, handle_http_exception)
    blueprint.register_error_handler(Exception, handle_unexpected)


def normalise_error_response(response):
    """after_request (app-wide, /api/ only): a JSON error that did not come from the API's own
    handlers (the permission check's 401/403, routing 404/405) gets the full envelope."""
    if not request.path.startswith("/api/") or response.status_code < 400:
        return response
    if response.mimetype != "application/json":
        status = response.status_code
        fixed = envelope(status if status < 500 else 500)
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in response.headers:
                fixed.headers[name] = response.headers[name]
        return fixed
    data = response.get_json(silent=True)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and "code" in error:
        return response
    status = response.status_code
    message = error.get("message") if isinstance(error, dict) else None
    if status == 401:
        message = None  # the API's own wording (with the token hint)
    fixed = envelope(status, message)
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in response.headers:
            fixed.headers[name] = response.headers[name]
    return fixed
