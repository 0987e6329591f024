"""The worklist's limitation signs kept per counterparty (recovery/limitation/kept.py): the
kept answer is the full rule's; it is read back, not recomputed, while nothing moved; every
kind of write that can move a period clears its counterparty's sign in the writing
transaction; a sign computed before a write is never kept over it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.limitation import kept
from recovery.limitation.models import LimitationSign
from tests.limitation import test_counts_agree as counts
from tests.limitation.conftest import L

AS_OF, WITHIN, reference_earliest = counts.AS_OF, counts.WITHIN, counts.reference_earliest
DAY = timedelta(days=1)


@pytest.fixture
def committed(scene):
    """The scene of test_counts_agree, committed: its writes have cleared their signs."""
    db.session.commit()
    return scene


scene = counts.scene  # the fixture, shared


def _everyone() -> list[int]:
    from recovery.parties.models import Counterparty

    return list(db.session.scalars(sa.select(Counterparty.id)))


def _rows() -> dict[int, tuple]:
    db.session.expire_all()
    return {
        row.counterparty_id: (row.version, row.evaluated_on, row.earliest_expiry, row.evaluated_at)
        for row in db.session.scalars(sa.select(LimitationSign))
    }


def _cp(code: str):
    from recovery.parties.models import Counterparty

    return db.session.scalar(sa.select(Counterparty).where(Counterparty.code == code))


def test_kept_signs_are_the_rules_and_are_read_back(lim, committed):
    lim.counterparty("NO-ROW-YET")  # no write has touched it: it has no row at all
    db.session.commit()
    everyone = _everyone()
    assert _cp("NO-ROW-YET").id not in _rows()
    first = kept.earliest_warned(AS_OF, WITHIN, everyone)
    assert first == reference_earliest(AS_OF, WITHIN)
    rows = _rows()
    assert set(rows) == set(everyone)
    assert {cp: row[2] for cp, row in rows.items() if row[2]} == first
    assert {row[1] for row in rows.values()} == {AS_OF}
    # Read back: the same answer, the rows untouched (not computed again).
    assert kept.earliest_warned(AS_OF, WITHIN, everyone) == first
    assert _rows() == rows
    # Another day or another window: computed again, by the rule.
    later = AS_OF + 25 * DAY
    assert kept.earliest_warned(later, WITHIN, everyone) == reference_earliest(later, WITHIN)
    assert kept.earliest_warned(later, 30, everyone) == reference_earliest(later, 30)
    assert {row[1] for row in _rows().values()} == {later}


def _write_activity(lim, cp):
    sales = lim.user("writer1")
    lim.activity(
        cp, sales, L(2025, 6, 2, 10), kind="visit", interrupts_limitation=True, summary="visit"
    )


def _write_promise(lim, cp):
    lim.promise(cp, lim.user("writer2"), 10, AS_OF - 20 * DAY, AS_OF)


def _write_receipt(lim, cp):
    lim.receipt(cp, Decimal("1.00"), AS_OF - 3 * DAY)


def _write_item(lim, cp):
    lim.item(cp, Decimal("10.00"), date(2022, 1, 1), date(2022, 1, 31))


def _write_event(lim, cp):
    from recovery.ledger.models import Item

    item = db.session.scalar(sa.select(Item).where(Item.counterparty_id == cp.id))
    lim.event(item, "acknowledgement", AS_OF - 2 * DAY, lim.user("writer3"))


def _write_suit_step(lim, cp):
    from recovery.legal.models import Lawsuit

    suit = db.session.scalar(sa.select(Lawsuit).where(Lawsuit.counterparty_id == cp.id))
    suit.judgment_effective_on = AS_OF - 400 * DAY


def _write_installments(lim, cp):
    from recovery.parties.models import Contract

    contract = db.session.scalar(sa.select(Contract).where(Contract.counterparty_id == cp.id))
    contract.installments = not contract.installments


WRITES = {
    "an interrupting activity": ("PLAIN", _write_activity),
    "a promise": ("UNPROVEN", _write_promise),
    "a receipt": ("PAID", _write_receipt),
    "an item": ("LETTER-ON-T", _write_item),
    "an event recorded on an item": ("RECORDED", _write_event),
    "a suit's judgment": ("SUED", _write_suit_step),
    "an installments contract": ("INSTALL", _write_installments),
}


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_each_kind_of_write_clears_its_counterpartys_sign(lim, committed, kind):
    code, write = WRITES[kind]
    everyone = _everyone()
    kept.earliest_warned(AS_OF, WITHIN, everyone)
    before = _rows()
    cp = _cp(code)
    write(lim, cp)
    db.session.commit()
    after = _rows()
    assert after[cp.id][0] == before[cp.id][0] + 1, kind
    assert after[cp.id][1] is None, kind
    others = {k: v for k, v in after.items() if k != cp.id}
    assert others == {k: v for k, v in before.items() if k != cp.id}, kind
    # The next read computes it again, by the rule.
    assert kept.earliest_warned(AS_OF, WITHIN, everyone) == reference_earliest(AS_OF, WITHIN)
    assert _rows()[cp.id][1] == AS_OF


def test_a_sign_computed_before_a_write_is_not_kept_over_it(lim, committed):
    cp = _cp("PLAIN")
    kept.invalidate([cp.id])
    db.session.commit()
    version = _rows()[cp.id][0]
    computed = {cp.id: AS_OF}
    # A write commits between the reader's read of the version and its write-back.
    kept.invalidate([cp.id])
    db.session.commit()
    kept._keep(AS_OF, kept.basis(WITHIN), {cp.id: version}, computed)
    row = _rows()[cp.id]
    assert (row[0], row[1]) == (version + 1, None)
    # A reader that never saw a row does not overwrite one a writer made meanwhile.
    newcomer = lim.counterparty("NEWCOMER")
    db.session.commit()
    kept.invalidate([newcomer.id])
    db.session.commit()
    kept._keep(AS_OF, kept.basis(WITHIN), {newcomer.id: None}, {newcomer.id: AS_OF})
    assert _rows()[newcomer.id][1] is None


def test_the_worklist_reads_the_kept_signs(lim, committed):
    """The worklist page keeps its accounts' signs and shows the same lines either way."""
    from recovery.worklist import queries as wq

    sales = lim.user("owner", "sales")
    for code in ("PLAIN", "LETTER-ON-T", "SUED-JUDGED", "PROMISED"):
        _cp(code).responsible_id = sales.id
    db.session.commit()
    now = L(AS_OF.year, AS_OF.month, AS_OF.day, 9)
    owned = [_cp(code).id for code in ("PLAIN", "LETTER-ON-T", "SUED-JUDGED", "PROMISED")]
    expected = {cp: d for cp, d in reference_earliest(AS_OF, 180).items() if cp in owned}
    first = wq.worklist_page([sales.id], AS_OF, now, approver=sales)
    assert {ln.counterparty_id: ln.limitation_on for ln in first.items if ln.limitation_on} == (
        expected
    )
    assert set(owned) <= set(_rows())
    again = wq.worklist_page([sales.id], AS_OF, now, approver=sales)
    assert [(ln.counterparty_id, ln.limitation_on) for ln in again.items] == [
        (ln.counterparty_id, ln.limitation_on) for ln in first.items
    ]


