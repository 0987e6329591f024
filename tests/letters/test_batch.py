"""Batch runs: the filter, the ZIP of the PDFs, e-mails through a real SMTP server on loopback,
the SMTP server down, and resending only the failed e-mails."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from recovery.activities.models import Activity
from recovery.auth import services as auth
from recovery.auth.models import User
from recovery.extensions import db
from recovery.jobs import services as jobs
from recovery.jobs.models import Job
from recovery.letters import batch as batches
from recovery.letters import services
from recovery.letters.models import BatchLine, Letter, LetterBatch
from recovery.parties.models import Contact, Counterparty
from tests.letters.conftest import SENDER, D, flat, pdf_text, sign_in

LETTER_DATE = D(2025, 5, 11)  # cp1: 100 days overdue (final), cp2: 72 (formal), cp3: none


def run(app, world, *, username="fin1", send_email=False, **filters) -> int:
    """Start a batch as ``username`` and wait for its job; the batch's id."""
    with app.app_context():
        actor = db.session.get(User, world.users[username])
        values = batches.BatchFilter(letter_date=filters.pop("letter_date", LETTER_DATE), **filters)
        batch = batches.start_batch(values, send_email=send_email, actor=actor)
        assert jobs.wait(batch.job_id, timeout=120)
        job = db.session.get(Job, batch.job_id)
        db.session.refresh(job)
        assert job.status == "done", job.error
        return batch.id


def lines(app, batch_id) -> dict[str, BatchLine]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(BatchLine).where(BatchLine.batch_id == batch_id).order_by(BatchLine.id)
        ).all()
        result = {}
        for row in rows:
            _ = row.counterparty.code, row.letter
            result[row.counterparty.code] = row
        db.session.expunge_all()
        return result


def resend(app, world, batch_id) -> None:
    with app.app_context():
        batch = db.session.get(LetterBatch, batch_id)
        job = batches.resend_failed(batch, actor=db.session.get(User, world.users["fin1"]))
        assert jobs.wait(job.id, timeout=120)
        db.session.refresh(job)
        assert job.status == "done", job.error


def summary(app, batch_id) -> dict:
    with app.app_context():
        return batches.summary(db.session.get(LetterBatch, batch_id))


