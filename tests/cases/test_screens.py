"""The case screens over HTTP: who sees what, the forms (with what was typed re-shown), the
approvals page and decisions, optimistic locking between two browsers, and the proposals.

Setup and checks run in ``with world.db():`` blocks; requests run outside them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.cases import services, strategies
from recovery.cases.models import ExtensionRequest, RecoveryCase, Strategy
from recovery.extensions import db
from recovery.ledger.models import Receipt


def version_in(html: str) -> str:
    """The version a page's form carries."""
    for tag in re.findall(r"<input[^>]*>", html):
        if 'name="version"' in tag:
            return re.search(r'value="(\d+)"', tag).group(1)
    raise AssertionError("no version field")


def text(response) -> str:
    return response.get_data(as_text=True)


def case_row(case_id: int) -> RecoveryCase:
    return db.session.get(RecoveryCase, case_id)


def _case(world, code="C1", responsible="sales", **kw) -> int:
    """Open a case (inside a db block); returns its id."""
    counterparty = world.counterparty(code=code, responsible=responsible)
    case = world.open_case(counterparty, actor=kw.pop("actor", "supervisor"), **kw)
    db.session.flush()
    return case.id


# ---------------------------------------------------------------------------------------------
# Who sees what


def test_sales_see_only_their_own_cases(screen_world, sign_in):
    with screen_world.db():
        mine = case_row(_case(screen_world, "MINE"))
        theirs = case_row(_case(screen_world, "THEIRS", responsible="sales2"))
        strategy = screen_world.strategy(theirs, "cash_collection", actor="supervisor")
        mine_no, theirs_no, theirs_cp = mine.number, theirs.number, theirs.counterparty_id
        mine_id, theirs_id, strategy_id = mine.id, theirs.id, strategy.id
    client = sign_in("sales")
    listing = text(client.get("/cases/"))
    assert mine_no in listing and theirs_no not in listing
    assert client.get(f"/cases/{mine_id}").status_code == 200
    for url in (
        f"/cases/{theirs_id}",
        f"/cases/{theirs_id}/edit",
        f"/cases/strategies/{strategy_id}",
        f"/cases/new?counterparty_id={theirs_cp}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/cases/{theirs_id}/start", data={"version": "1"}).status_code == 404


def test_a_collector_assigned_a_case_may_work_it(screen_world, sign_in):
    with screen_world.db():
        case = case_row(_case(screen_world, "ASSIGNED", responsible="sales2"))
        services.assign_case(
            case,
            screen_world.user_ids["sales"],
            version=case.version,
            actor=screen_world.user("supervisor"),
        )
        case_id = case.id
    assert sign_in("sales").get(f"/cases/{case_id}").status_code == 200
    assert sign_in("sales2").get(f"/cases/{case_id}").status_code == 200  # their counterparty


def test_finance_legal_executive_read_but_do_not_edit(screen_world, sign_in):
    with screen_world.db():
        case_id = _case(screen_world)
    for name in ("finance", "legal", "executive"):
        client = sign_in(name)
        assert client.get("/cases/").status_code == 200
        assert client.get(f"/cases/{case_id}").status_code == 200
        assert client.get(f"/cases/{case_id}/edit").status_code == 403
        assert client.get("/cases/approvals").status_code == 200
    sales = sign_in("sales")
    assert sales.get("/cases/approvals").status_code == 403
    assert sales.get("/cases/proposals").status_code == 403


# ---------------------------------------------------------------------------------------------
# Opening and editing


