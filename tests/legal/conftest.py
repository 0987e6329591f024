"""A small world for legal tests: one user per role, a counterparty with overdue items under a
contract, an open case worked by the sales user; files made in memory; a real SMTP server on
loopback (aiosmtpd) for the e-mails to the case owner.

Users read English (their language is set), so the screens' words do not depend on the
catalogs.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale
from werkzeug.datastructures import FileStorage

from recovery.activities import evidence
from recovery.auth.models import User
from recovery.cases import services as cases
from recovery.cases.models import RecoveryCase
from recovery.extensions import db
from recovery.legal import services
from recovery.parties import services as parties
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder

D = date
USERS = {
    "sales": ("sales",),
    "sales2": ("sales",),
    "finance": ("finance",),
    "legal": ("legal",),
    "legal2": ("legal",),
    "supervisor": ("supervisor",),
    "executive": ("executive",),
    "admin": ("admin",),
    # May send and review: never both for one referral.
    "finlegal": ("finance", "legal"),
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SALE_KINDS = ("delivery", "invoice", "balance_confirmation", "demand")


def upload(name: str = "evidence.pdf", content: bytes = PDF) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=name, content_type="application/pdf")


class World:
    """Users, a counterparty ``CP-L`` with two overdue items under contract ``HT-1`` and one
    not yet due, and its case — all inside an app context (``today`` is 2025-06-30)."""

    def __init__(self, user_ids: dict[str, int], today: date = D(2025, 6, 30)):
        self.user_ids = user_ids
        self.today = today
        self.ledger = LedgerBuilder()

    def user(self, name: str) -> User:
        return db.session.get(User, self.user_ids[name])

    def setup(self):
        self.counterparty = self.ledger.counterparty(
            code="CP-L", name="被告有限公司", responsible_id=self.user_ids["sales"]
        )
        self.contract = parties.save_contract(
            number="HT-1",
            counterparty_id=self.counterparty.id,
            signed_on=D(2024, 10, 1),
            amount=Decimal("500000.00"),
        )
        self.item1 = self.ledger.item(
            self.counterparty,
            "100000.00",
            D(2025, 1, 1),
            D(2025, 1, 31),
            document_no="INV-1",
            contract_id=self.contract.id,
            overdue_rate=Decimal("3.65"),
        )
        self.item2 = self.ledger.item(
            self.counterparty,
            "10000.00",
            D(2025, 2, 1),
            D(2025, 3, 1),
            document_no="INV-2",
            contract_id=self.contract.id,
        )
        self.item3 = self.ledger.item(
            self.counterparty,
            "5000.00",
            D(2025, 6, 1),
            D(2025, 7, 31),
            document_no="INV-3",
            contract_id=self.contract.id,
        )
        self.case = cases.open_case(
            self.counterparty, actor=self.user("sales"), today=self.today, cause="wilful_default"
        )
        db.session.flush()
        return self

    def referral(self, claim_type="sale_of_goods", as_of=None, actor="sales", note="Sue now."):
        return services.start_referral(
            self.case,
            claim_type=claim_type,
            claim_as_of=as_of or self.today,
            note=note,
            actor=self.user(actor),
            today=self.today,
        )

    def attach(self, referral, kind, name=None, actor="sales"):
        staged = evidence.stage_files([upload(name or f"{kind}.pdf")])
        return services.add_documents(
            referral, staged, kind=kind, note=None, actor=self.user(actor)
        )

    def complete(self, referral, kinds=SALE_KINDS):
        for kind in kinds:
            self.attach(referral, kind)
        return referral

    def submit(self, referral, actor="sales"):
        user = self.user(actor)  # loading a user autoflushes: read the version after it
        return services.submit_referral(
            referral, version=referral.version, actor=user, today=self.today
        )

    def review(self, referral, decision, actor="legal", reason=None, missing=None):
        user = self.user(actor)
        return services.review_referral(
            referral,
            decision,
            version=referral.version,
            reason=reason,
            missing_kinds=missing,
            actor=user,
        )

    def accepted(self):
        referral = self.complete(self.referral())
        self.submit(referral)
        return self.review(referral, "accepted")

    def lawsuit(self, filed_on=D(2025, 4, 1)):
        referral = self.accepted()
        return services.file_lawsuit(
            referral,
            court="北京市朝阳区人民法院",
            case_number="(2025)京0105民初123号",
            filed_on=filed_on,
            court_fee=Decimal("2300.00"),
            actor=self.user("legal"),
            today=self.today,
        )


@pytest.fixture
def user_ids(app, make_user):
    return {
        name: make_user(
            name,
            *roles,
            display_name=f"User {name}",
            language="en",
            email=f"{name}@example.cn",
        ).id
        for name, roles in USERS.items()
    }


@pytest.fixture
def world(app, user_ids):
    """The world with an app context pushed for the test (service tests), in English."""
    with app.app_context(), force_locale("en"):
        yield World(user_ids).setup()
        db.session.rollback()


class ScreenWorld(World):
    """For screen tests: no app context stays pushed; setup and checks run inside
    ``with world.db():`` (committed at the end). Keep ids across blocks, not ORM objects."""

    def __init__(self, app, user_ids):
        super().__init__(user_ids)
        self.app = app

    @contextmanager
    def db(self):
        with self.app.app_context(), force_locale("en"):
            if getattr(self, "case_id", None):  # the objects of the setup, in this session
                self.case = db.session.get(RecoveryCase, self.case_id)
                self.counterparty = self.case.counterparty
            yield
            db.session.commit()


@pytest.fixture
def screen_world(app, user_ids):
    world = ScreenWorld(app, user_ids)
    with world.db():
        world.setup()
        world.case_id = world.case.id
    return world


@pytest.fixture
def sign_in(app):
    def do(name: str):
        client = app.test_client()
        response = login(client, name)
        assert response.status_code == 302, response.data
        return client

    return do


# ---------------------------------------------------------------------------------------------
# A real SMTP server on loopback


@dataclass
class Inbox:
    messages: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A running SMTP server; the app sends through it."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_STARTTLS=False,
        SMTP_SENDER="legal@example-group.cn",
        SMTP_USER="",
        SMTP_TIMEOUT=5,
    )
    yield inbox
    controller.stop()
    asyncio.set_event_loop(None)