def test_the_worklist_page_shows_the_kept_signs_and_a_write_moves_them(lim, committed, client):
    """Through the browser's route: the signs the page shows are the rule's for today, kept
    by the first visit; a visit logged with proof of a demand clears one and the next visit
    shows the new end."""
    from recovery.credit.services import company_today
    from tests.conftest import login

    sales = lim.user("owner2", "sales")
    codes = ("PLAIN", "LETTER-ON-T", "VISIT", "PROMISED")
    for code in codes:
        _cp(code).responsible_id = sales.id
    db.session.commit()
    today = company_today()
    owned = {_cp(code).id for code in codes}

    def shown() -> list[str]:
        html = client.get("/worklist/").get_data(as_text=True)
        return sorted(
            line.split("</span>")[1].strip() for line in html.split('data-reason="limitation">')[1:]
        )

    def expected() -> list[str]:
        rule = {cp: d for cp, d in reference_earliest(today, 180).items() if cp in owned}
        return sorted(d.isoformat() for d in rule.values())

    login(client, "owner2")
    before = expected()
    assert before and all(any(day in text for text in shown()) for day in before)
    assert {cp for cp, row in _rows().items() if row[1] == today} >= owned
    # An acknowledgement (a visit) today restarts PLAIN's periods: its sign goes.
    plain = _cp("PLAIN")
    lim.activity(
        plain,
        sales,
        L(today.year, today.month, today.day, 9),
        kind="visit",
        interrupts_limitation=True,
        summary="visit",
    )
    db.session.commit()
    assert _rows()[plain.id][1] is None
    after = expected()
    assert after != before
    page = shown()
    assert len(page) == len(after) and all(any(day in text for text in page) for day in after)


def test_the_daily_command_keeps_every_sign_once(lim, committed, runner):
    """`flask limitation keep-signs`: every counterparty's sign kept for the day, the rule's;
    a second run the same day computes none and leaves the rows as they are."""
    everyone = _everyone()
    args = ["limitation", "keep-signs", "--as-of", AS_OF.isoformat()]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert f"{len(everyone)} counterparties, {len(everyone)} sign(s) computed" in result.output
    rows = _rows()
    assert set(rows) == set(everyone)
    assert {row[1] for row in rows.values()} == {AS_OF}
    assert {cp: row[2] for cp, row in rows.items() if row[2]} == reference_earliest(AS_OF, WITHIN)
    again = runner.invoke(args=args)
    assert f"{len(everyone)} counterparties, 0 sign(s) computed" in again.output
    assert _rows() == rows
    # In small chunks, for another day: the same as the rule, all of them computed.
    later = AS_OF + 40 * DAY
    assert kept.keep_all(later, WITHIN, chunk=3) == (len(everyone), len(everyone))
    rows = _rows()
    assert {row[1] for row in rows.values()} == {later}
    assert {cp: row[2] for cp, row in rows.items() if row[2]} == reference_earliest(later, WITHIN)