def test_open_a_case_through_the_form(screen_world, sign_in):
    with screen_world.db():
        counterparty_id = screen_world.counterparty(code="FORM", overdue=Decimal("1234.50")).id
    client = sign_in("sales")
    page = text(client.get(f"/cases/new?counterparty_id={counterparty_id}"))
    assert 'value="1234.50"' in page  # the target is proposed as what is overdue
    response = client.post(
        f"/cases/new?counterparty_id={counterparty_id}",
        data={
            "cause": "quality_dispute",
            "cause_note": "Says two pumps failed",
            "target_amount": "1,234.50",
            "target_date": (screen_world.today + timedelta(days=30)).isoformat(),
            "plan": "Inspect the pumps with the service team",
            "origin": "manual",
        },
    )
    assert response.status_code == 302
    with screen_world.db():
        case = db.session.scalar(
            sa.select(RecoveryCase).where(RecoveryCase.counterparty_id == counterparty_id)
        )
        assert response.headers["Location"].endswith(f"/cases/{case.id}")
        assert (case.cause, case.target_amount, case.assignee_id) == (
            "quality_dispute",
            Decimal("1234.50"),
            screen_world.user_ids["sales"],
        )
        case_id = case.id
    # Asking again leads to the open case.
    again = client.get(f"/cases/new?counterparty_id={counterparty_id}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/cases/{case_id}")


def test_choose_the_counterparty_by_code(screen_world, sign_in):
    with screen_world.db():
        name = screen_world.counterparty(code="BYCODE").name
    client = sign_in("supervisor")
    assert 'name="counterparty"' in text(client.get("/cases/new"))
    unknown = text(client.get("/cases/new?counterparty=NOPE"))
    assert "No counterparty has this code." in unknown and 'value="NOPE"' in unknown
    page = text(client.get("/cases/new?counterparty=BYCODE"))
    assert 'data-testid="case-form"' in page and name in page


def test_nothing_overdue_re_shows_the_form_with_the_reason(screen_world, sign_in):
    with screen_world.db():
        counterparty_id = screen_world.counterparty(code="CLEAN", overdue=0).id
    client = sign_in("sales")
    response = client.post(
        f"/cases/new?counterparty_id={counterparty_id}",
        data={"cause": "other", "plan": "Typed plan stays", "origin": "manual"},
    )
    page = text(response)
    assert response.status_code == 200
    assert "is overdue today: give the reason for opening a case." in page
    assert "Typed plan stays" in page
    with screen_world.db():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCase)) == 0
    response = client.post(
        f"/cases/new?counterparty_id={counterparty_id}",
        data={"cause": "other", "opening_reason": "Insolvency announced", "origin": "manual"},
    )
    assert response.status_code == 302


def test_optimistic_locking_between_two_clients(screen_world, sign_in):
    with screen_world.db():
        case_id = _case(screen_world, plan="Original plan")
    sales, supervisor = sign_in("sales"), sign_in("supervisor")
    edit = f"/cases/{case_id}/edit"
    sales_version = version_in(text(sales.get(edit)))
    supervisor_version = version_in(text(supervisor.get(edit)))
    assert sales_version == supervisor_version

    form = {"cause": "cash_shortage", "target_amount": "", "target_date": ""}
    saved = supervisor.post(
        edit, data={**form, "plan": "Supervisor's plan", "version": supervisor_version}
    )
    assert saved.status_code == 302

    refused = sales.post(edit, data={**form, "plan": "Sales plan typed", "version": sales_version})
    page = text(refused)
    assert refused.status_code == 200
    assert "Changed by User supervisor at" in page
    assert "Sales plan typed" in page  # what the user typed is still there
    assert 'data-testid="current-values"' in page and "Supervisor&#39;s plan" in page
    with screen_world.db():
        assert case_row(case_id).plan == "Supervisor's plan"

    # Saving again, knowing the current values, goes through.
    again = sales.post(edit, data={**form, "plan": "Merged plan", "version": version_in(page)})
    assert again.status_code == 302
    with screen_world.db():
        assert case_row(case_id).plan == "Merged plan"


def test_a_post_without_the_version_is_refused(screen_world, sign_in):
    with screen_world.db():
        case_id = _case(screen_world, plan="Original plan")
    response = sign_in("sales").post(
        f"/cases/{case_id}/edit", data={"cause": "other", "plan": "No version"}
    )
    assert response.status_code == 200 and "Changed by" in text(response)
    with screen_world.db():
        assert case_row(case_id).plan == "Original plan"


