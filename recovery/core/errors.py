"""Error pages: HTML for people, JSON for API clients; never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from recovery.core.http import wants_json
from recovery.extensions import db


def _messages():
    # Translated at request time (not import time) so the user's language applies.
    return {
        400: _("The request could not be understood. Go back and try again."),
        401: _("Please sign in."),
        403: _("You do not have permission to open this page."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept that kind of request."),
        413: _("The upload is larger than the allowed size."),
        429: _("Too many requests; wait a moment and try again."),
        500: _("An unexpected error happened. Nothing was saved; please try again."),
    }


def _respond(status: int, detail: str | None = None):
    message = detail or _messages().get(status, _("Error"))
    if wants_json():
        response = jsonify(error={"status": status, "message": message})
        response.status_code = status
        return response
    title = {
        400: _("Bad request"),
        401: _("Sign-in required"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        413: _("File too large"),
        429: _("Too many requests"),
        500: _("Something went wrong"),
    }.get(status, _("Error"))
    return render_template("errors/error.html", status=status, title=title, message=message), (
        status
    )


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(
            400, _("The form expired or was not sent from this site. Reload and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code >= 500:
            db.session.rollback()
            return _respond(500)
        return _respond(error.code)

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        db.session.rollback()
        return _respond(500)

    @app.errorhandler(Exception)
    def unhandled(error):
        # Rolls back whatever the failed request had written; the log keeps the traceback.
        db.session.rollback()
        app.logger.exception("unhandled error")
        return _respond(500)
