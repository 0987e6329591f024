"""Letters: debtors with overdue items and named contacts, the company letterhead, a real SMTP
server on loopback (aiosmtpd), and reading a PDF's text back with pdftotext."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import subprocess
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from recovery import PROJECT_ROOT
from recovery.extensions import db
from recovery.parties.models import Contact
from recovery.settings.services import update_settings
from tests.conftest import login
from tests.ledger.conftest import LedgerBuilder

D = date
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "letters"
SENDER = "ar@example-group.cn"
COMPANY = {
    "company.name": "示例集团有限公司",
    "company.address": "北京市朝阳区示例路1号",
    "company.phone": "010-12345678",
    "company.payment_account": "中国银行北京分行 1234 5678 9012",
}


def free_port() -> int:
    """A port nobody listens on right now (asked of the OS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    message: email.message.EmailMessage

    @property
    def attachments(self) -> list[tuple[str, bytes, str]]:
        return [
            (part.get_filename(), part.get_content(), part.get_content_type())
            for part in self.message.iter_attachments()
        ]


@dataclass
class Inbox:
    """What a real SMTP server on loopback received."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app):
    """A running SMTP server; the app is configured to send through it (no TLS on loopback)."""
    server = SmtpServer(free_port())
    server.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=server.port,
        SMTP_STARTTLS=False,
        SMTP_SENDER=SENDER,
        SMTP_USER="",
        SMTP_TIMEOUT=5,
    )
    yield server
    server.stop()
    asyncio.set_event_loop(None)


@pytest.fixture
def smtp_down(app):
    """The app configured for an SMTP server that is not running (yet): ``start()`` it."""
    server = SmtpServer(free_port())
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=server.port,
        SMTP_STARTTLS=False,
        SMTP_SENDER=SENDER,
        SMTP_USER="",
        SMTP_TIMEOUT=5,
    )
    yield server
    server.stop()
    asyncio.set_event_loop(None)


@dataclass
class World:
    cp1: int  # sales1's: 10,000.00 due 2025-01-31 and 2,000.00 due 2025-03-31; contact with e-mail
    cp2: int  # sales2's: 5,000.00 due 2025-02-28; contact without e-mail
    cp3: int  # nothing overdue: 3,000.00 due 2025-12-31
    contact1: int
    contact2: int
    item1: int
    item2: int
    item3: int
    users: dict


@pytest.fixture
def world(app, make_user) -> World:
    users = {
        name: make_user(name, *roles, language="en").id
        for name, roles in {
            "sales1": ("sales",),
            "sales2": ("sales",),
            "sup1": ("supervisor",),
            "fin1": ("finance",),
            "legal1": ("legal",),
            "exec1": ("executive",),
        }.items()
    }
    with app.app_context():
        update_settings(COMPANY)
        build = LedgerBuilder()
        cp1 = build.counterparty("CP1", name="甲建设有限公司", responsible_id=users["sales1"])
        cp2 = build.counterparty("CP2", name="乙贸易有限公司", responsible_id=users["sales2"])
        cp3 = build.counterparty("CP3", name="丙科技有限公司", responsible_id=users["sales1"])
        contacts = [
            Contact(
                counterparty_id=cp1.id,
                name="张经理",
                email="zhang@jia.example.cn",
                is_primary=True,
            ),
            Contact(counterparty_id=cp2.id, name="赵总", phone="13900000001", is_primary=True),
            Contact(counterparty_id=cp3.id, name="钱会计", email="qian@bing.example.cn"),
        ]
        db.session.add_all(contacts)
        item1 = build.item(cp1, "10000.00", D(2025, 1, 1), D(2025, 1, 31), "INV-1")
        item2 = build.item(cp2, "5000.00", D(2025, 2, 1), D(2025, 2, 28), "INV-2")
        item3 = build.item(cp3, "3000.00", D(2025, 6, 1), D(2025, 12, 31), "INV-3")
        build.item(cp1, "2000.00", D(2025, 3, 1), D(2025, 3, 31), "INV-4")
        db.session.commit()
        return World(
            cp1.id,
            cp2.id,
            cp3.id,
            contacts[0].id,
            contacts[1].id,
            item1.id,
            item2.id,
            item3.id,
            users,
        )


def sign_in(app, username: str):
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, response.data
    return client


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """The text of a PDF as pdftotext reads it (poppler-utils), layout kept."""
    path = tmp_path / "letter.pdf"
    path.write_bytes(content)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode("utf-8")


def flat(text: str) -> str:
    """The text without white space, for phrases a line break may cut."""
    return "".join(text.split())


def render_png(content: bytes, name: str) -> Path:
    """The first page of a PDF as PNG in test-artifacts/letters/, for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(content)
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
            str(pdf),
            str(ARTIFACTS / name),
        ],
        check=True,
        timeout=60,
    )
    return ARTIFACTS / f"{name}.png"