def test_a_stale_button_does_nothing(screen_world, sign_in):
    with screen_world.db():
        case_id = _case(screen_world)
        version = case_row(case_id).version
    client = sign_in("sales")
    response = client.post(f"/cases/{case_id}/start", data={"version": str(version - 1)})
    assert response.status_code == 302
    with screen_world.db():
        assert case_row(case_id).status == "open"
    client.post(f"/cases/{case_id}/start", data={"version": str(version)})
    with screen_world.db():
        assert case_row(case_id).status == "in_progress"


# ---------------------------------------------------------------------------------------------
# The case page and the list


def test_case_page_shows_balances_progress_and_strategies(screen_world, sign_in):
    with screen_world.db():
        counterparty = screen_world.counterparty(code="PAGE", overdue=Decimal("10000.00"))
        case = screen_world.open_case(counterparty, target_amount=Decimal("4000.00"))
        screen_world.ledger.receipt(counterparty, "1000.00", screen_world.today)
        screen_world.secured(case)
        case_id = case.id
    page = text(sign_in("sales").get(f"/cases/{case_id}"))
    assert 'data-testid="figure-outstanding">9,000.00' in page
    assert 'data-testid="figure-recovered">1,000.00' in page
    assert "(25.0 %)" in page
    assert 'id="case-progress" max="100" value="25.0"' in page
    assert "Secured arrangement" in page and 'data-step="finance_review"' in page
    assert 'data-testid="proposal"' in page


def test_case_list_filters_and_pages(screen_world, sign_in):
    with screen_world.db():
        for number in range(51):
            counterparty = screen_world.counterparty(code=f"N{number:02d}", overdue=0)
            screen_world.open_case(counterparty, actor="supervisor", opening_reason="Batch")
        secured = case_row(_case(screen_world, "SEC", assignee_id=screen_world.user_ids["sales2"]))
        screen_world.secured(secured)
        closed = case_row(_case(screen_world, "GONE"))
        services.close_case(
            closed,
            "written_off",
            "WO",
            version=closed.version,
            actor=screen_world.user("supervisor"),
            today=screen_world.today,
        )
        secured_no, closed_no = secured.number, closed.number
    client = sign_in("supervisor")

    def numbers(url):
        return re.findall(r'data-case="([^"]+)"', text(client.get(url)))

    assert len(numbers("/cases/")) == 50
    assert len(numbers("/cases/?page=2")) == 2  # 53 cases, one closed: 52 not closed
    assert numbers("/cases/?status=closed") == [closed_no]
    assert numbers("/cases/?strategy=secured") == [secured_no]
    assignee = screen_world.user_ids["sales2"]
    assert numbers(f"/cases/?assignee={assignee}") == [secured_no]
    assert len(numbers("/cases/?assignee=none&status=all&page=2")) == 2  # 52 unassigned
    assert client.get("/cases/?status=bogus&assignee=x&strategy=y&page=-3").status_code == 200


# ---------------------------------------------------------------------------------------------
# Strategies and approvals on screen


def test_record_a_strategy_and_submit_it(screen_world, sign_in):
    with screen_world.db():
        case_id = _case(screen_world, "STRAT", actor="sales")
    client = sign_in("sales")
    page = text(client.get(f"/cases/{case_id}/strategies/new"))
    assert 'data-proposed="cash_collection"' in page  # funds good by default
    refused = client.post(f"/cases/{case_id}/strategies/new", data={"kind": "secured"})
    assert refused.status_code == 200 and "give your rationale" in text(refused)
    response = client.post(
        f"/cases/{case_id}/strategies/new",
        data={"kind": "secured", "rationale": "A mortgage is on offer"},
    )
    assert response.status_code == 302
    strategy_id = int(response.headers["Location"].rsplit("/", 1)[1])
    base = f"/cases/strategies/{strategy_id}"
    version = version_in(text(client.get(f"{base}/edit")))
    saved = client.post(
        f"{base}/edit",
        data={
            "rationale": "A mortgage is on offer",
            "investigation": "Plant visited",
            "version": version,
        },
    )
    assert saved.status_code == 302
    bad = client.post(
        f"{base}/collateral/new", data={"kind": "mortgage", "asset": "Hall", "value": "abc"}
    )
    assert bad.status_code == 200 and 'value="abc"' in text(bad)
    added = client.post(
        f"{base}/collateral/new", data={"kind": "mortgage", "asset": "Hall", "value": "90000"}
    )
    assert added.status_code == 302
    page = text(client.get(base))
    client.post(f"{base}/submit", data={"version": version_in(page)})
    with screen_world.db():
        strategy = db.session.get(Strategy, strategy_id)
        assert (strategy.status, strategy.step) == ("pending", "finance_review")
        assert strategy.collateral[0].value == Decimal("90000.00")


