"""Per-request plumbing: who is signed in, permission checks, headers, template helpers."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import get_locale
from flask_login import current_user

from recovery.audit.context import SYSTEM, Actor, reset_actor, set_actor
from recovery.core.http import client_address
from recovery.core.i18n import LANGUAGE_NAMES
from recovery.core.permissions import ROLE_LABELS, access_for, enforce_access
from recovery.extensions import db, login_manager

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@login_manager.user_loader
def load_user(session_id: str):
    from recovery.auth.models import User

    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    # A disabled user or a changed password ends every session at once.
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def _begin_request():
    if current_user.is_authenticated:
        actor = Actor(current_user.id, current_user.username, client_address())
    else:
        actor = Actor(None, "anonymous", client_address())
    g.actor_token = set_actor(actor)


def _end_request(_exc=None):
    token = g.pop("actor_token", None)
    if token is not None:
        reset_actor(token)
    else:
        set_actor(SYSTEM)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def can_use(endpoint: str) -> bool:
    """Whether the current user may open ``endpoint`` (the same check the routes enforce)."""
    access = access_for(endpoint)
    if access is None:
        return False
    if access.public:
        return True
    return current_user.is_authenticated and access.allows(current_user.role_set)


def current_language() -> str:
    """The code of the language this response is in: zh_CN or en."""
    return "zh_CN" if get_locale().language == "zh" else "en"


def _template_helpers():
    return {
        "can": can_use,
        "current_language": current_language,
        "role_labels": ROLE_LABELS,
        "language_names": LANGUAGE_NAMES,
    }


def register(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    # The permission check runs before CSRF so an anonymous POST is sent to sign in first.
    app.before_request_funcs.setdefault(None, []).insert(0, enforce_access)
    app.before_request_funcs[None].insert(0, _begin_request)
    app.teardown_request(_end_request)
    app.after_request(_security_headers)
    app.context_processor(_template_helpers)
