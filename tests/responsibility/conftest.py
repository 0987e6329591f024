"""A small organisation and ledger for the responsibility tests, built through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from flask_babel import force_locale

from recovery.audit.context import Actor, acting_as
from recovery.auth import services as auth
from recovery.auth.models import User
from recovery.extensions import db
from tests.ledger.conftest import LedgerBuilder

TODAY = date(2026, 6, 30)


@dataclass
class World:
    build: LedgerBuilder
    users: dict[str, User] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return db.session.get(User, self.users[name].id)


def make_people() -> dict[str, User]:
    """Two sales managers, a successor, two supervisors (one of them also sales, to leave),
    an executive, finance, legal and an administrator."""
    people = {
        "s1": ("sales",),
        "s2": ("sales",),
        "s3": ("sales",),
        "boss": ("supervisor",),
        "leaving_boss": ("supervisor", "sales"),
        "exec": ("executive",),
        "fin": ("finance",),
        "law": ("legal",),
        "root": ("admin",),
    }
    users = {}
    for username, roles in people.items():
        users[username] = auth.create_user(
            username, "correct-horse-9", roles, display_name=f"{username.upper()} 名"
        )
    db.session.flush()
    return users


@pytest.fixture
def world(app):
    """A pushed app context with the people made and committed; a builder for the ledger.

    English is forced so that messages and generated checklist lines read as the tests
    expect, whatever the catalogs translate them to."""
    with app.app_context(), force_locale("en"):
        users = make_people()
        db.session.commit()
        yield World(build=LedgerBuilder(), users=users)
        db.session.rollback()


def as_actor(user: User):
    """Act as ``user`` for the audit trail and the history listener."""
    return acting_as(Actor(user.id, user.username, "test"))