def _pending_secured(world, proposer="sales") -> tuple[int, int]:
    """(strategy id, version) of a secured arrangement waiting for finance."""
    with world.db():
        case = case_row(_case(world, "APPR", actor="supervisor"))
        strategy = world.submit(world.secured(case, actor=proposer), actor=proposer)
        db.session.flush()
        return strategy.id, strategy.version


def test_decide_through_the_approvals_page(screen_world, sign_in):
    strategy_id, _version = _pending_secured(screen_world)
    finance = sign_in("finance")
    page = text(finance.get("/cases/approvals"))
    assert f'data-strategy="{strategy_id}"' in page
    response = finance.post(
        f"/cases/strategies/{strategy_id}/decide",
        data={"approve": "1", "version": version_in(page)},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/strategies/{strategy_id}")
    assert f'data-strategy="{strategy_id}"' not in text(finance.get("/cases/approvals"))

    legal = sign_in("legal")
    page = text(legal.get("/cases/approvals"))
    refused = legal.post(
        f"/cases/strategies/{strategy_id}/decide",
        data={"send_back": "1", "version": version_in(page), "reason": ""},
    )
    assert refused.status_code == 200 and "Give the reason." in text(refused)
    legal.post(
        f"/cases/strategies/{strategy_id}/decide",
        data={
            "send_back": "1",
            "version": version_in(page),
            "reason": "Registry extract missing",
        },
    )
    with screen_world.db():
        strategy = db.session.get(Strategy, strategy_id)
        assert strategy.status == "draft"
        assert [d.decision for d in strategy.decisions] == ["submitted", "approved", "sent_back"]
    proposer_view = text(sign_in("sales").get(f"/cases/strategies/{strategy_id}"))
    assert "Registry extract missing" in proposer_view


def test_self_approval_and_wrong_role_refused_on_screen(screen_world, sign_in):
    strategy_id, version = _pending_secured(screen_world, proposer="finlegal")
    proposer = sign_in("finlegal")
    page = text(proposer.get(f"/cases/strategies/{strategy_id}"))
    assert 'data-testid="refusal"' in page
    assert "Nobody decides on a strategy they proposed." in page
    refused = proposer.post(
        f"/cases/strategies/{strategy_id}/decide", data={"approve": "1", "version": str(version)}
    )
    assert refused.status_code == 200
    assert "Nobody decides on a strategy they proposed." in text(refused)

    executive = sign_in("executive")
    refused = executive.post(
        f"/cases/strategies/{strategy_id}/decide", data={"approve": "1", "version": str(version)}
    )
    assert "The Finance review step needs the Finance role." in text(refused)
    with screen_world.db():
        assert len(db.session.get(Strategy, strategy_id).decisions) == 1


def test_in_kind_completion_on_screen_posts_the_receipt(screen_world, sign_in):
    with screen_world.db():
        counterparty = screen_world.counterparty(code="INK", overdue=Decimal("5000.00"))
        case = screen_world.open_case(counterparty)
        strategy = screen_world.strategy(
            case,
            "in_kind",
            appraised_value=Decimal("3000.00"),
            appraiser="Appraiser Co.",
            appraised_on=screen_world.today,
            accepted_value=Decimal("2800.00"),
        )
        screen_world.submit(strategy)
        screen_world.approve_all(strategy)
        strategies.update_strategy(
            strategy,
            version=strategy.version,
            actor=screen_world.user("sales"),
            today=screen_world.today,
            title_registration_no="BDC-1",
            title_registered_on=screen_world.today,
        )
        case_id, strategy_id = case.id, strategy.id
    sales_page = text(sign_in("sales").get(f"/cases/strategies/{strategy_id}"))
    assert 'data-testid="complete-strategy"' not in sales_page  # finance posts receipts
    finance = sign_in("finance")
    page = text(finance.get(f"/cases/strategies/{strategy_id}"))
    assert 'data-testid="complete-strategy"' in page
    finance.post(f"/cases/strategies/{strategy_id}/complete", data={"version": version_in(page)})
    with screen_world.db():
        receipt = db.session.scalar(
            sa.select(Receipt).where(Receipt.receipt_no == f"INK-{strategy_id}")
        )
        assert receipt is not None and receipt.amount == Decimal("2800.00")
    page = text(finance.get(f"/cases/{case_id}"))
    assert 'data-testid="figure-outstanding">2,200.00' in page


# ---------------------------------------------------------------------------------------------
# Field visit, extension, referral, closing, proposals


def test_visit_extension_refer_and_close_on_screen(screen_world, sign_in):
    with screen_world.db():
        case_id = _case(screen_world, "FLOW", actor="sales")
    sales = sign_in("sales")
    page = text(sales.get(f"/cases/{case_id}"))
    sales.post(f"/cases/{case_id}/visit", data={"version": version_in(page)})
    with screen_world.db():
        assert case_row(case_id).visit_requested_at is not None

    until = (screen_world.today + timedelta(days=4)).isoformat()
    refused = sales.post(
        f"/cases/{case_id}/extensions/new",
        data={"reason": "", "next_plan": "Plan typed", "until_on": until},
    )
    assert refused.status_code == 200 and "Plan typed" in text(refused)
    sales.post(
        f"/cases/{case_id}/extensions/new",
        data={"reason": "Debtor travelling", "next_plan": "Visit on return", "until_on": until},
    )
    with screen_world.db():
        extension_id = db.session.scalar(sa.select(ExtensionRequest.id))
    supervisor = sign_in("supervisor")
    supervisor.post(f"/cases/extensions/{extension_id}/decide", data={"approve": "1"})
    with screen_world.db():
        assert db.session.get(ExtensionRequest, extension_id).status == "approved"

    # Referring is the legal part's referral flow (tests/legal): the old address leads there.
    refer = sales.get(f"/cases/{case_id}/refer")
    assert refer.status_code == 302
    assert f"/legal/referrals/new?case_id={case_id}" in refer.headers["Location"]

    page = text(sales.get(f"/cases/{case_id}/close"))
    refused = sales.post(
        f"/cases/{case_id}/close",
        data={"outcome": "recovered", "note": "", "version": version_in(page)},
    )
    assert refused.status_code == 200 and "still outstanding" in text(refused)
    sales.post(
        f"/cases/{case_id}/close",
        data={"outcome": "written_off", "note": "WO-77", "version": version_in(page)},
    )
    with screen_world.db():
        assert case_row(case_id).outcome == "written_off"


def test_proposals_page_opens_a_proposed_case(screen_world, sign_in):
    with screen_world.db():
        counterparty_id = screen_world.counterparty(code="PROP", overdue=Decimal("150000.00")).id
    supervisor = sign_in("supervisor")
    assert 'data-counterparty="PROP"' in text(supervisor.get("/cases/proposals"))
    form = text(supervisor.get(f"/cases/new?counterparty_id={counterparty_id}&origin=proposed"))
    origin = next(tag for tag in re.findall(r"<input[^>]*>", form) if 'name="origin"' in tag)
    assert 'value="proposed"' in origin
    response = supervisor.post(
        f"/cases/new?counterparty_id={counterparty_id}",
        data={
            "cause": "cash_shortage",
            "origin": "proposed",
            "assignee_id": str(screen_world.user_ids["sales"]),
        },
    )
    assert response.status_code == 302
    with screen_world.db():
        case = db.session.scalar(sa.select(RecoveryCase))
        assert case.origin == "proposed" and case.assignee_id == screen_world.user_ids["sales"]
    assert 'data-counterparty="PROP"' not in text(supervisor.get("/cases/proposals"))
