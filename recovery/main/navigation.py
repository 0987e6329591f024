"""The navigation bar: one list, filtered by the same permission declarations as the routes."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class NavItem:
    label: object
    endpoint: str
    group: object | None = None  # items sharing a group render as one dropdown


RECOVERY = _l("Recovery")
REPORTS = _l("Reports")

# Items whose endpoint is not registered (a part not installed yet) are simply not shown:
# items_for asks can(), which refuses an endpoint it does not know.
ITEMS: tuple[NavItem, ...] = (
    NavItem(_l("Overview"), "main.finance_home"),
    NavItem(_l("My worklist"), "worklist.index"),
    NavItem(_l("Team worklist"), "worklist.team"),
    NavItem(_l("My accounts"), "main.sales_home"),
    NavItem(_l("Referrals and lawsuits"), "legal.index"),
    NavItem(_l("Dashboard"), "dashboard.index"),
    NavItem(_l("Ledger"), "ledger.index"),
    NavItem(_l("Aging"), "ledger.aging"),
    NavItem(_l("Counterparties"), "parties.counterparties"),
    NavItem(_l("Cases"), "cases.index", group=RECOVERY),
    NavItem(_l("Approvals"), "cases.approvals", group=RECOVERY),
    NavItem(_l("Case proposals"), "cases.proposals", group=RECOVERY),
    NavItem(_l("Visit reviews"), "activities.reviews", group=RECOVERY),
    NavItem(_l("Promises"), "activities.promises", group=RECOVERY),
    NavItem(_l("Disputes"), "activities.disputes", group=RECOVERY),
    NavItem(_l("Hand-overs"), "responsibility.handovers", group=RECOVERY),
    NavItem(_l("Limitation"), "limitation.index", group=RECOVERY),
    NavItem(_l("Letters"), "letters.index", group=RECOVERY),
    NavItem(_l("Letter batches"), "letters.batches_index", group=RECOVERY),
    NavItem(_l("Credit holds"), "credit.holds", group=RECOVERY),
    NavItem(_l("Credit exceptions"), "credit.exceptions", group=RECOVERY),
    NavItem(_l("Credit groups"), "credit.groups", group=RECOVERY),
    NavItem(_l("Weekly report"), "worklist.weekly", group=REPORTS),
    NavItem(_l("Monthly report"), "worklist.monthly", group=REPORTS),
    NavItem(_l("Targets"), "targets.index", group=REPORTS),
    NavItem(_l("Rankings"), "targets.rankings", group=REPORTS),
    NavItem(_l("Reward lists"), "targets.lists", group=REPORTS),
    NavItem(_l("Head-office monthly report"), "monthly.index", group=REPORTS),
    NavItem(_l("Provisions"), "provisions.index", group=REPORTS),
    NavItem(_l("Import"), "imports.upload"),
    NavItem(_l("Audit trail"), "audit.index"),
    NavItem(_l("Users"), "admin.users", group=_l("Administration")),
    NavItem(_l("Departments"), "admin.departments", group=_l("Administration")),
    NavItem(_l("Login attempts"), "admin.login_attempts", group=_l("Administration")),
    NavItem(_l("Settings"), "settings.edit", group=_l("Administration")),
)


def items_for(can) -> list[NavItem]:
    return [item for item in ITEMS if can(item.endpoint)]
