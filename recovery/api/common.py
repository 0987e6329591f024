"""Helpers shared by the API's resource modules: the as-of date, the user's scope, lookups."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user

from recovery.api.errors import ApiError
from recovery.auth.models import User
from recovery.extensions import db
from recovery.ledger import queries
from recovery.parties.models import Counterparty


def today() -> date:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(zone).date()


def as_of(args) -> date:
    return args.get("as_of") or today()


def scope() -> int | None:
    """None for users who read the whole ledger, else the sales user's id (the web's rule)."""
    return queries.scope_user_id(current_user)


def not_found(what: str | None = None) -> ApiError:
    return ApiError(404, what or _("There is nothing at this address."))


def username_of(user: User | None) -> str | None:
    return user.username if user is not None else None


def counterparty_by_code(code: str) -> Counterparty | None:
    return db.session.scalar(sa.select(Counterparty).where(Counterparty.code == code.strip()))


def user_by_username(username: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(User.username == username.strip().lower(), User.active.is_(True))
    )


def field_errors(errors: dict[str, str]) -> ApiError:
    return ApiError(422, details={"fields": {k: [str(v)] for k, v in errors.items()}})
