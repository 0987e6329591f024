"""Home pages per role. Later issues fill them with the ledger, worklists and dashboards."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
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
from recovery.main import navigation

bp = Blueprint("main", __name__)

# The page each role starts on, in the order a multi-role user is sent to them.
HOME_ENDPOINTS = (
    (EXECUTIVE, "main.executive_home"),
    (SUPERVISOR, "main.supervisor_home"),
    (SALES, "main.sales_home"),
    (FINANCE, "main.finance_home"),
    (LEGAL, "main.legal_home"),
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
    return render_template("main/home.html", role=FINANCE)


@bp.route("/home/sales")
@roles_required(SALES)
def sales_home():
    return render_template("main/home.html", role=SALES)


@bp.route("/home/supervisor")
@roles_required(SUPERVISOR)
def supervisor_home():
    return render_template("main/home.html", role=SUPERVISOR)


@bp.route("/home/legal")
@roles_required(LEGAL)
def legal_home():
    return render_template("main/home.html", role=LEGAL)


@bp.route("/home/executive")
@roles_required(EXECUTIVE)
def executive_home():
    return render_template("main/home.html", role=EXECUTIVE)
