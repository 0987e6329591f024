"""Deterministic demo data: the company of the policies and one user per role."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from recovery.auth import services as auth
from recovery.auth.models import User
from recovery.extensions import db

COMPANY = "示例集团有限公司"
# (name, kind) under the company, as named in the policies.
DEPARTMENTS = (
    ("营销一部", "department"),
    ("营销二部", "department"),
    ("工程公司", "subsidiary"),
    ("华东子公司", "subsidiary"),
    ("财务部", "department"),
    ("法务部", "department"),
    ("清欠小组", "department"),
)
# (username, full name, roles, department)
USERS = (
    ("finance", "王芳", ("finance",), "财务部"),
    ("sales", "李强", ("sales",), "营销一部"),
    ("supervisor", "张伟", ("supervisor",), "清欠小组"),
    ("legal", "刘洋", ("legal",), "法务部"),
    ("executive", "陈明", ("executive",), COMPANY),
    ("admin", "系统管理员", ("admin",), COMPANY),
)


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    roles: tuple[str, ...]


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def load_organisation() -> list[DemoLogin]:
    """Create the company, its departments and the demo users; skip what exists."""
    company = auth.find_department(COMPANY) or auth.create_department(COMPANY, "company", None)
    for name, kind in DEPARTMENTS:
        if auth.find_department(name) is None:
            auth.create_department(name, kind, company)
    logins = []
    for username, full_name, roles, department in USERS:
        if auth.find_user(username) is None:
            auth.create_user(
                username,
                demo_password(username),
                roles,
                display_name=full_name,
                department=auth.find_department(department),
            )
        logins.append(DemoLogin(username, demo_password(username), roles))
    return logins


def extra_logins() -> list[DemoLogin]:
    """The demo ledger's extra sales users (one or two per sales department), the
    collectors of the collection team and the second executive, where present."""
    from recovery.demo.executive import SECOND_EXECUTIVE
    from recovery.demo.ledger import EXTRA_SALES_USERS
    from recovery.demo.recovery import COLLECTORS

    users = [(username, ("sales",)) for username, _name, _department in EXTRA_SALES_USERS]
    users += [(username, ("sales",)) for username, _name in COLLECTORS]
    users.append((SECOND_EXECUTIVE[0], ("executive",)))
    return [
        DemoLogin(username, demo_password(username), roles)
        for username, roles in users
        if auth.find_user(username) is not None
    ]
