"""The legal screens through HTTP: who may do what, the referral flow, refusals re-shown."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import sqlalchemy as sa

from recovery.cases.models import RecoveryCase
from recovery.extensions import db
from recovery.legal.models import Lawsuit, Referral
from tests.legal.conftest import PDF, SALE_KINDS

D = date


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def version_in(page: str, action: str | None = None) -> str:
    """The version carried by the form posting to ``action`` (else the first one)."""
    forms = re.findall(r"<form[^>]*>.*?</form>", page, flags=re.S)
    for form in forms:
        if action and f'action="{action}"' not in form:
            continue
        found = re.search(
            r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', form
        )
        if found:
            return found.group(1) or found.group(2)
    raise AssertionError(f"no version field for {action}")


def referral_row(world) -> Referral:
    return db.session.scalar(sa.select(Referral).where(Referral.case_id == world.case_id))


def test_who_may_open_what(screen_world, sign_in):
    case_id = screen_world.case_id
    for name in ("legal", "supervisor", "executive", "finance", "sales"):
        assert sign_in(name).get("/legal/").status_code == 200, name
    assert sign_in("admin").get("/legal/").status_code == 403
    home = sign_in("legal").get("/home/legal")
    assert home.status_code == 302 and home.headers["Location"].endswith("/legal/")
    refer = sign_in("sales").get(f"/cases/{case_id}/refer")
    assert (
        refer.status_code == 302
        and f"/legal/referrals/new?case_id={case_id}" in refer.headers["Location"]
    )
    assert sign_in("sales2").get(f"/legal/referrals/new?case_id={case_id}").status_code == 404
    assert sign_in("supervisor").get(f"/legal/referrals/new?case_id={case_id}").status_code == 403
    assert sign_in("legal").get(f"/legal/referrals/new?case_id={case_id}").status_code == 403
    assert sign_in("finance").get(f"/legal/referrals/new?case_id={case_id}").status_code == 200


def test_the_referral_flow_on_screen(screen_world, sign_in):
    world = screen_world
    sales = sign_in("sales")
    sales.post(
        f"/legal/referrals/new?case_id={world.case_id}",
        data={"claim_type": "sale_of_goods", "claim_as_of": "2025-06-30", "note": "Ignores us."},
    )
    with world.db():
        referral_id = referral_row(world).id
    case_page = text(sales.get(f"/cases/{world.case_id}"))
    assert f'href="/legal/referrals/{referral_id}" data-testid="case-referral"' in case_page
    page = text(sales.get(f"/legal/referrals/{referral_id}"))
    assert "INV-1" in page and "INV-2" in page and "INV-3" not in page
    assert "The referral cannot be sent yet. Missing:" in page
    assert "Delivery notes or receipts of goods signed by the buyer" in page
    refused = sales.post(
        f"/legal/referrals/{referral_id}/submit",
        data={"version": version_in(page, f"/legal/referrals/{referral_id}/submit")},
    )
    assert refused.status_code == 422 and "The evidence package is incomplete" in text(refused)
    with world.db():
        assert referral_row(world).status == "draft"

    # Another sales user cannot see it; the owner completes the package and sends it.
    assert sign_in("sales2").get(f"/legal/referrals/{referral_id}").status_code == 404
    for kind in SALE_KINDS:
        sales.post(
            f"/legal/referrals/{referral_id}/documents",
            data={"kind": kind, "files": [(io.BytesIO(PDF), f"{kind}.pdf")]},
            content_type="multipart/form-data",
        )
    page = text(sales.get(f"/legal/referrals/{referral_id}"))
    sent = sales.post(
        f"/legal/referrals/{referral_id}/submit",
        data={"version": version_in(page, f"/legal/referrals/{referral_id}/submit")},
    )
    assert sent.status_code == 302, text(sent)
    with world.db():
        referral = referral_row(world)
        number = referral.number
        assert referral.status == "submitted" and referral.summary_file_id is not None
        assert db.session.get(RecoveryCase, world.case_id).status == "referred"

    # Only legal reviews; returning needs what is missing.
    assert (
        sales.post(f"/legal/referrals/{referral_id}/review", data={"accept": "1"}).status_code
        == 403
    )
    legal = sign_in("legal")
    page = text(legal.get(f"/legal/referrals/{referral_id}"))
    review = f"/legal/referrals/{referral_id}/review"
    refused = legal.post(
        review, data={"return": "1", "reason": "More please", "version": version_in(page, review)}
    )
    assert refused.status_code == 200 and "Name the evidence that is missing." in text(refused)
    assert "More please" in text(refused)
    accepted = legal.post(review, data={"accept": "1", "version": version_in(page, review)})
    assert accepted.status_code == 302

    # The case owner sees the decision on the worklist.
    worklist = text(sales.get("/worklist/"))
    assert f"Referral {number} (CP-L): Accepted" in worklist

    # Legal files the suit and records the judgment.
    filed = legal.post(
        f"/legal/referrals/{referral_id}/file",
        data={
            "court": "朝阳法院",
            "case_number": "(2025)京0105民初1号",
            "filed_on": "2025-04-01",
            "court_fee": "2,300.00",
        },
    )
    assert filed.status_code == 302, text(filed)
    with world.db():
        lawsuit_id = db.session.scalar(sa.select(Lawsuit.id))
    suit_page = text(legal.get(f"/legal/lawsuits/{lawsuit_id}"))
    assert "(2025)京0105民初1号" in suit_page and "2,300.00" in suit_page
    case_page = text(sales.get(f"/cases/{world.case_id}"))
    assert f'href="/legal/lawsuits/{lawsuit_id}" data-testid="case-lawsuit"' in case_page

    hearing_url = f"/legal/lawsuits/{lawsuit_id}/hearings"
    early = legal.post(
        hearing_url,
        data={
            "held_on": "2025-03-01",
            "kind": "hearing",
            "version": version_in(suit_page, hearing_url),
        },
    )
    assert early.status_code == 422  # refused: the form again
    assert "A hearing cannot be before the suit was filed (2025-04-01)." in text(early)

    judgment_url = f"/legal/lawsuits/{lawsuit_id}/judgment"
    values = {
        "kind": "judgment",
        "judgment_on": "2025-05-20",
        "awarded_principal": "100000.00",
        "awarded_interest": "12,34x",
        "awarded_costs": "2300",
        "effective_on": "2025-06-05",
        "performance_deadline": "2025-06-15",
        "post_judgment_rate": "",
        "interest_runs_from": "",
        "version": version_in(suit_page, judgment_url),
    }
    bad = legal.post(judgment_url, data=values)
    assert bad.status_code == 422  # refused: the form again
    assert "Not an amount: write digits, e.g. 1234.50." in text(bad) and 'value="12,34x"' in text(
        bad
    )
    values["awarded_interest"] = "470.00"
    good = legal.post(judgment_url, data=values)
    assert good.status_code == 302, text(good)
    suit_page = text(legal.get(f"/legal/lawsuits/{lawsuit_id}?as_of=2025-07-15"))
    assert "525.00" in suit_page  # 100,000.00 × 0.0175 % × 30 days
    assert "102,770.00" in suit_page

    # Readers read; another sales user gets 404; only legal writes.
    assert sign_in("executive").get(f"/legal/lawsuits/{lawsuit_id}").status_code == 200
    assert sign_in("sales2").get(f"/legal/lawsuits/{lawsuit_id}").status_code == 404
    own = sign_in("sales").get(f"/legal/lawsuits/{lawsuit_id}")
    assert own.status_code == 200 and 'data-testid="judgment-form"' not in text(own)
    assert sign_in("supervisor").post(judgment_url, data=values).status_code == 403

    index = text(legal.get("/legal/"))
    assert "(2025)京0105民初1号" in index and "Apply for enforcement by 2027-06-15" in index


def test_a_stale_lawsuit_form_is_refused_and_shown_again(screen_world, sign_in):
    world = screen_world
    with world.db():
        suit = world.lawsuit()
        lawsuit_id = suit.id
    legal = sign_in("legal")
    page = text(legal.get(f"/legal/lawsuits/{lawsuit_id}"))
    url = f"/legal/lawsuits/{lawsuit_id}/preservation"
    old = version_in(page, url)
    first = legal.post(
        url, data={"applied_on": "2025-04-02", "assets": "Account A", "version": old}
    )
    assert first.status_code == 302
    second = legal.post(
        url, data={"applied_on": "2025-04-03", "assets": "Account B", "version": old}
    )
    assert second.status_code == 422  # refused (stale): the form again
    page = text(second)
    assert "Changed by User legal" in page and 'value="Account B"' in page
    with world.db():
        assert db.session.get(Lawsuit, lawsuit_id).preserved_assets == "Account A"
