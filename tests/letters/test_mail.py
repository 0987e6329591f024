"""recovery/core/mail.py through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from recovery.core.mail import MailError, mail_configured, send_mail, valid_address
from tests.letters.conftest import SENDER

PDF = b"%PDF-1.4\n% a tiny attachment\n%%EOF\n"


def test_a_message_arrives_with_its_attachment(app, smtp):
    with app.app_context():
        assert mail_configured()
        send_mail(
            ["zhang@jia.example.cn"],
            "催款函 LTR-2025-00001",
            "请查收附件。",
            [("催款函-LTR-2025-00001.pdf", PDF, "application/pdf")],
        )
    assert len(smtp.inbox.received) == 1
    received = smtp.inbox.received[0]
    assert received.mail_from == SENDER
    assert received.recipients == ["zhang@jia.example.cn"]
    assert received.message["To"] == "zhang@jia.example.cn"
    assert received.message["Subject"] == "催款函 LTR-2025-00001"
    assert received.message.get_body(("plain",)).get_content().strip() == "请查收附件。"
    assert received.attachments == [("催款函-LTR-2025-00001.pdf", PDF, "application/pdf")]


def test_not_configured(app):
    with app.app_context(), force_locale("en"):
        app.config.update(SMTP_HOST="", SMTP_SENDER="")
        assert not mail_configured()
        with pytest.raises(MailError) as refused:
            send_mail(["a@example.cn"], "s", "b")
        assert "not configured" in refused.value.reason


def test_server_down_is_a_mail_error_with_the_reason(app, smtp_down):
    with app.app_context(), pytest.raises(MailError) as refused:
        send_mail(["a@example.cn"], "s", "b")
    assert "ConnectionRefusedError" in refused.value.reason


def test_a_refused_recipient_is_named(app, smtp):
    smtp.inbox.refuse.add("gone@example.cn")
    with app.app_context(), pytest.raises(MailError) as refused:
        send_mail(["gone@example.cn"], "s", "b")
    assert "gone@example.cn" in refused.value.reason
    assert "550" in refused.value.reason
    assert smtp.inbox.received == []


def test_some_recipients_refused(app, smtp):
    smtp.inbox.refuse.add("gone@example.cn")
    with app.app_context(), pytest.raises(MailError) as refused:
        send_mail(["ok@example.cn", "gone@example.cn"], "s", "b")
    assert "gone@example.cn" in refused.value.reason
    assert [r.recipients for r in smtp.inbox.received] == [["ok@example.cn"]]


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "a@b",
        "x@example.cn\r\nBcc: all@example.cn",
        "Name <a@example.cn>",
        "a b@c.cn",
    ],
)
def test_addresses_that_are_refused(app, smtp, address):
    assert not valid_address(address)
    with app.app_context(), pytest.raises(MailError):
        send_mail([address, "ok@example.cn"] if address else [address], "s", "b")
    assert smtp.inbox.received == []


def test_a_subject_cannot_add_headers(app, smtp):
    with app.app_context():
        send_mail(["ok@example.cn"], "Hello\r\nBcc: all@example.cn", "b")
    message = smtp.inbox.received[0].message
    assert message["Bcc"] is None
    assert message["Subject"] == "Hello Bcc: all@example.cn"
    assert smtp.inbox.received[0].recipients == ["ok@example.cn"]
