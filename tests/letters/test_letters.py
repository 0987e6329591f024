"""Generating letters: the figures printed (read back from the PDF), the level by days overdue,
refusals, the stored file and its SHA-256, the case link, delivery → an interrupting activity,
and the pages."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from flask_babel import force_locale, gettext

from recovery.activities import evidence
from recovery.activities.models import Activity
from recovery.auth.models import User
from recovery.cases.models import RecoveryCase
from recovery.extensions import db
from recovery.letters import services
from recovery.letters.models import Letter
from recovery.parties.models import Counterparty
from recovery.settings.services import update_settings
from tests.ledger.conftest import LedgerBuilder
from tests.letters.conftest import COMPANY, D, flat, pdf_text, render_png, sign_in

LETTER_DATE = D(2025, 5, 11)  # INV-1 (due 2025-01-31) 100 days overdue, INV-4 (03-31) 41


def long_date(day: date) -> str:
    return format_date(day, "long", locale="zh_CN")


def letter_phrase(app, message: str) -> str:
    """A phrase as the letters print it: in the company's language."""
    with app.test_request_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
        return gettext(message)


def generate(app, world, counterparty_id, kind="demand", letter_date=LETTER_DATE, **kwargs):
    with app.app_context():
        actor = db.session.get(User, world.users["fin1"])
        generated = services.generate_letter(
            counterparty_id, kind, letter_date, actor=actor, **kwargs
        )
        db.session.commit()
        return generated.letter.id


