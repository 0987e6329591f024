"""Recovery cases (read) and collection activities (read, create through the activities
service, with its rules: named contacts only, the conduct guard, promises)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from recovery.activities import services as activity_services
from recovery.activities.models import Activity
from recovery.activities.routes import may_see, visible_ids
from recovery.api import access, blueprint
from recovery.api.common import counterparty_by_code, not_found, scope, username_of
from recovery.api.errors import ApiError
from recovery.api.idempotency import IDEMPOTENT, write_once
from recovery.api.pagination import page_of
from recovery.api.schemas import (
    ActivityInput,
    ActivityListArgs,
    ActivitySchema,
    CaseListArgs,
    CaseSchema,
    page_schema,
)
from recovery.cases import queries as case_queries
from recovery.cases.models import RecoveryCase
from recovery.core.permissions import EXECUTIVE, FINANCE, LEGAL, SALES, SUPERVISOR
from recovery.extensions import db
from recovery.ledger import screen_queries

bp = blueprint("api_work", "Recovery cases and collection activities")

READERS = (FINANCE, SALES, SUPERVISOR, LEGAL, EXECUTIVE)
ACTIVITY_WRITERS = (FINANCE, SALES, SUPERVISOR, LEGAL)


def case_json(case: RecoveryCase) -> dict:
    return {
        "id": case.id,
        "number": case.number,
        "counterparty_id": case.counterparty_id,
        "counterparty_code": case.counterparty.code,
        "status": case.status,
        "outcome": case.outcome,
        "cause": case.cause,
        "opened_on": case.opened_on,
        "target_amount": case.target_amount,
        "target_date": case.target_date,
        "assignee": username_of(case.assignee),
    }


@bp.route("/cases", methods=["GET"])
@access(*READERS)
@bp.arguments(CaseListArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(CaseSchema))
def cases(page, per_page, status="active", counterparty_id=None):
    """Cases, newest first (a sales user: those they work)."""
    case_filter = case_queries.CaseFilter(
        status=status, counterparty_id=counterparty_id, visible_to=scope()
    )
    query = case_queries.case_list_query(case_filter).options(
        selectinload(RecoveryCase.counterparty), selectinload(RecoveryCase.assignee)
    )
    rows, paging = page_of(query, page, per_page)
    return {"data": [case_json(c) for c in rows], "pagination": paging}


@bp.route("/cases/<int:case_id>", methods=["GET"])
@access(*READERS)
@bp.response(200, CaseSchema)
def case(case_id: int):
    """One case."""
    found = db.session.get(RecoveryCase, case_id)
    user_id = scope()
    if found is None or (
        user_id is not None
        and found.assignee_id != user_id
        and not screen_queries.counterparty_visible(found.counterparty_id, user_id)
    ):
        raise not_found(_("No case has this id."))
    return case_json(found)


def activity_json(activity: Activity) -> dict:
    return {
        "id": activity.id,
        "counterparty_id": activity.counterparty_id,
        "counterparty_code": activity.counterparty.code,
        "case_id": activity.case_id,
        "kind": activity.kind,
        "occurred_at": activity_services.utc_to_local(activity.occurred_at).isoformat(),
        "user": activity.user.username,
        "contact_id": activity.contact_id,
        "connected": activity.connected,
        "summary": activity.summary,
        "outcome": activity.outcome,
        "next_step": activity.next_step,
        "next_step_on": activity.next_step_on,
        "interrupts_limitation": activity.interrupts_limitation,
        "review_status": activity.review_status,
        "conduct_warning": activity.conduct_warning,
    }


@bp.route("/activities", methods=["GET"])
@access(*READERS)
@bp.arguments(ActivityListArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(ActivitySchema))
def activities(page, per_page, counterparty_id=None, case_id=None):
    """Activities, newest first (a sales user: those of counterparties they may see)."""
    query = sa.select(Activity).options(
        selectinload(Activity.counterparty), selectinload(Activity.user)
    )
    visible = visible_ids()
    if visible is not None:
        query = query.where(Activity.counterparty_id.in_(sa.select(visible.subquery())))
    if counterparty_id:
        query = query.where(Activity.counterparty_id == counterparty_id)
    if case_id:
        query = query.where(Activity.case_id == case_id)
    query = query.order_by(Activity.occurred_at.desc(), Activity.id.desc())
    rows, paging = page_of(query, page, per_page)
    return {"data": [activity_json(a) for a in rows], "pagination": paging}


@bp.route("/activities/<int:activity_id>", methods=["GET"])
@access(*READERS)
@bp.response(200, ActivitySchema)
def activity(activity_id: int):
    """One activity."""
    found = db.session.get(Activity, activity_id)
    if found is None or not may_see(found.counterparty_id):
        raise not_found(_("No activity has this id."))
    return activity_json(found)


@bp.route("/activities", methods=["POST"])
@access(*ACTIVITY_WRITERS, write=True)
@bp.doc(**IDEMPOTENT)
@bp.arguments(ActivityInput)
@bp.response(201, ActivitySchema)
def activity_create(data):
    """Log an activity (the web's rules apply: a named contact, the conduct guard — send
    conduct_override_reason to go ahead despite a warning —, an optional promise to pay)."""
    counterparty = counterparty_by_code(data["counterparty_code"])
    if counterparty is None or not may_see(counterparty.id):
        raise ApiError(
            422, details={"fields": {"counterparty_code": [_("No counterparty has this code.")]}}
        )
    values = activity_services.ActivityInput(
        counterparty_id=counterparty.id,
        case_id=data.get("case_id"),
        kind=data["kind"],
        occurred_at=data["occurred_at"],
        summary=data["summary"],
        contact_id=data.get("contact_id"),
        connected=data.get("connected", True),
        outcome=data.get("outcome"),
        next_step=data.get("next_step"),
        next_step_on=data.get("next_step_on"),
        proof_of_arrival=data.get("proof_of_arrival"),
        debtor_acknowledged=data.get("debtor_acknowledged", False),
        conduct_override_reason=data.get("conduct_override_reason"),
        promise_amount=data.get("promise_amount"),
        promise_due_on=data.get("promise_due_on"),
        promise_note=data.get("promise_note"),
    )

    def write():
        try:
            created = activity_services.record_activity(values, actor=current_user)
        except activity_services.ConductWarning as warning:
            db.session.rollback()
            raise ApiError(
                409,
                _("The activity breaks a conduct rule: give conduct_override_reason to go on."),
                code="conduct_warning",
                details={"warnings": [str(w) for w in warning.warnings]},
            ) from None
        except activity_services.ActivityError as error:
            db.session.rollback()
            raise ApiError(
                422, details={"fields": {error.field or "summary": [str(error.message)]}}
            ) from None
        return ActivitySchema().dump(activity_json(created)), 201

    return write_once(write)
