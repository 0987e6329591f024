"""The project page shows the lifetime responsible person (终身责任人) on the lines of items
under an unreviewed contract, as the counterparty and item pages do — after a reassignment
too, and to a sales user who sees the line."""

from __future__ import annotations

from datetime import date

from recovery.extensions import db
from recovery.parties import services as parties
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder
from tests.responsibility.conftest import make_people

D = date


def test_the_project_page_names_the_lifetime_responsible_person(app):
    with app.app_context():
        users = make_people()
        b = LedgerBuilder()
        project = parties.save_project(None, code="P-1", name="一号工地")
        debtor = b.counterparty("MINE", "甲公司", responsible_id=users["s1"].id)
        unreviewed = parties.save_contract(
            number="K-1",
            counterparty_id=debtor.id,
            project_id=project.id,
            reviewed=False,
            signer_id=users["s2"].id,
        )
        reviewed = parties.save_contract(
            number="K-2",
            counterparty_id=debtor.id,
            project_id=project.id,
            reviewed=True,
            signer_id=users["s3"].id,
        )
        b.item(debtor, "100.00", D(2025, 1, 1), D(2025, 2, 1), "I-UNDER",
               contract_id=unreviewed.id, project_id=project.id)  # fmt: skip
        b.item(debtor, "60.00", D(2025, 1, 1), D(2025, 2, 1), "I-REVIEWED",
               contract_id=reviewed.id, project_id=project.id)  # fmt: skip
        b.item(debtor, "50.00", D(2025, 1, 1), D(2025, 2, 1), "I-PLAIN", project_id=project.id)
        db.session.commit()
        url = f"/parties/projects/{project.id}?show=all"
        debtor_id, successor_id = debtor.id, users["s3"].id

    client = app.test_client()
    assert login(client, "boss").status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert page.count('data-testid="lifetime"') == 1
    assert lifetime_line(page)  # and not on the reviewed contract's item nor the plain one

    # A reassignment moves the seat, not the lifetime responsibility.
    response = client.post(
        f"/responsibility/counterparties/{debtor_id}/reassign",
        data={"to_user_id": successor_id, "reason": "调整"},
    )
    assert response.status_code == 302
    assert lifetime_line(client.get(url).get_data(as_text=True))

    # The sales user now responsible for the account sees it on the project page too.
    sales = app.test_client()
    assert login(sales, "s3").status_code == 302
    assert lifetime_line(sales.get(url).get_data(as_text=True))


def lifetime_line(page: str) -> bool:
    """Whether the line of I-UNDER names its contract's signer as responsible for life."""
    line = page.split('data-document="I-UNDER"')[1].split("</tr>")[0]
    return 'data-testid="lifetime"' in line and "S2 名" in line
