"""Home pages per role: finance sees the ledger's summary; sales people and supervisors start
on their worklist (我的待办) and the team's; later issues fill the others with dashboards."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from recovery.core.permissions import (
    ADMIN,
    EXECUTIVE,
    FINANCE,
    LEGAL,
    SALES,
    SUPERVISOR,
    roles_required,
    signed_in,
)
from recovery.ledger import rules, screen_queries
from recovery.ledger.routes import company_today, install_template_helpers
from recovery.main import navigation

bp = Blueprint("main", __name__)
# The home pages show amounts: the ledger's template helpers (money filter, labels).
install_template_helpers(bp)

# The page each role starts on, in the order a multi-role user is sent to them.
HOME_ENDPOINTS = (
    (EXECUTIVE, "dashboard.index"),
    (SUPERVISOR, "worklist.team"),
    (SALES, "worklist.index"),
    (FINANCE, "main.finance_home"),
    (LEGAL, "legal.index"),
    (ADMIN, "admin.users"),
)


@bp.app_context_processor
def navigation_items():
    from recovery.core.web import can_use

    return {"nav_items": navigation.items_for(can_use)}


@bp.route("/")
@signed_in
def index():
    for role, endpoint in HOME_ENDPOINTS:
        if current_user.has_role(role):
            return redirect(url_for(endpoint))
    return render_template("main/home.html", role=None)


@bp.route("/home/finance")
@roles_required(FINANCE)
def finance_home():
    """The ledger as of today: open items, outstanding by bucket, what awaits approval."""
    as_of = company_today()
    item_filter = screen_queries.ScreenFilter(open_only=True)
    return render_template(
        "ledger/finance_home.html",
        as_of=as_of,
        totals=screen_queries.totals(as_of, item_filter),
        pending=screen_queries.pending_adjustment_count(),
        bucket_links={
            bucket: url_for("ledger.index", as_of=as_of.isoformat(), bucket=bucket)
            for bucket in rules.DUE_BUCKETS
        },
    )


@bp.route("/home/sales")
@roles_required(SALES)
def sales_home():
    """The sales user's own counterparties with their balances as of today ("My accounts";
    the home page is the worklist)."""
    as_of = company_today()
    page = screen_queries.counterparty_page(
        as_of, visible_to=current_user.id, page=request.args.get("page", 1, type=int)
    )
    return render_template("parties/my_accounts.html", page=page, as_of=as_of)


@bp.route("/home/supervisor")
@roles_required(SUPERVISOR)
def supervisor_home():
    """The supervisor's home is the team worklist (kept for old bookmarks)."""
    return redirect(url_for("worklist.team"))


@bp.route("/home/legal")
@roles_required(LEGAL)
def legal_home():
    """Legal's home is its page of referrals and lawsuits (kept for old bookmarks)."""
    return redirect(url_for("legal.index"))


@bp.route("/home/executive")
@roles_required(EXECUTIVE)
def executive_home():
    """The executive's home is the dashboard (issue 6); kept for old bookmarks."""
    return redirect(url_for("dashboard.index", **request.args))
