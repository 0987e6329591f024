"""Users, roles, departments and sign-in: every write goes through here (web and CLI alike)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from recovery.auth.models import Department, LoginAttempt, User, UserRole
from recovery.core.permissions import ROLES
from recovery.core.timeutil import utcnow
from recovery.extensions import db

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LANGUAGES = ("zh_CN", "en")


class AuthError(ValueError):
    """A refused user or department change; ``field`` names the form field at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def _hash(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def check_password_rules(password: str, username: str | None = None) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AuthError(
            _l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH), field="password"
        )
    if username and password.strip().lower() == username:
        raise AuthError(_l("The password must differ from the username."), field="password")


def _check_roles(roles) -> list[str]:
    roles = sorted(set(roles or []))
    if not roles:
        raise AuthError(_l("Choose at least one role."), field="roles")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise AuthError(_l("Unknown role: %(role)s", role=", ".join(unknown)), field="roles")
    return roles


def _set_roles(user: User, roles: list[str]) -> None:
    wanted = set(roles)
    for link in list(user.roles):
        if link.role not in wanted:
            user.roles.remove(link)
    present = user.role_set
    for role in sorted(wanted - present):
        user.roles.append(UserRole(role=role))


def find_user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == normalise_username(username)))


def find_department(name: str) -> Department | None:
    return db.session.scalar(sa.select(Department).where(Department.name == name.strip()))


def create_user(
    username: str,
    password: str,
    roles,
    *,
    display_name: str | None = None,
    email: str | None = None,
    department: Department | None = None,
    language: str | None = None,
) -> User:
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise AuthError(
            _l("2–64 characters: lower-case letters, digits, dot, dash, underscore."),
            field="username",
        )
    if find_user(username) is not None:
        raise AuthError(_l("This username is taken."), field="username")
    check_password_rules(password, username)
    roles = _check_roles(roles)
    if language is not None and language not in LANGUAGES:
        raise AuthError(_l("Unknown language."), field="language")
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        email=(email or None),
        password_hash=_hash(password),
        department=department,
        language=language,
    )
    _set_roles(user, roles)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    display_name: str,
    email: str | None,
    roles,
    department: Department | None,
    language: str | None,
    active: bool,
    acting_user: User | None = None,
) -> User:
    roles = _check_roles(roles)
    if language is not None and language not in LANGUAGES:
        raise AuthError(_l("Unknown language."), field="language")
    if acting_user is not None and acting_user.id == user.id:
        if not active:
            raise AuthError(_l("You cannot disable your own account."), field="active")
        if "admin" not in roles:
            raise AuthError(_l("You cannot remove your own administrator role."), field="roles")
    if not active and user.active:
        user.session_version += 1  # every open session of this user ends now
    user.display_name = display_name.strip() or user.username
    user.email = email or None
    user.department = department
    user.language = language
    user.active = active
    _set_roles(user, roles)
    db.session.flush()
    return user


def set_password(user: User, new_password: str) -> None:
    check_password_rules(new_password, user.username)
    user.password_hash = _hash(new_password)
    user.session_version += 1
    db.session.flush()


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password or ""):
        raise AuthError(_l("The current password is wrong."), field="current_password")
    if current_password == new_password:
        raise AuthError(_l("Choose a password different from the current one."), field="password")
    set_password(user, new_password)


def unlock(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()


def set_language(user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise AuthError(_l("Unknown language."), field="language")
    user.language = language
    db.session.flush()


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    outcome: str  # success | bad_password | locked | disabled

    @property
    def ok(self) -> bool:
        return self.outcome == "success"


# A real hash to compare against when the username does not exist, so that both paths
# take the same time and give the same answer.
_DUMMY_HASH: dict[str, str] = {}


def _dummy_check(password: str) -> None:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash("not-a-password", method=method)
    check_password_hash(_DUMMY_HASH[method], password or "")


def _recent_failures(username: str, now) -> int:
    since = now - timedelta(minutes=LOCK_MINUTES)
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == username,
            LoginAttempt.at > since,
            LoginAttempt.outcome == "bad_password",
        )
    )


def authenticate(username: str, password: str, ip: str | None) -> LoginResult:
    """Check a sign-in; record the attempt; lock after five wrong passwords for 15 minutes.

    An unknown username behaves like a known one (same message, same lock after five
    tries), so the answer never tells whether a user exists.
    """
    name = normalise_username(username)[:64]
    now = utcnow()
    user = find_user(name)
    answer = None  # what the user is told, when it differs from what is recorded
    if user is None:
        if _recent_failures(name, now) >= MAX_FAILED_LOGINS:
            recorded = "locked"
        else:
            _dummy_check(password)
            recorded = "bad_password"
            if _recent_failures(name, now) + 1 >= MAX_FAILED_LOGINS:
                answer = "locked"
    elif user.is_locked(now):
        recorded = "locked"
    elif not check_password_hash(user.password_hash, password or ""):
        recorded = "bad_password"
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            answer = "locked"
    elif not user.active:
        recorded = "disabled"
    else:
        recorded = "success"
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
    db.session.add(LoginAttempt(username=name, user=user, ip=ip, outcome=recorded, at=now))
    db.session.flush()
    return LoginResult(user if recorded == "success" else None, answer or recorded)


def create_department(name: str, kind: str, parent: Department | None) -> Department:
    department = Department()
    _apply_department(department, name, kind, parent)
    db.session.add(department)
    db.session.flush()
    return department


def update_department(
    department: Department, name: str, kind: str, parent: Department | None, active: bool
) -> Department:
    _apply_department(department, name, kind, parent)
    department.active = active
    db.session.flush()
    return department


def _apply_department(department: Department, name: str, kind: str, parent) -> None:
    name = (name or "").strip()
    if not name:
        raise AuthError(_l("A name is required."), field="name")
    existing = find_department(name)
    if existing is not None and existing is not department:
        raise AuthError(_l("A department with this name exists."), field="name")
    if kind not in ("company", "department", "subsidiary"):
        raise AuthError(_l("Unknown kind."), field="kind")
    if kind == "company" and parent is not None:
        raise AuthError(_l("A company is the top of its tree and has no parent."), field="parent")
    if kind != "company" and parent is None:
        raise AuthError(_l("Departments and subsidiaries belong to a parent."), field="parent")
    node = parent
    while node is not None:
        if node is department:
            raise AuthError(_l("A department cannot sit under itself."), field="parent")
        node = node.parent
    department.name = name
    department.kind = kind
    department.parent = parent
