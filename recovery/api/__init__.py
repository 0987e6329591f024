"""JSON API v1 under /api/v1/ for ERP and sales systems (docs/api.md).

Authentication is a personal API token (``Authorization: Bearer rk_…``, recovery.api.tokens)
or, for a person trying the API in the browser, their signed-in session (whose writes must
carry the CSRF token). The permission rules are the web's: every view declares its roles
(recovery.core.permissions), the app-wide check enforces them, sales users see only their own
accounts; a token's scope ("read" or "write") narrows what it may do. The OpenAPI document is
generated from the views and schemas by flask-smorest/apispec.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint

from recovery.api import errors, ratelimit, tokens
from recovery.api.schemas import ErrorSchema
from recovery.audit.context import Actor, set_actor
from recovery.core.http import client_address
from recovery.core.permissions import roles_required
from recovery.extensions import csrf, login_manager

API_PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2**31 - 1


class RecoveryApi(Api):
    """flask-smorest's Api without its error handler (ours answers the envelope), documenting
    errors with the envelope's schema."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        return None


def blueprint(name: str, description: str) -> SmorestBlueprint:
    bp = SmorestBlueprint(name, __name__, url_prefix=API_PREFIX, description=description)
    errors.install(bp)
    return bp


def access(*roles: str, write: bool = False):
    """Declare who may call an API view (the web's roles) and whether it needs write scope."""

    def decorator(view):
        @wraps(view)
        def scoped(*args, **kwargs):
            if write and tokens.current_scope() != "write":
                raise errors.ApiError(
                    403,
                    _("This token may only read: create a token with the write scope."),
                    code="insufficient_scope",
                )
            return view(*args, **kwargs)

        return roles_required(*roles)(scoped)

    return decorator


def _api_request() -> bool:
    return request.path.startswith("/api/")


def before_api_request():
    """After the app-wide permission check: the token wins over a session, CSRF for sessions,
    and the rate limit."""
    if not _api_request() or request.endpoint is None:
        return None
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise errors.ApiError(404)  # no row has such an id (and SQL integers are 32-bit)
    plain = tokens.bearer_token()
    if plain is not None and g.get("api_token") is None:
        user = tokens.authenticate(plain)
        if user is None:
            raise errors.ApiError(401, _auth_message(), headers=_challenge())
        # This request acts as the token's user, not the session's: check their roles.
        g._login_user = user
        set_actor(Actor(user.id, user.username, client_address()))
        declared = getattr(_view(), "access", None)
        if declared is not None and not declared.allows(user.role_set):
            raise errors.ApiError(403)
    if (
        plain is None
        and request.method not in SAFE_METHODS
        and current_user.is_authenticated
        and current_app.config.get("WTF_CSRF_ENABLED", True)
        and getattr(_view(), "access", None) is not None
        and not _view().access.public
    ):
        csrf.protect()  # a browser session: the web's CSRF rule
    ratelimit.check_rate_limit()
    return None


def _view():
    return current_app.view_functions.get(request.endpoint)


def _auth_message():
    return {
        "invalid_token": _("The API token is not valid."),
        "revoked_token": _("The API token was revoked."),
        "expired_token": _("The API token has expired."),
        "inactive_user": _("The user of this API token is deactivated."),
    }.get(g.get("api_auth_error"))


def _challenge() -> dict:
    return {"WWW-Authenticate": 'Bearer realm="recovery-api"'}


def after_api_request(response):
    if _api_request() and response.status_code == 401:
        response = errors.normalise_error_response(response)
        message = _auth_message()
        if message:
            response = errors.envelope(401, message, headers=_challenge())
        response.headers.setdefault("WWW-Authenticate", _challenge()["WWW-Authenticate"])
        return response
    return errors.normalise_error_response(response)


def init_app(app: Flask) -> None:
    """Register the API (called from create_app)."""
    from recovery.api import credit, ledger, meta, parties, web, work
    from recovery.api.schemas import Amount, Rate

    app.config.setdefault("API_RATE_LIMIT", ratelimit.limit_from_environment())
    app.config.setdefault("API_TITLE", "Recovery API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    api = RecoveryApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Receivables and debt-recovery API for ERP and sales systems. "
                "See docs/api.md."
            },
        },
    )
    api.register_field(Amount, "string", None)
    api.register_field(Rate, "string", None)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "A personal API token"}
    )
    api.spec.options["security"] = [{"bearer": []}]
    for module in (parties, ledger, work, credit):
        api.register_blueprint(module.bp)
        csrf.exempt(module.bp)  # CSRF is checked in before_api_request, for sessions only
    app.register_blueprint(meta.bp)
    app.register_blueprint(web.bp, url_prefix="/account/api-tokens")
    app.extensions["recovery-api"] = api
    from recovery.api.cli import api_cli

    app.cli.add_command(api_cli)
    login_manager.request_loader(tokens.load_user_from_request)
    app.before_request(before_api_request)
    app.after_request(after_api_request)
