"""Random ledgers for the property tests: as import rows, or built through the services."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.extensions import db
from recovery.ledger import queries
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Contact, Contract, Counterparty, Project
from tests.ledger.conftest import LedgerBuilder

START = date(2023, 1, 1)
TYPES = ["goods", "parts", "progress", "retention", "主机货款", "保证金", "已完工未结算款"]
KINDS = ["dealer", "customer", "employer", "发包单位"]
METHODS = ["transfer", "acceptance_bill", "offset", "实物抵债", ""]
DEPARTMENTS = ["销售一部", "销售二部"]
USERS = ["wang", "li"]
FINANCE = ["fin.proposer", "fin.approver"]  # credit notes: proposed by one, decided by the other
# A contract's overdue terms: none, an annual rate, a rate per day (exported as its annual
# equivalent on the contract's items: the same interest to the fen).
CONTRACT_TERMS = [
    None,
    (Decimal("6"), "annual"),
    (Decimal("0.05"), "daily"),
    (Decimal("12.5"), "annual"),
]
AS_OF = [date(2023, 3, 1), date(2023, 12, 31), date(2024, 2, 29), date(2025, 6, 30)]


def _day(rnd: random.Random, span: int = 700) -> date:
    return START + timedelta(days=rnd.randrange(span))


def _amount(rnd: random.Random) -> str:
    return f"{rnd.randrange(1, 500_000) / 100:.2f}"


def rows(seed: int, counterparties=4, items=14, receipts=10) -> tuple[list[dict], list[dict]]:
    """(item rows, receipt rows) in the import format, consistent with each other."""
    rnd = random.Random(seed)
    cps = [(f"C{n:02d}", f"客户{n}", rnd.choice(KINDS)) for n in range(counterparties)]
    projects = {f"P{n}": f"项目{n}" for n in range(3)}
    item_rows, by_cp = [], {}
    for n in range(items):
        code, name, kind = rnd.choice(cps)
        recognized = _day(rnd)
        project = rnd.choice(["", *projects])
        contract = rnd.choice(["", f"K-{code}-1", f"K-{code}-2"])
        item_rows.append(
            {
                "counterparty_code": code,
                "counterparty_name": name,
                "counterparty_kind": kind,
                "project_code": project,
                "project_name": projects.get(project, ""),
                "contract_no": contract,
                "document_no": f"INV{n:04d}",
                "item_type": rnd.choice(TYPES),
                "amount": _amount(rnd),
                "recognized_on": recognized.isoformat(),
                "due_on": (
                    recognized + timedelta(days=rnd.choice([0, 15, 30, 90, 400]))
                ).isoformat(),
                "department": rnd.choice(["", *DEPARTMENTS]),
                "responsible": rnd.choice(["", *USERS]),
                "overdue_rate": rnd.choice(["", "6", "12.5", "0.05"]),
            }
        )
        by_cp.setdefault(code, []).append(f"INV{n:04d}")
    # A contract keeps the project of its first row, so that the rows agree.
    contract_projects = {}
    for row in item_rows:
        if row["contract_no"]:
            project = contract_projects.setdefault(row["contract_no"], row["project_code"])
            if row["project_code"] and row["project_code"] != project:
                row["project_code"], row["project_name"] = project, projects.get(project, "")
    receipt_rows = []
    for n in range(receipts):
        code = rnd.choice(list(by_cp))
        named = rnd.choice(["", "", rnd.choice(by_cp[code])])
        receipt_rows.append(
            {
                "receipt_no": f"R{n:04d}",
                "counterparty_code": code,
                "amount": _amount(rnd),
                "received_on": _day(rnd, 900).isoformat(),
                "method": rnd.choice(METHODS),
                "document_no": named,
                "reference": rnd.choice(["", f"ref {n}", "=cmd"]),
            }
        )
    return item_rows, receipt_rows


def people(app, make_user) -> None:
    """The departments and users the random rows name."""
    from recovery.auth import services as auth

    for username in USERS:
        make_user(username, "sales")
    for username in FINANCE:
        make_user(username, "finance")
    with app.app_context():
        company = auth.create_department("集团", "company", None)
        for name in DEPARTMENTS:
            auth.create_department(name, "department", company)
        db.session.commit()


def build(seed: int, counterparties=4, items=14, receipts=10, credits=True) -> None:
    """The same kind of ledger, written through the ledger services (allocation per document),
    with overdue terms on the contracts and — with ``credits`` — credit notes and write-offs
    (approved, rejected, or still awaiting approval) entered before the receipts."""
    from recovery.auth.services import find_department, find_user
    from recovery.ledger import services as ledger
    from recovery.ledger.codes import COUNTERPARTY_KINDS, ITEM_TYPES, RECEIPT_METHODS, resolve
    from recovery.parties import services as parties

    item_rows, receipt_rows = rows(seed, counterparties, items, receipts)
    extra = random.Random(seed + 1)  # what the import rows do not carry
    builder = LedgerBuilder()
    cps, projects, contracts, items_by_no = {}, {}, {}, {}
    for row in item_rows:
        code = row["counterparty_code"]
        if code not in cps:
            kind = resolve(COUNTERPARTY_KINDS, row["counterparty_kind"])
            cps[code] = builder.counterparty(code, name=row["counterparty_name"], kind=kind)
        project = None
        if row["project_code"]:
            if row["project_code"] not in projects:
                projects[row["project_code"]] = parties.save_project(
                    code=row["project_code"], name=row["project_name"]
                )
            project = projects[row["project_code"]]
        contract = None
        if row["contract_no"]:
            if row["contract_no"] not in contracts:
                terms = extra.choice(CONTRACT_TERMS)
                contracts[row["contract_no"]] = parties.save_contract(
                    number=row["contract_no"],
                    counterparty_id=cps[code].id,
                    project_id=project.id if project else None,
                    overdue_rate=terms[0] if terms else None,
                    rate_basis=terms[1] if terms else "annual",
                )
            contract = contracts[row["contract_no"]]
        department = find_department(row["department"]) if row["department"] else None
        user = find_user(row["responsible"]) if row["responsible"] else None
        items_by_no[row["document_no"]] = builder.item(
            cps[code],
            row["amount"],
            date.fromisoformat(row["recognized_on"]),
            date.fromisoformat(row["due_on"]),
            document_no=row["document_no"],
            item_type=resolve(ITEM_TYPES, row["item_type"]),
            project_id=project.id if project else None,
            contract_id=contract.id if contract else None,
            department_id=department.id if department else None,
            responsible_id=user.id if user else None,
            overdue_rate=Decimal(row["overdue_rate"]) if row["overdue_rate"] else None,
        )
    if credits:
        proposer, approver = (find_user(name) for name in FINANCE)
        for n, item in enumerate(items_by_no.values()):
            if extra.random() >= 0.35:
                continue
            adjustment = ledger.propose_adjustment(
                item,
                kind=extra.choice(["credit_note", "write_off"]),
                amount=Decimal(extra.randrange(1, max(2, int(item.amount * 50)))) / 100,
                dated_on=item.recognized_on + timedelta(days=extra.randrange(0, 300)),
                reason=extra.choice(["price", "=formula-like", "坏账"]),
                number=f"ADJ{n:04d}",
                actor=proposer,
            )
            decision = extra.choice(["approved", "approved", "approved", "rejected", "proposed"])
            if decision != "proposed":
                ledger.decide_adjustment(adjustment, approve=decision == "approved", actor=approver)
    for row in receipt_rows:
        builder.receipt(
            cps[row["counterparty_code"]],
            row["amount"],
            date.fromisoformat(row["received_on"]),
            receipt_no=row["receipt_no"],
            item=items_by_no.get(row["document_no"]),
            method=resolve(RECEIPT_METHODS, row["method"]) if row["method"] else "transfer",
            reference=row["reference"] or None,
        )
    db.session.commit()


def wipe() -> None:
    """Empty the ledger (not users, departments or the audit trail)."""
    from recovery.credit.models import CreditStatus
    from recovery.ledger.models import OverdueFigures
    from recovery.limitation.models import LimitationSign

    # The kept rows name counterparties (credit status, overdue figures, limitation signs).
    kept = (CreditStatus, OverdueFigures, LimitationSign)
    models = (Application, Adjustment, Receipt, Item, Contract, Project, Contact, *kept)
    for model in (*models, Counterparty):
        db.session.execute(sa.delete(model))
    db.session.commit()


def reports(as_of_dates=AS_OF) -> dict:
    """Every aging view on both bases, and the interest rows, as plain comparable values.

    An interest row's rate is compared as its annual equivalent: a contract's rate per day
    travels in the items file as that (0.05 %/day → 18.25 % a year at actual/365); every
    amount, the interest included, must be the same to the fen."""
    snapshot = {}
    for as_of in as_of_dates:
        for by in queries.DIMENSIONS:
            for basis in ("due", "age"):
                snapshot[(as_of, by, basis)] = [
                    (row.key, row.name, row.values)
                    for row in queries.aging(as_of, by=by, basis=basis)
                ]
        snapshot[(as_of, "interest")] = [
            {
                **{k: v for k, v in row.items() if k not in ("rate", "basis")},
                "annual_rate": row["rate"] * 365 if row["basis"] == "daily" else row["rate"],
            }
            for row in queries.interest_rows(as_of, Decimal("6"))
        ]
    return snapshot


def approve_all(approver: str = FINANCE[1]) -> int:
    """Approve every credit note and write-off awaiting a decision (as after an import)."""
    from recovery.auth.services import find_user
    from recovery.ledger import services as ledger

    user = find_user(approver)
    pending = db.session.scalars(
        sa.select(Adjustment).where(Adjustment.status == "proposed").order_by(Adjustment.id)
    ).all()
    for adjustment in pending:
        ledger.decide_adjustment(adjustment, approve=True, actor=user)
    db.session.commit()
    return len(pending)