def fetch(client, url):
    """GET a download and close it (a file sent from disk stays open until closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def stored_pdf(app, letter_id) -> bytes:
    with app.app_context():
        return services.pdf_bytes(db.session.get(Letter, letter_id))


# ---------------------------------------------------------------------------------------------
# The demand letter's figures


def test_demand_letter_lists_every_overdue_item_with_its_interest(app, world, tmp_path):
    letter_id = generate(app, world, world.cp1)
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        # By hand, 4.65 % a year, actual/365 (the default rate: no contract rate):
        # INV-1 10,000.00 × 4.65 % × 100 / 365 = 127.397… → 127.40
        # INV-4  2,000.00 × 4.65 % × 41 / 365 = 10.446… → 10.45
        assert letter.level == "final"  # 100 days ≥ 91
        assert letter.days_overdue == 100
        assert letter.item_count == 2
        assert letter.principal == Decimal("12000.00")
        assert letter.interest == Decimal("137.85")
        assert letter.total == Decimal("12137.85")
        assert letter.deadline == D(2025, 5, 26)  # letters.deadline_days: 15
        assert letter.number.startswith("LTR-2025-")
        number = letter.number
    text = pdf_text(stored_pdf(app, letter_id), tmp_path)
    compact = flat(text)
    for expected in (
        COMPANY["company.name"],
        COMPANY["company.address"],
        COMPANY["company.phone"],
        "甲建设有限公司",
        "张经理",  # for the attention of the primary contact
        number,
        "INV-1",
        "INV-4",
        "2025-01-31",
        "2025-03-31",
        "10,000.00",
        "2,000.00",
        "127.40",
        "10.45",
        "12,000.00",
        "137.85",
        "12,137.85",
        "壹万贰仟壹佰叁拾柒元捌角伍分",
        long_date(LETTER_DATE),
        long_date(D(2025, 5, 26)),
        flat(COMPANY["company.payment_account"]),
        flat(letter_phrase(app, "Final demand before legal action")),
    ):
        assert flat(expected) in compact, expected
    # Not-yet-overdue and other debtors' items are not on it.
    assert "INV-2" not in text and "INV-3" not in text


def test_interest_follows_the_ledger_rule_after_a_part_payment(app, world, tmp_path):
    with app.app_context():
        LedgerBuilder().receipt(db.session.get(Counterparty, world.cp1), "4000.00", D(2025, 3, 1))
        db.session.commit()
    letter_id = generate(app, world, world.cp1)
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        # The receipt paid INV-1 (due first) 4,000.00 on 2025-03-01, which stops interest on
        # that part from that day: 10,000 × 28 days + 6,000 × 72 days = 712,000 yuan-days
        # × 4.65 % / 365 = 90.706… → 90.71; INV-4 unchanged 10.45.
        assert letter.principal == Decimal("8000.00")
        assert letter.interest == Decimal("101.16")
        assert letter.total == Decimal("8101.16")
    text = flat(pdf_text(stored_pdf(app, letter_id), tmp_path))
    assert "6,000.00" in text and "90.71" in text and "8,101.16" in text


@pytest.mark.parametrize(
    ("letter_date", "level", "days"),
    [
        (D(2025, 3, 30), "reminder", 30),
        (D(2025, 3, 31), "formal", 31),
        (D(2025, 5, 29), "formal", 90),
        (D(2025, 5, 30), "final", 91),
    ],
)
def test_level_by_days_overdue(app, world, letter_date, level, days):
    with app.app_context():
        content = services.prepare(world.cp2, "demand", letter_date)
        assert (content.level, content.days_overdue) == (level, days)
        # A reminder claims the overdue amount only; the others the interest too.
        if level == "reminder":
            assert content.total == content.principal == Decimal("5000.00")
            assert content.interest > 0
        else:
            assert content.total == content.principal + content.interest


def test_thresholds_are_settings(app, world):
    with app.app_context():
        update_settings({"letters.formal_demand_days": "10", "letters.final_demand_days": "20"})
        db.session.commit()
        assert services.prepare(world.cp2, "demand", D(2025, 3, 10)).level == "formal"
        assert services.prepare(world.cp2, "demand", D(2025, 3, 20)).level == "final"


def test_each_level_has_its_own_template(app, world, tmp_path):
    titles = {
        "reminder": "Payment reminder",
        "formal": "Demand for payment",
        "final": "Final demand before legal action",
    }
    for letter_date, level in ((D(2025, 3, 30), "reminder"), (D(2025, 4, 30), "formal")):
        letter_id = generate(app, world, world.cp2, letter_date=letter_date)
        text = flat(pdf_text(stored_pdf(app, letter_id), tmp_path))
        assert flat(letter_phrase(app, titles[level])) in text
        others = [t for code, t in titles.items() if code != level]
        assert not any(flat(letter_phrase(app, t)) in text for t in others)
        if level == "reminder":
            # No interest column: the amounts are the overdue ones only.
            assert "5,000.00" in text


# ---------------------------------------------------------------------------------------------
# Refusals


def test_nothing_overdue_is_refused_with_the_reason(app, world):
    with app.app_context(), force_locale("en"):
        actor = db.session.get(User, world.users["fin1"])
        with pytest.raises(services.LetterError) as refused:
            services.generate_letter(world.cp3, "demand", D(2025, 6, 30), actor=actor)
        assert "丙科技有限公司" in str(refused.value.message)
        assert "nothing overdue" in str(refused.value.message)
        assert refused.value.field == "kind"
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Letter.id))) == 0
    # Nothing was written: no file either.
    folder = Path(app.config["UPLOAD_FOLDER"]) / "evidence"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_confirmation_and_statement_need_nothing_overdue(app, world, tmp_path):
    confirmation = generate(app, world, world.cp3, "confirmation", D(2025, 6, 30))
    statement = generate(app, world, world.cp3, "statement", D(2025, 6, 30))
    with app.app_context():
        for letter_id in (confirmation, statement):
            letter = db.session.get(Letter, letter_id)
            assert letter.level is None
            assert letter.principal == letter.total == Decimal("3000.00")
            assert letter.interest == Decimal("0.00")
    text = flat(pdf_text(stored_pdf(app, confirmation), tmp_path))
    assert "丙科技有限公司" in text and "INV-3" in text and "3,000.00" in text
    assert flat(letter_phrase(app, "Reply slip")) in text
    assert flat(letter_phrase(app, "The balance above agrees with our books.")) in text
    text = flat(pdf_text(stored_pdf(app, statement), tmp_path))
    assert "INV-3" in text and "2025-12-31" in text and "3,000.00" in text


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"letter_date": D(2999, 1, 1)}, "letter_date"),
        ({"deadline": D(2025, 5, 11)}, "deadline"),
        ({"kind": "poem"}, "kind"),
    ],
)
def test_bad_requests_are_refused(app, world, kwargs, field):
    values = {"kind": "demand", "letter_date": LETTER_DATE, **kwargs}
    with app.app_context(), pytest.raises(services.LetterError) as refused:
        services.prepare(world.cp1, values.pop("kind"), values.pop("letter_date"), **values)
    assert refused.value.field == field


# ---------------------------------------------------------------------------------------------
# Storage, case link, download


def test_stored_file_and_sha256(app, world, client):
    letter_id = generate(app, world, world.cp1)
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        path = evidence.stored_path(letter.file.stored_name)
        content = path.read_bytes()
        assert content.startswith(b"%PDF-")
        assert letter.file.sha256 == hashlib.sha256(content).hexdigest()
        assert letter.file.size == len(content)
        assert letter.file.content_type == "application/pdf"
        assert letter.file.original_name.endswith(f"{letter.number}-CP1.pdf")
        assert letter.file.counterparty_id == world.cp1
    finance = sign_in(app, "fin1")
    response = fetch(finance, f"/letters/{letter_id}/pdf")
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    page = finance.get(f"/letters/{letter_id}")
    assert hashlib.sha256(content).hexdigest().encode() in page.data
    # Letters are evidence: another salesperson's debtor answers 404, the owner sees it.
    assert fetch(sign_in(app, "sales2"), f"/letters/{letter_id}/pdf").status_code == 404
    assert sign_in(app, "sales2").get(f"/letters/{letter_id}").status_code == 404
    assert fetch(sign_in(app, "sales1"), f"/letters/{letter_id}/pdf").status_code == 200
    assert fetch(sign_in(app, "exec1"), f"/letters/{letter_id}/pdf").status_code == 200


def _open_case(app, world, counterparty_id) -> int:
    with app.app_context():
        case = RecoveryCase(
            number=f"RC-2025-{counterparty_id:05d}",
            counterparty_id=counterparty_id,
            opened_on=D(2025, 4, 1),
            opened_by_id=world.users["sup1"],
        )
        db.session.add(case)
        db.session.commit()
        return case.id


def test_linked_to_the_open_case(app, world):
    case_id = _open_case(app, world, world.cp1)
    letter_id = generate(app, world, world.cp1)
    other = generate(app, world, world.cp2)
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        assert letter.case_id == case_id
        assert letter.file.case_id == case_id
        assert db.session.get(Letter, other).case_id is None
    finance = sign_in(app, "fin1")
    listed = finance.get(f"/letters/?case_id={case_id}")
    assert letter.number.encode() in listed.data


# ---------------------------------------------------------------------------------------------
# Delivery


def test_delivery_becomes_an_interrupting_demand(app, world):
    case_id = _open_case(app, world, world.cp1)
    letter_id = generate(app, world, world.cp1)
    finance = sign_in(app, "fin1")
    with app.app_context():
        version = db.session.get(Letter, letter_id).version
    response = finance.post(
        f"/letters/{letter_id}/delivery",
        data={
            "delivered_at": "2025-05-14T10:30",
            "method": "courier",
            "proof": "SF 1234567890, signed by 张经理",
            "contact_id": str(world.contact1),
            "version": str(version),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.data
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        activity = db.session.get(Activity, letter.delivery_activity_id)
        assert activity.kind == "demand"
        assert activity.interrupts_limitation is True
        assert "SF 1234567890" in activity.proof_of_arrival
        assert activity.counterparty_id == world.cp1
        assert activity.case_id == case_id
        assert activity.contact_id == world.contact1
        assert activity.user_id == world.users["fin1"]
        # Stored in UTC: 10:30 in Beijing is 02:30 UTC, the same day.
        assert activity.occurred_at == datetime(2025, 5, 14, 2, 30)
        assert letter.delivered_at == activity.occurred_at
        assert letter.file.activity_id == activity.id  # the letter is the activity's evidence
        assert letter.delivery_method == "courier"
    page = finance.get(f"/letters/{letter_id}")
    assert b'data-testid="delivered"' in page.data
    # A second delivery is refused with the reason; nothing more is written.
    again = finance.post(
        f"/letters/{letter_id}/delivery",
        data={"delivered_at": "2025-05-15T10:30", "method": "courier", "proof": "again"},
        content_type="multipart/form-data",
    )
    assert again.status_code == 400
    assert b"already recorded" in again.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 1


def test_confirmation_reply_becomes_a_confirmation_activity(app, world):
    letter_id = generate(app, world, world.cp3, "confirmation", D(2025, 6, 30))
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        actor = db.session.get(User, world.users["fin1"])
        activity = services.record_delivery(
            letter,
            delivered_at=datetime(2025, 7, 8, 9, 0),
            method="registered_mail",
            proof="reply slip signed and sealed",
            actor=actor,
            version=letter.version,
        )
        db.session.commit()
        assert activity.kind == "confirmation"
        assert activity.interrupts_limitation is True


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"delivered_at": "2025-05-10T10:00"}, b"cannot arrive before its date"),
        ({"delivered_at": "2999-01-01T10:00"}, b"cannot be in the future"),
        ({"proof": ""}, b"Describe the proof"),
        ({"version": "0"}, b"Changed by"),
    ],
)
def test_bad_deliveries_are_refused(app, world, data, message):
    letter_id = generate(app, world, world.cp1)
    finance = sign_in(app, "fin1")
    form = {
        "delivered_at": "2025-05-14T10:30",
        "method": "signed_receipt",
        "proof": "signed by 张经理",
        "version": "1",
        **data,
    }
    response = finance.post(
        f"/letters/{letter_id}/delivery", data=form, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert message in response.data
    # What the user typed is shown again.
    if data.get("proof", None) != "":
        assert form["proof"].encode() in response.data
    with app.app_context():
        assert db.session.get(Letter, letter_id).delivered_at is None
        assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 0


# ---------------------------------------------------------------------------------------------
# Pages


def test_generate_page_previews_then_generates(app, world):
    sales = sign_in(app, "sales1")
    page = sales.get(f"/letters/new?counterparty_id={world.cp1}&kind=demand&letter_date=2025-05-11")
    assert page.status_code == 200
    assert b"12,137.85" in page.data  # the total of the final demand, before generating
    refused = sales.get(
        f"/letters/new?counterparty_id={world.cp3}&kind=demand&letter_date=2025-06-30"
    )
    assert b'data-testid="letter-refusal"' in refused.data
    posted = sales.post(
        f"/letters/new?counterparty_id={world.cp3}",
        data={"kind": "demand", "letter_date": "2025-06-30", "deadline": ""},
    )
    assert posted.status_code == 200
    assert b"nothing overdue" in posted.data
    created = sales.post(
        f"/letters/new?counterparty_id={world.cp1}",
        data={"kind": "demand", "letter_date": "2025-05-11", "deadline": "2025-05-20"},
    )
    assert created.status_code == 302
    with app.app_context():
        letter = db.session.scalar(sa.select(Letter))
        assert letter.deadline == D(2025, 5, 20)
        assert letter.created_by_id == world.users["sales1"]
    # Another's debtor: 404.
    assert (
        sign_in(app, "sales2").get(f"/letters/new?counterparty_id={world.cp1}").status_code == 404
    )
    # The counterparty page offers the letters.
    page = sales.get(f"/parties/counterparties/{world.cp1}")
    assert b'data-testid="generate-letter"' in page.data


def test_one_png_of_each_kind_for_a_person_to_look_at(app, world):
    letters = {
        "demand-reminder": generate(app, world, world.cp2, letter_date=D(2025, 3, 30)),
        "demand-formal": generate(app, world, world.cp2, letter_date=D(2025, 4, 30)),
        "demand-final": generate(app, world, world.cp1),
        "confirmation": generate(app, world, world.cp1, "confirmation"),
        "statement": generate(app, world, world.cp1, "statement"),
    }
    for name, letter_id in letters.items():
        png = render_png(stored_pdf(app, letter_id), name)
        assert png.stat().st_size > 5000


def test_the_limitation_guard_sees_the_delivered_demand(app, world):
    """The limitation engineer's expiry_rows read the activity: restarted from its day."""
    from recovery.limitation.services import expiry_rows

    letter_id = generate(app, world, world.cp1)
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        actor = db.session.get(User, world.users["fin1"])
        services.record_delivery(
            letter,
            delivered_at=datetime(2025, 5, 14, 10, 30),
            method="signed_receipt",
            proof="signed by 张经理",
            actor=actor,
        )
        db.session.commit()
        rows = {
            row.document_no: row for row in expiry_rows(D(2025, 6, 1), counterparty_ids=[world.cp1])
        }
        assert rows["INV-1"].last_interruption_on == D(2025, 5, 14)
        assert rows["INV-1"].expires_on == D(2028, 5, 15)  # 2028-05-14 is a Sunday