def zip_names(client, batch_id) -> tuple[list[str], zipfile.ZipFile]:
    response = client.get(f"/letters/batches/{batch_id}/letters.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    response.close()
    return sorted(archive.namelist()), archive


# ---------------------------------------------------------------------------------------------
# The filter and the ZIP


def test_batch_makes_one_letter_per_debtor_and_a_zip(app, world, tmp_path):
    batch_id = run(app, world)
    by_code = lines(app, batch_id)
    assert sorted(by_code) == ["CP1", "CP2"]  # CP3 has nothing overdue
    assert by_code["CP1"].letter.level == "final"
    assert by_code["CP2"].letter.level == "formal"
    assert by_code["CP1"].letter.total == Decimal("12137.85")
    assert all(line.send_status is None for line in by_code.values())
    assert summary(app, batch_id) == {
        "batch_id": batch_id,
        "counterparties": 2,
        "letters": 2,
        "refused": 0,
        "sent": 0,
        "failed": 0,
        "no_email": 0,
        "send_email": False,
    }
    names, archive = zip_names(sign_in(app, "fin1"), batch_id)
    with app.app_context():
        letters = db.session.scalars(sa.select(Letter).order_by(Letter.id)).all()
        expected = sorted(letter.file.original_name for letter in letters)
        stored = {letter.file.original_name: services.pdf_bytes(letter) for letter in letters}
    assert names == expected
    assert [n.rsplit("-", 1)[-1] for n in names] == ["CP1.pdf", "CP2.pdf"]
    for name in names:
        assert archive.read(name) == stored[name]  # the stored PDFs, byte for byte
    text = flat(pdf_text(archive.read(names[0]), tmp_path))
    assert "甲建设有限公司" in text and "12,137.85" in text


@pytest.mark.parametrize(
    ("filters", "codes"),
    [
        ({"overdue_more_than": 90}, ["CP1"]),
        ({"overdue_more_than": 99}, ["CP1"]),
        ({"overdue_more_than": 100}, []),  # 100 days is not more than 100
        ({"level": "formal"}, ["CP2"]),
        ({"level": "final"}, ["CP1"]),
        ({"level": "reminder"}, []),
        ({"kind": "confirmation"}, ["CP1", "CP2"]),  # CP3's item is not recognised yet
        # An open balance is enough for a confirmation; a demand needs something overdue.
        ({"kind": "confirmation", "letter_date": D(2025, 6, 30)}, ["CP1", "CP2", "CP3"]),
        ({"kind": "demand", "letter_date": D(2025, 6, 30)}, ["CP1", "CP2"]),
        ({"kind": "statement", "overdue_more_than": 80}, ["CP1"]),
    ],
)
def test_the_filter(app, world, filters, codes):
    with app.app_context():
        values = batches.BatchFilter(**{"letter_date": LETTER_DATE, **filters})
        found = batches.matching_counterparties(values)
        assert [db.session.get(Counterparty, cp).code for cp in found] == codes


def test_department_filter_takes_the_departments_below(app, world):
    with app.app_context():
        company = auth.create_department("测试集团", "company", None)
        north = auth.create_department("华北区域", "department", company)
        beijing = auth.create_department("北京分公司", "subsidiary", north)
        db.session.flush()
        db.session.get(Counterparty, world.cp2).department_id = beijing.id
        db.session.commit()
        found = batches.matching_counterparties(
            batches.BatchFilter(letter_date=LETTER_DATE, department_id=north.id)
        )
        assert found == [world.cp2]
        north_id = north.id
    batch_id = run(app, world, department_id=north_id)
    assert sorted(lines(app, batch_id)) == ["CP2"]


def test_bad_batches_are_refused(app, world):
    with app.app_context():
        actor = db.session.get(User, world.users["fin1"])
        for values, field in (
            (
                batches.BatchFilter(kind="statement", letter_date=LETTER_DATE, level="final"),
                "level",
            ),
            (batches.BatchFilter(letter_date=D(2999, 1, 1)), "letter_date"),
            (
                batches.BatchFilter(letter_date=LETTER_DATE, overdue_more_than=-1),
                "overdue_more_than",
            ),
        ):
            with pytest.raises(services.LetterError) as refused:
                batches.start_batch(values, send_email=False, actor=actor)
            assert refused.value.field == field
        # E-mail asked for while no SMTP server is configured.
        app.config.update(SMTP_HOST="", SMTP_SENDER="")
        with pytest.raises(services.LetterError) as refused:
            batches.start_batch(
                batches.BatchFilter(letter_date=LETTER_DATE), send_email=True, actor=actor
            )
        assert refused.value.field == "send_email"
        assert db.session.scalar(sa.select(sa.func.count(LetterBatch.id))) == 0


# ---------------------------------------------------------------------------------------------
# E-mail


def test_emails_arrive_with_the_letter_attached(app, world, smtp):
    batch_id = run(app, world, send_email=True)
    by_code = lines(app, batch_id)
    # CP1's primary contact has an e-mail address; CP2's only contact has none: skipped.
    assert by_code["CP1"].send_status == "sent"
    assert by_code["CP1"].email == "zhang@jia.example.cn"
    assert by_code["CP1"].attempts == 1
    assert by_code["CP2"].send_status == "no_email"
    assert by_code["CP2"].letter is not None  # the letter is made all the same (in the ZIP)
    assert summary(app, batch_id)["no_email"] == 1

    assert len(smtp.inbox.received) == 1
    received = smtp.inbox.received[0]
    letter = by_code["CP1"].letter
    assert received.mail_from == SENDER
    assert received.recipients == ["zhang@jia.example.cn"]
    assert letter.number in received.message["Subject"]
    assert "示例集团有限公司" in received.message["Subject"]
    body = received.message.get_body(("plain",)).get_content()
    assert letter.number in body and "12,137.85" in body
    with app.app_context():
        stored = services.pdf_bytes(db.session.get(Letter, letter.id))
        ((name, content, mimetype),) = received.attachments
        assert (name, mimetype) == (
            db.session.get(Letter, letter.id).file.original_name,
            "application/pdf",
        )
        assert content == stored
        # Recorded as an e-mail activity to the named contact; not proof of arrival.
        activity = db.session.get(Activity, by_code["CP1"].activity_id)
        assert activity.kind == "email"
        assert activity.contact_id == world.contact1
        assert activity.interrupts_limitation is False
        assert activity.proof_of_arrival is None
        assert letter.number in activity.summary
        assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 1


def test_only_the_debtors_own_active_contacts_are_written_to(app, world, smtp):
    with app.app_context():
        # A former contact of CP2 with an e-mail address: never written to.
        db.session.add(
            Contact(
                counterparty_id=world.cp2, name="前任", email="former@yi.example.cn", active=False
            )
        )
        # A second, non-primary contact of CP1: the primary one is chosen.
        db.session.add(Contact(counterparty_id=world.cp1, name="李会计", email="li@jia.example.cn"))
        db.session.commit()
    batch_id = run(app, world, send_email=True)
    assert [r.recipients for r in smtp.inbox.received] == [["zhang@jia.example.cn"]]
    assert lines(app, batch_id)["CP2"].send_status == "no_email"


def test_smtp_down_the_batch_finishes_and_only_failures_are_resent(app, world, smtp_down):
    with app.app_context():
        db.session.add(
            Contact(
                counterparty_id=world.cp2, name="孙出纳", email="sun@yi.example.cn", is_primary=True
            )
        )
        db.session.commit()
    batch_id = run(app, world, send_email=True)
    by_code = lines(app, batch_id)
    assert {code: line.send_status for code, line in by_code.items()} == {
        "CP1": "failed",
        "CP2": "failed",
    }
    assert "ConnectionRefusedError" in by_code["CP1"].error
    assert all(line.letter is not None for line in by_code.values())  # the letters are kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 0
    page = sign_in(app, "fin1").get(f"/letters/batches/{batch_id}")
    assert page.data.count(b'data-testid="send-error"') == 2
    assert b'data-testid="batch-resend"' in page.data

    # The server comes back, but refuses CP2's mailbox: CP1 goes, CP2 fails again.
    smtp_down.inbox.refuse.add("sun@yi.example.cn")
    smtp_down.start()
    resend(app, world, batch_id)
    by_code = lines(app, batch_id)
    assert (by_code["CP1"].send_status, by_code["CP1"].attempts) == ("sent", 2)
    assert (by_code["CP2"].send_status, by_code["CP2"].attempts) == ("failed", 2)
    assert "550" in by_code["CP2"].error
    assert [r.recipients for r in smtp_down.inbox.received] == [["zhang@jia.example.cn"]]

    # Resending again retries CP2 only: CP1 is not sent twice.
    smtp_down.inbox.refuse.clear()
    resend(app, world, batch_id)
    by_code = lines(app, batch_id)
    assert (by_code["CP1"].attempts, by_code["CP2"].attempts) == (2, 3)
    assert by_code["CP2"].send_status == "sent"
    assert [r.recipients for r in smtp_down.inbox.received] == [
        ["zhang@jia.example.cn"],
        ["sun@yi.example.cn"],
    ]
    with app.app_context():
        kinds = db.session.scalars(sa.select(Activity.kind)).all()
        assert kinds == ["email", "email"]
        with force_locale("en"), pytest.raises(services.LetterError, match="nothing to resend"):
            batches.resend_failed(
                db.session.get(LetterBatch, batch_id),
                actor=db.session.get(User, world.users["fin1"]),
            )


# ---------------------------------------------------------------------------------------------
# Pages


def test_batch_through_the_pages(app, world):
    finance = sign_in(app, "fin1")
    form = finance.get("/letters/batches/new")
    assert form.status_code == 200
    assert b'data-testid="mail-off"' in form.data  # no SMTP configured in this test
    refused = finance.post(
        "/letters/batches/new",
        data={
            "kind": "statement",
            "letter_date": "2025-05-11",
            "level": "final",
            "department_id": "None",
        },
    )
    assert refused.status_code == 200
    assert b"Only demand letters have levels." in refused.data
    posted = finance.post(
        "/letters/batches/new",
        data={
            "kind": "demand",
            "letter_date": "2025-05-11",
            "overdue_more_than": "90",
            "department_id": "None",
            "level": "None",
        },
    )
    assert posted.status_code == 302
    job_id = int(re.search(r"/jobs/(\d+)", posted.headers["Location"]).group(1))
    with app.app_context():
        assert jobs.wait(job_id, timeout=120)
        batch_id = db.session.scalar(sa.select(LetterBatch.id).where(LetterBatch.job_id == job_id))
    page = finance.get(f"/jobs/{job_id}")
    assert b'data-testid="batch-zip"' in page.data
    names, _archive = zip_names(finance, batch_id)
    assert len(names) == 1 and names[0].endswith("-CP1.pdf")
    listing = finance.get("/letters/batches")
    assert f"/letters/batches/{batch_id}".encode() in listing.data
    # Sales users do not run batches; executives read them.
    sales = sign_in(app, "sales1")
    assert sales.get("/letters/batches/new").status_code == 403
    assert sales.get(f"/letters/batches/{batch_id}").status_code == 403
    assert sign_in(app, "exec1").get(f"/letters/batches/{batch_id}").status_code == 200
    assert sign_in(app, "exec1").post(f"/letters/batches/{batch_id}/resend").status_code == 403


def test_one_letter_e_mailed_from_its_page(app, world, smtp):
    with app.app_context():
        actor = db.session.get(User, world.users["fin1"])
        letter_id = services.generate_letter(
            world.cp1, "demand", LETTER_DATE, actor=actor
        ).letter.id
        db.session.commit()
    sales = sign_in(app, "sales1")
    page = sales.get(f"/letters/{letter_id}")
    assert b'data-testid="email-form"' in page.data
    # Only the debtor's own contacts can be chosen: CP2's contact is refused.
    refused = sales.post(f"/letters/{letter_id}/email", data={"contact_id": str(world.contact2)})
    assert refused.status_code == 400
    assert smtp.inbox.received == []
    sent = sales.post(f"/letters/{letter_id}/email", data={"contact_id": str(world.contact1)})
    assert sent.status_code == 302
    assert [r.recipients for r in smtp.inbox.received] == [["zhang@jia.example.cn"]]
    with app.app_context():
        activity = db.session.scalar(sa.select(Activity))
        assert (activity.kind, activity.interrupts_limitation) == ("email", False)
        assert activity.user_id == world.users["sales1"]
    # The server goes away: the reason is shown, nothing is recorded.
    smtp.stop()
    failed = sales.post(f"/letters/{letter_id}/email", data={"contact_id": str(world.contact1)})
    assert failed.status_code == 400
    assert b"ConnectionRefusedError" in failed.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 1
