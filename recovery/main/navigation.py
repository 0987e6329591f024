"""The navigation bar: one list, filtered by the same permission declarations as the routes."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class NavItem:
    label: object
    endpoint: str
    group: object | None = None  # items sharing a group render as one dropdown


ITEMS: tuple[NavItem, ...] = (
    NavItem(_l("Overview"), "main.finance_home"),
    NavItem(_l("My accounts"), "main.sales_home"),
    NavItem(_l("Team"), "main.supervisor_home"),
    NavItem(_l("Referrals"), "main.legal_home"),
    NavItem(_l("Dashboard"), "main.executive_home"),
    NavItem(_l("Ledger"), "ledger.index"),
    NavItem(_l("Aging"), "ledger.aging"),
    NavItem(_l("Counterparties"), "parties.counterparties"),
    NavItem(_l("Import"), "imports.upload"),
    NavItem(_l("Audit trail"), "audit.index"),
    NavItem(_l("Users"), "admin.users", group=_l("Administration")),
    NavItem(_l("Departments"), "admin.departments", group=_l("Administration")),
    NavItem(_l("Login attempts"), "admin.login_attempts", group=_l("Administration")),
    NavItem(_l("Settings"), "settings.edit", group=_l("Administration")),
)


def items_for(can) -> list[NavItem]:
    return [item for item in ITEMS if can(item.endpoint)]
