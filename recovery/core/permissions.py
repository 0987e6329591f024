"""Who may use which endpoint — declared on every view, enforced in one place.

Every view function carries an ``access`` attribute set by one of the decorators below.
``enforce_access`` runs before every request: anonymous users are sent to the login page
(JSON clients get 401), signed-in users without one of the allowed roles get 403, and an
endpoint without a declaration is refused (fail closed). tests/test_permissions.py walks
``app.url_map`` and fails on any endpoint without a declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from recovery.core.http import wants_json

FINANCE = "finance"
SALES = "sales"
SUPERVISOR = "supervisor"
LEGAL = "legal"
EXECUTIVE = "executive"
ADMIN = "admin"

ROLES: tuple[str, ...] = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE, ADMIN)

ROLE_LABELS = {
    FINANCE: _l("Finance"),
    SALES: _l("Sales"),
    SUPERVISOR: _l("Supervisor"),
    LEGAL: _l("Legal"),
    EXECUTIVE: _l("Executive"),
    ADMIN: _l("Administrator"),
}

# Endpoints served to everybody, signed in or not (assets and the login page itself).
PUBLIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})


@dataclass(frozen=True)
class Access:
    """Who may call an endpoint: everybody (public) or signed-in users holding one of roles."""

    public: bool = False
    roles: frozenset[str] = frozenset()

    def allows(self, user_roles: set[str]) -> bool:
        return self.public or bool(self.roles & user_roles)


def _declare(access: Access):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)

        wrapped.access = access
        return wrapped

    return decorator


def roles_required(*roles: str):
    """Allow signed-in users holding at least one of ``roles``."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return _declare(Access(roles=frozenset(roles)))


def signed_in(view):
    """Allow every signed-in user, whatever their roles."""
    return _declare(Access(roles=frozenset(ROLES)))(view)


def public(view):
    """Allow everybody, including anonymous visitors (login page, language switch)."""
    return _declare(Access(public=True))(view)


def access_for(endpoint: str | None) -> Access | None:
    """The declared access of an endpoint, or None when it has no declaration."""
    if endpoint is None:
        return None
    if endpoint in PUBLIC_ENDPOINTS:
        return Access(public=True)
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def enforce_access():
    """before_request hook: the single place where endpoint permissions are checked."""
    if request.endpoint is None:  # 404 / 405: let Flask answer
        return None
    access = access_for(request.endpoint)
    if access is None:
        current_app.logger.error("endpoint %s declares no access; refused", request.endpoint)
        abort(403)
    if access.public:
        return None
    if not current_user.is_authenticated:
        if wants_json():
            response = jsonify(error={"status": 401, "message": "authentication required"})
            response.status_code = 401
            return response
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not access.allows(current_user.role_set):
        abort(403)
    return None
