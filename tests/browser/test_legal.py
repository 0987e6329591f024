"""Legal accepts a referral and records a judgment (issue 5, browser test).

The sales user prepared and sent the referral (set up through the services, with its evidence
package complete); legal signs in, lands on its page of referrals and lawsuits, accepts the
referral, files the suit, records the judgment and sees the amounts: the award and the
interest for delayed performance. The referral summary PDF is rendered to PNG beside the
screenshots for a person to look at."""

from __future__ import annotations

import io
import subprocess
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from werkzeug.datastructures import FileStorage

from recovery.activities import evidence
from recovery.activities.models import EvidenceFile
from recovery.auth import services as auth
from recovery.cases import services as cases
from recovery.extensions import db
from recovery.ledger import services as ledger
from recovery.legal import services as legal
from recovery.legal import summary
from recovery.legal.models import Lawsuit, Referral
from recovery.parties import services as parties
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _referral_sent_to_legal() -> int:
    day = today()
    sales = auth.find_user("sales")
    counterparty = parties.save_counterparty(
        code="LAW-01", name="浏览器诉讼客户", kind="dealer", responsible_id=sales.id
    )
    contract = parties.save_contract(
        number="HT-LAW-01", counterparty_id=counterparty.id, signed_on=day - timedelta(days=400)
    )
    ledger.create_item(
        document_no="LAW-INV-1",
        counterparty_id=counterparty.id,
        contract_id=contract.id,
        item_type="goods",
        amount=Decimal("100000.00"),
        recognized_on=day - timedelta(days=300),
        due_on=day - timedelta(days=250),
        overdue_rate=Decimal("3.65"),
    )
    case = cases.open_case(counterparty, actor=sales, today=day, cause="wilful_default")
    referral = legal.start_referral(
        case,
        claim_type="sale_of_goods",
        claim_as_of=day - timedelta(days=150),
        note="The dealer ignores every demand; the goods were delivered and invoiced.",
        actor=sales,
        today=day,
    )
    for kind in ("delivery", "invoice", "balance_confirmation", "demand"):
        upload = FileStorage(
            io.BytesIO(PDF), filename=f"{kind}.pdf", content_type="application/pdf"
        )
        legal.add_documents(
            referral, evidence.stage_files([upload]), kind=kind, note=None, actor=sales
        )
    legal.submit_referral(referral, version=referral.version, actor=sales, today=day)
    summary.store_summary(referral, actor=sales)
    db.session.commit()
    return referral.id


def test_legal_accepts_a_referral_and_records_a_judgment(ui):
    server, page = ui.server, ui.page
    referral_id = server.query(_referral_sent_to_legal)

    def sent():
        referral = db.session.get(Referral, referral_id)
        stored = db.session.get(EvidenceFile, referral.summary_file_id).stored_name
        return referral.number, referral.principal + referral.interest, evidence.stored_path(stored)

    number, claimed, stored = server.query(sent)
    # 100,000.00 × 3.65 % / 365 × 100 days (due 250 days ago, claimed as of 150 days ago)
    assert claimed == Decimal("101000.00")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(stored),
            str(SCREENSHOTS / "legal-referral-summary"),
        ],
        check=True,
        timeout=60,
    )
    assert (SCREENSHOTS / "legal-referral-summary.png").stat().st_size > 5000

    ui.login("legal")
    expect(page).to_have_url(ui.path_is("legal.index"))
    waiting = page.get_by_test_id("waiting").locator(f"tr[data-referral='{number}']")
    expect(waiting).to_contain_text("LAW-01")
    ui.screenshot("legal-home")

    ui.submit(waiting.get_by_role("link", name=number))
    expect(page.get_by_test_id("referral-status")).to_have_attribute("data-status", "submitted")
    expect(page.get_by_test_id("claim-total")).to_have_text("101,000.00")
    expect(page.get_by_test_id("checklist").locator("tr[data-met='no']")).to_have_count(0)
    ui.screenshot("legal-referral")

    ui.submit(page.get_by_test_id("accept"))
    expect(page.get_by_test_id("referral-status")).to_have_attribute("data-status", "accepted")

    day = today()
    form = page.get_by_test_id("file-form")
    form.locator("input[name=court]").fill("北京市朝阳区人民法院")
    form.locator("input[name=case_number]").fill("(2026)京0105民初808号")
    form.locator("input[name=filed_on]").fill((day - timedelta(days=90)).isoformat())
    form.locator("input[name=court_fee]").fill("2300.00")
    ui.submit(form.locator("[type=submit]"))
    lawsuit_id = server.query(lambda: db.session.scalar(sa.select(Lawsuit.id)))
    expect(page).to_have_url(ui.path_is("legal.lawsuit", lawsuit_id=lawsuit_id))
    expect(page.get_by_test_id("stage")).to_have_attribute("data-stage", "filed")

    form = page.get_by_test_id("judgment-form")
    # The award is proposed from the claim: principal 100,000.00 and interest 1,000.00.
    expect(form.locator("input[name=awarded_principal]")).to_have_value("100000.00")
    form.locator("input[name=judgment_on]").fill((day - timedelta(days=60)).isoformat())
    form.locator("input[name=awarded_costs]").fill("2300.00")
    form.locator("input[name=effective_on]").fill((day - timedelta(days=45)).isoformat())
    form.locator("input[name=performance_deadline]").fill((day - timedelta(days=30)).isoformat())
    ui.submit(form.locator("[type=submit]"))

    expect(page.get_by_test_id("stage")).to_have_attribute("data-stage", "judgment")
    expect(page.get_by_test_id("awarded-principal")).to_have_text("100,000.00")
    expect(page.get_by_test_id("awarded-interest")).to_have_text("1,000.00")
    expect(page.get_by_test_id("awarded-costs")).to_have_text("2,300.00")
    # 30 days after the performance deadline: 100,000.00 × 0.0175 % × 30 = 525.00
    expect(page.get_by_test_id("delay-interest")).to_have_text("525.00")
    expect(page.get_by_test_id("total-due")).to_have_text("103,825.00")
    ui.screenshot("legal-judgment")

    def recorded():
        suit = db.session.scalars(sa.select(Lawsuit)).one()
        return suit.stage, suit.awarded_principal, suit.updated_by.username

    assert server.query(recorded) == ("judgment", Decimal("100000.00"), "legal")
