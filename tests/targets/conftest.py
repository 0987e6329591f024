"""Builders for the targets tests: an organisation (company → east, west; east → east-1),
people in it, and the ledger and recovery builders of the worklist tests."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale

from recovery.audit.context import Actor, acting_as
from recovery.auth import services as auth
from recovery.extensions import db
from recovery.parties.models import Counterparty
from recovery.responsibility import services as responsibility
from tests.conftest import TEST_PASSWORD
from tests.worklist.conftest import L, WorkBuilder  # noqa: F401 - L re-exported for the tests


@dataclass
class Org:
    company: object
    east: object
    east1: object
    west: object
    chen: object  # sales, east
    lin: object  # sales, east-1
    zhou: object  # sales, west
    boss: object  # supervisor, east
    lonely: object  # supervisor without a department
    chief: object  # executive
    chief2: object  # executive
    fin: object  # finance


def make_org() -> Org:
    company = auth.create_department("集团", "company", None)
    east = auth.create_department("东区", "department", company)
    east1 = auth.create_department("东一组", "department", east)
    west = auth.create_department("西区子公司", "subsidiary", company)

    def user(username, role, department, name):
        return auth.create_user(
            username, TEST_PASSWORD, [role], display_name=name, department=department
        )

    org = Org(
        company=company,
        east=east,
        east1=east1,
        west=west,
        chen=user("chen", "sales", east, "陈"),
        lin=user("lin", "sales", east1, "林"),
        zhou=user("zhou", "sales", west, "周"),
        boss=user("boss", "supervisor", east, "主管"),
        lonely=user("lonely", "supervisor", None, "孤"),
        chief=user("chief", "executive", company, "总"),
        chief2=user("chief2", "executive", company, "副总"),
        fin=user("fin", "finance", company, "财"),
    )
    db.session.flush()
    return org


def reassign(counterparty_id: int, to_user, boss, at):
    """A supervisor's reassignment of a counterparty at a given moment (naive UTC)."""
    with acting_as(Actor(boss.id, boss.username, "test")):
        responsibility.reassign(
            db.session.get(Counterparty, counterparty_id),
            to_user.id,
            reason="区域调整",
            actor=boss,
            now=at,
        )
        db.session.commit()


def april_ledger() -> Org:
    """X1 (东一组): chen until 15 April 10:00 Beijing time, then lin. X2 (西区): zhou.

    X1: A 10,000.00 due 1 Feb; B 5,000.00 due 10 April. X2: C 8,000.00 due 15 March.
    Receipts: X1 500 on 31 March; X1 3,000 on 5 April (chen's); X2 1,000 on 10 April;
    X1 100 on 15 April (the day of the reassignment: lin's); X1 2,000 on 20 April (lin's)."""
    work = WorkBuilder()
    org = make_org()
    x1 = work.counterparty("X1", responsible_id=org.chen.id, department_id=org.east1.id)
    x2 = work.counterparty("X2", responsible_id=org.zhou.id, department_id=org.west.id)
    work.item(x1, 10000, date(2026, 1, 1), date(2026, 2, 1), document_no="A")
    work.item(x1, 5000, date(2026, 3, 1), date(2026, 4, 10), document_no="B")
    work.item(x2, 8000, date(2026, 2, 1), date(2026, 3, 15), document_no="C")
    work.receipt(x1, 500, date(2026, 3, 31))
    work.receipt(x1, 3000, date(2026, 4, 5))
    work.receipt(x2, 1000, date(2026, 4, 10))
    db.session.commit()
    reassign(x1.id, org.lin, org.boss, L(2026, 4, 15, 10, 0))
    work.receipt(x1, 100, date(2026, 4, 15))
    work.receipt(x1, 2000, date(2026, 4, 20))
    db.session.commit()
    return org


@contextmanager
def english(app):
    """An app context whose messages are in English (the refusals are matched on text)."""
    with app.app_context(), force_locale("en"):
        yield
