"""Personal API tokens: created and revoked by their user, stored hashed, checked per request.

A token is ``rk_`` + 43 URL-safe characters (32 random bytes). Only its SHA-256 is stored,
with its first characters (``prefix``) so that the user can recognise it in the list. It is
shown once, when it is created. A token acts as its user with the user's roles as they are
at the time of each request, narrowed to its scope; a revoked or expired token, or one whose
user was deactivated, is refused at once (every request looks the token up).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import g, request
from flask_babel import lazy_gettext as _l

from recovery.api.models import TOKEN_SCOPES, ApiToken
from recovery.core.timeutil import utcnow
from recovery.extensions import db

TOKEN_MARK = "rk_"  # noqa: S105 (a marker, not a secret)
PREFIX_LENGTH = 10  # "rk_" and 7 characters of the secret, shown in the list
MAX_TOKENS_PER_USER = 20
LAST_USED_STEP = timedelta(minutes=5)  # last_used_at is written at most this often


class TokenError(ValueError):
    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user, *, name: str, scope: str, expires_at: datetime | None = None):
    """A new token for ``user``: returns (ApiToken, the plain token — shown once)."""
    name = (name or "").strip()
    if not name:
        raise TokenError(_l("Name the token (e.g. the system that will use it)."), "name")
    if len(name) > 100:
        raise TokenError(_l("Use at most %(n)s characters.", n=100), "name")
    if scope not in TOKEN_SCOPES:
        raise TokenError(_l("Choose read or read and write."), "scope")
    if expires_at is not None and expires_at <= utcnow():
        raise TokenError(_l("The expiry must be in the future."), "expires_on")
    active = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if active >= MAX_TOKENS_PER_USER:
        raise TokenError(_l("Revoke a token first: you have too many."), "name")
    plain = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=plain[:PREFIX_LENGTH],
        token_hash=hash_token(plain),
        scope=scope,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    return token, plain


def revoke_token(token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def tokens_of(user) -> list[ApiToken]:
    return db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ).all()


# ---------------------------------------------------------------------------------------------
# Authentication


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def authenticate(plain: str):
    """The user a token acts as, or None with the reason in ``g.api_auth_error``."""
    token = None
    if plain and plain.startswith(TOKEN_MARK) and len(plain) < 200:
        token = db.session.scalar(
            sa.select(ApiToken).where(ApiToken.token_hash == hash_token(plain))
        )
    now = utcnow()
    if token is None:
        g.api_auth_error = "invalid_token"
        return None
    state = token.state(now)
    if state != "active":
        g.api_auth_error = f"{state}_token"
        return None
    user = token.user
    if user is None or not user.active:
        g.api_auth_error = "inactive_user"
        return None
    g.api_token = token
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_STEP:
        db.session.execute(
            sa.update(ApiToken.__table__).where(ApiToken.id == token.id).values(last_used_at=now)
        )
        db.session.commit()
    return user


def load_user_from_request(req):
    """Flask-Login's request loader: a Bearer token, on /api/ addresses only."""
    if not req.path.startswith("/api/"):
        return None
    plain = bearer_token()
    if plain is None:
        return None
    return authenticate(plain)


def current_scope() -> str:
    """The scope of this request: the token's, or "write" for a signed-in browser session
    (whose writes must carry the CSRF token)."""
    token = g.get("api_token")
    return token.scope if token is not None else "write"
