"""Writes to counterparties, contacts, projects and contracts."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from recovery.extensions import db
from recovery.parties.models import Contact, Contract, Counterparty, Project


class PartyError(ValueError):
    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def validate_credit_code(text: str | None) -> str | None:
    """A unified social credit code (统一社会信用代码): 18 characters with a check character."""
    if text is None or not text.strip():
        return None
    try:
        return uscc.validate(text.strip().upper())
    except ValidationError as exc:
        raise PartyError(
            _l("Not a valid unified social credit code (18 characters, check character)."),
            field="credit_code",
        ) from exc


def find_counterparty(code: str) -> Counterparty | None:
    return db.session.scalar(sa.select(Counterparty).where(Counterparty.code == code.strip()))


def find_project(code: str) -> Project | None:
    return db.session.scalar(sa.select(Project).where(Project.code == code.strip()))


def find_contract(number: str) -> Contract | None:
    return db.session.scalar(sa.select(Contract).where(Contract.number == number.strip()))


def _unique(model, column, value, current=None, field=None):
    query = sa.select(model.id).where(column == value)
    if current is not None and current.id is not None:
        query = query.where(model.id != current.id)
    if db.session.scalar(query) is not None:
        raise PartyError(_l("This code is already used."), field=field)


def save_counterparty(counterparty: Counterparty | None = None, **values) -> Counterparty:
    """Create (counterparty None) or update a counterparty, validating code and credit code."""
    counterparty = counterparty or Counterparty()
    if "code" in values:
        values["code"] = (values["code"] or "").strip()
        if not values["code"]:
            raise PartyError(_l("A code is required."), field="code")
        _unique(Counterparty, Counterparty.code, values["code"], counterparty, "code")
    if "name" in values and not (values["name"] or "").strip():
        raise PartyError(_l("A name is required."), field="name")
    if "credit_code" in values:
        values["credit_code"] = validate_credit_code(values["credit_code"])
        if values["credit_code"]:
            _unique(
                Counterparty,
                Counterparty.credit_code,
                values["credit_code"],
                counterparty,
                "credit_code",
            )
    if values.get("credit_limit") is not None and values["credit_limit"] < 0:
        raise PartyError(_l("The credit limit cannot be negative."), field="credit_limit")
    for key, value in values.items():
        setattr(counterparty, key, value)
    if counterparty.id is None:
        db.session.add(counterparty)
    db.session.flush()
    return counterparty


def save_contact(contact: Contact | None = None, **values) -> Contact:
    contact = contact or Contact()
    if not (values.get("name", contact.name) or "").strip():
        raise PartyError(_l("A name is required."), field="name")
    for key, value in values.items():
        setattr(contact, key, value)
    if contact.id is None:
        db.session.add(contact)
    db.session.flush()
    return contact


def save_project(project: Project | None = None, **values) -> Project:
    project = project or Project()
    if "code" in values:
        values["code"] = (values["code"] or "").strip()
        if not values["code"]:
            raise PartyError(_l("A code is required."), field="code")
        _unique(Project, Project.code, values["code"], project, "code")
    for key, value in values.items():
        setattr(project, key, value)
    if not project.name:
        project.name = project.code
    if project.id is None:
        db.session.add(project)
    db.session.flush()
    return project


def save_contract(contract: Contract | None = None, **values) -> Contract:
    contract = contract or Contract()
    if "number" in values:
        values["number"] = (values["number"] or "").strip()
        if not values["number"]:
            raise PartyError(_l("A contract number is required."), field="number")
        _unique(Contract, Contract.number, values["number"], contract, "number")
    rate = values.get("overdue_rate")
    if rate is not None and (rate < 0 or rate > 100):
        raise PartyError(_l("The rate must be between 0 and 100 %."), field="overdue_rate")
    for key, value in values.items():
        setattr(contract, key, value)
    if contract.id is None:
        db.session.add(contract)
    db.session.flush()
    return contract
