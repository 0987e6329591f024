"""Retention (篇三): counterparties are closed and archived, never deleted in normal use; the
purge removes only what is past the retention period after the agreement ended."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from recovery.audit.models import AuditLog
from recovery.auth.models import User
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.parties import services as parties
from recovery.parties.models import Contact, Counterparty, RetentionPurge
from recovery.retention import services as retention
from tests.conftest import login

AS_OF = date(2032, 1, 1)


def make_cp(code, items=(), receipts=()):
    cp = parties.save_counterparty(code=code, name=f"客户{code}", kind="customer")
    parties.save_contact(counterparty_id=cp.id, name="张三", phone="13800000000")
    for n, (amount, day) in enumerate(items):
        ledger.create_item(
            document_no=f"{code}-I{n}",
            counterparty_id=cp.id,
            amount=Decimal(amount),
            recognized_on=day,
            due_on=day,
            item_type="goods",
        )
    for n, (amount, day) in enumerate(receipts):
        ledger.create_receipt(
            receipt_no=f"{code}-R{n}",
            counterparty_id=cp.id,
            amount=Decimal(amount),
            received_on=day,
            method="transfer",
        )
    db.session.flush()
    return cp


def counts() -> dict:
    tables = ("counterparties", "items", "receipts", "applications", "contacts", "audit_log")
    return {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables[name]))
        for name in tables
    }


def build_world(app, user_id):
    """OLD: archived, agreement ended 2026 -> purged by 2032. RECENT: archived, paid in 2027
    -> kept until 2032-06. LIVE: not archived. REOPENED: archived, then an item was added."""
    with app.app_context():
        user = db.session.get(User, user_id)
        old = make_cp("OLD", [("100.00", date(2019, 5, 1))], [("100.00", date(2019, 6, 1))])
        retention.archive(old, reason="业务终止", actor=user, closed_on=date(2019, 7, 1))
        recent = make_cp("RECENT", [("50.00", date(2027, 6, 1))], [("50.00", date(2027, 6, 1))])
        retention.archive(recent, reason="业务终止", actor=user, closed_on=date(2026, 1, 1))
        make_cp("LIVE", [("70.00", date(2020, 1, 1))])
        reopened = make_cp("REOPENED")
        retention.archive(reopened, reason="业务终止", actor=user, closed_on=date(2020, 1, 1))
        ledger.create_item(
            document_no="REOPENED-I9",
            counterparty_id=reopened.id,
            amount=Decimal("9.00"),
            recognized_on=date(2020, 2, 1),
            due_on=date(2020, 3, 1),
            item_type="goods",
        )
        db.session.commit()


def test_archive_is_refused_while_something_is_open_and_keeps_what_was_typed(
    app, client, make_user
):
    make_user("fin", "finance")
    login(client, "fin")
    with app.app_context():
        cp = make_cp("OPEN", [("100.00", date(2026, 1, 1))])
        db.session.commit()
        cp_id = cp.id
    page = client.post(
        f"/parties/counterparties/{cp_id}/archive",
        data={"closed_on": "2026-11-01", "reason": "客户注销"},
    )
    html = page.get_data(as_text=True)
    assert (
        page.status_code == 200 and "客户注销" in html and 'data-testid="archive-blockers"' in html
    )
    with app.app_context():
        assert db.session.get(Counterparty, cp_id).archived_at is None
        ledger.create_receipt(
            receipt_no="OPEN-R1",
            counterparty_id=cp_id,
            amount=Decimal("100.00"),
            received_on=date(2026, 2, 1),
            method="transfer",
        )
        db.session.commit()
    page = client.post(
        f"/parties/counterparties/{cp_id}/archive",
        data={"closed_on": "2026-11-01", "reason": "客户注销"},
    )
    assert page.status_code == 302
    with app.app_context():
        cp = db.session.get(Counterparty, cp_id)
        assert cp.archived_at is not None and cp.closed_on == date(2026, 11, 1)
        assert cp.archive_reason == "客户注销" and not cp.active
        assert db.session.scalar(
            sa.select(sa.func.count(AuditLog.id)).where(
                AuditLog.table_name == "counterparties", AuditLog.action == "update"
            )
        )
    html = client.get(f"/parties/counterparties/{cp_id}").get_data(as_text=True)
    assert 'data-testid="archived"' in html and "archive-link" not in html
    assert 'data-testid="restore"' in html

    assert client.post(f"/parties/counterparties/{cp_id}/restore").status_code == 302
    with app.app_context():
        cp = db.session.get(Counterparty, cp_id)
        assert cp.archived_at is None and cp.active and cp.archive_reason is None


def test_sales_may_not_archive(app, client, make_user):
    make_user("sal", "sales")
    login(client, "sal")
    with app.app_context():
        cp_id = make_cp("X").id
        db.session.commit()
    assert client.post(f"/parties/counterparties/{cp_id}/archive").status_code in (403, 404)


def test_unapplied_credit_blocks_archiving(app, make_user):
    user = make_user("fin", "finance")
    with app.app_context():
        cp = make_cp("CREDIT", [], [("10.00", date(2026, 1, 1))])
        reasons = retention.open_reasons(cp.id)
        assert len(reasons) == 1
        try:
            retention.archive(cp, reason="x", actor=db.session.get(User, user.id), closed_on=AS_OF)
        except retention.RetentionError:
            pass
        else:
            raise AssertionError("archived with money unapplied")


def test_dry_run_lists_and_refuses_with_reasons_and_changes_nothing(app, runner, make_user):
    user = make_user("fin", "finance")
    build_world(app, user.id)
    with app.app_context():
        before = counts()
    result = runner.invoke(args=["retention", "purge", "--as-of", "2032-01-01", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "would remove: OLD" in out and "dry run" in out
    assert "refused: RECENT" in out and "kept until 2032-06-01" in out
    assert "refused: LIVE" in out and "not closed and archived" in out
    assert "refused: REOPENED" in out and "still open" in out
    with app.app_context():
        assert counts() == before
        assert db.session.scalar(sa.select(sa.func.count(RetentionPurge.id))) == 0


def test_purge_removes_exactly_the_eligible_rows_and_the_audit_still_verifies(
    app, runner, make_user
):
    user = make_user("fin", "finance")
    build_world(app, user.id)
    with app.app_context():
        before = counts()
        old_id = db.session.scalar(sa.select(Counterparty.id).where(Counterparty.code == "OLD"))
    result = runner.invoke(args=["retention", "purge", "--as-of", "2032-01-01"])
    assert result.exit_code == 0, result.output
    assert "removed: OLD" in result.output and "recorded as purge #" in result.output
    with app.app_context():
        after = counts()
        assert after["counterparties"] == before["counterparties"] - 1
        assert after["items"] == before["items"] - 1
        assert after["receipts"] == before["receipts"] - 1
        assert after["applications"] == before["applications"] - 1
        assert after["contacts"] == before["contacts"] - 1
        assert db.session.get(Counterparty, old_id) is None
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Contact.id)).where(Contact.counterparty_id == old_id)
            )
            == 0
        )
        codes = set(db.session.scalars(sa.select(Counterparty.code)))
        assert codes == {"RECENT", "LIVE", "REOPENED"}
        purge = db.session.scalar(sa.select(RetentionPurge))
        assert purge.counterparties == 1 and purge.rows == 5 and purge.as_of == AS_OF
        deletions = db.session.scalars(
            sa.select(AuditLog.table_name).where(
                AuditLog.action == "delete", AuditLog.changes.contains("retention_purge")
            )
        ).all()
        assert sorted(deletions) == sorted(
            ["counterparties", "items", "receipts", "applications", "contacts"]
        )
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "intact" in verify.output
    # Run again: nothing left to remove.
    again = runner.invoke(args=["retention", "purge", "--as-of", "2032-01-01"])
    assert "removed 0 counterparty(ies)" in again.output


def test_a_counterparty_whose_records_others_share_is_refused(app, runner, make_user):
    """EMP is archived and past its period, but it is the employer of a project that carries
    another (kept) counterparty's item: removing the project would remove that item."""
    user = make_user("fin", "finance")
    with app.app_context():
        emp = make_cp("EMP")
        project = parties.save_project(code="P1", name="工程一", employer_id=emp.id)
        other = make_cp("SUB")
        ledger.create_item(
            document_no="SUB-I1",
            counterparty_id=other.id,
            project_id=project.id,
            amount=Decimal("5.00"),
            recognized_on=date(2020, 1, 1),
            due_on=date(2020, 2, 1),
            item_type="goods",
        )
        retention.archive(emp, reason="业务终止", actor=db.session.get(User, user.id),
                          closed_on=date(2020, 1, 1))  # fmt: skip
        db.session.commit()
        before = counts()
    result = runner.invoke(args=["retention", "purge", "--as-of", "2032-01-01"])
    assert result.exit_code == 0, result.output
    assert "refused: EMP" in result.output and "shared with counterparties that are kept" in (
        result.output
    )
    assert "items" in result.output.split("refused: EMP", 1)[1].splitlines()[0]
    with app.app_context():
        assert counts() == before


def test_archived_counterparties_are_hidden_from_the_list_unless_asked_for(app, client, make_user):
    finance = make_user("fin_list", "finance")
    with app.app_context():
        user = db.session.get(User, finance.id)
        gone = make_cp("GONE")
        retention.archive(gone, reason="业务终止", actor=user, closed_on=date(2025, 1, 1))
        make_cp("HERE")
        db.session.commit()
    login(client, "fin_list")

    def listed(query: str) -> set[str]:
        html = client.get(f"/parties/counterparties{query}").get_data(as_text=True)
        return {code for code in ("GONE", "HERE") if f">{code}<" in html}

    assert listed("") == {"HERE"}
    assert listed("?archived=archived") == {"GONE"}
    assert listed("?archived=all") == {"GONE", "HERE"}
    assert listed("?archived=nonsense") == {"HERE"}
