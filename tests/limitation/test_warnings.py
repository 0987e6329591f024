"""The daily warnings: each threshold's e-mail once per item, person and expiry date, through
a real SMTP server on loopback; nothing recorded when e-mail is off or the server is down."""

from __future__ import annotations

import re
import socket
from datetime import date
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa

from recovery.extensions import db
from recovery.limitation.models import LimitationWarning
from tests.limitation.smtp_server import SmtpServer

AS_OF = date(2025, 6, 30)


@pytest.fixture
def ledger(lim):
    """ACME (sales s1, with an e-mail address): Y ends in 18 days, X in 107, Z ended 55 days
    ago, W in more than 180. BETA (sales t1, no address): B ends in 18 days."""
    legal = lim.user("legal1", "legal", email="legal1@example.com")
    lim.user("legal2", "legal", email="legal2@example.com", active=False)
    s1 = lim.user("s1", email="s1@example.com")
    t1 = lim.user("t1")
    acme = lim.counterparty("ACME", responsible_id=s1.id)
    beta = lim.counterparty("BETA", responsible_id=t1.id)
    lim.item(acme, 100, date(2022, 7, 1), date(2022, 7, 18), document_no="Y")  # 2025-07-18
    lim.item(acme, 200, date(2022, 10, 1), date(2022, 10, 15), document_no="X")  # 2025-10-15
    lim.item(acme, 300, date(2022, 5, 1), date(2022, 5, 6), document_no="Z")  # 2025-05-06
    lim.item(acme, 400, date(2023, 8, 1), date(2023, 8, 1), document_no="W")
    lim.item(beta, 500, date(2022, 7, 1), date(2022, 7, 18), document_no="B")
    db.session.commit()
    return {"legal": legal, "s1": s1, "t1": t1, "acme": acme}


def configure_mail(app, port):
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SENDER="ar@example.com", SMTP_STARTTLS=False
    )


def warn(runner, day: date):
    return runner.invoke(args=["limitation", "warn", "--as-of", day.isoformat()])


def delivered(server) -> dict[str, str]:
    return {recipients[0]: message.get_content() for _s, recipients, message in server.messages}


def item_lines(body: str) -> dict[str, str]:
    """{document number: its line} of a warning e-mail (lines "NO  CODE NAME ...")."""
    found = {}
    for line in body.splitlines():
        head = line.split("  ")
        if len(head) > 2 and head[1].split(" ")[0] in ("ACME", "BETA"):
            found[head[0]] = line
    return found


def numbers(line: str) -> set[str]:
    """The dates and whole numbers written on a line."""
    return set(re.findall(r"\d{4}-\d{2}-\d{2}|(?<![\d.,-])\d+(?![\d.,])", line))


def sent_rows():
    return db.session.execute(
        sa.select(
            LimitationWarning.item_id, LimitationWarning.threshold_days, LimitationWarning.user_id
        )
    ).all()


def test_each_threshold_is_sent_once_per_item_and_person(app, runner, ledger):
    with SmtpServer() as server:
        configure_mail(app, server.port)
        result = warn(runner, AS_OF)
        assert result.exit_code == 0, result.output
        mails = delivered(server)
        # The responsible person gets their own items; legal gets every item; t1 has no
        # address (reported); the disabled legal user gets nothing.
        assert set(mails) == {"s1@example.com", "legal1@example.com"}
        assert "no e-mail address: t1" in result.output
        s1_lines = item_lines(mails["s1@example.com"])
        assert set(s1_lines) == {"Y", "X", "Z"}
        # Expiry, days left and the warning reached (the words are translated; the figures
        # are not).
        assert numbers(s1_lines["Y"]) >= {"2025-07-18", "18", "30"}
        assert numbers(s1_lines["X"]) >= {"2025-10-15", "107", "180"}
        assert numbers(s1_lines["Z"]) >= {"2025-05-06", "55"}
        assert set(item_lines(mails["legal1@example.com"])) == {"Y", "X", "Z", "B"}
        # The subject is in the company's language: check its figures, not its words.
        subjects = {str(make_header(decode_header(m["Subject"]))) for _s, _r, m in server.messages}
        assert subjects and all(str(AS_OF) in s for s in subjects)

        # The same day again, and the next day: nothing new.
        count = len(server.messages)
        assert warn(runner, AS_OF).exit_code == 0
        assert warn(runner, date(2025, 7, 1)).exit_code == 0
        assert len(server.messages) == count

        # 20 July: X has 87 days left — its 90-day warning, and nothing else.
        assert warn(runner, date(2025, 7, 20)).exit_code == 0
        new = server.messages[count:]
        assert sorted(r[0] for _s, r, _m in new) == ["legal1@example.com", "s1@example.com"]
        for _s, _r, message in new:
            lines = item_lines(message.get_content())
            assert set(lines) == {"X"}
            assert numbers(lines["X"]) >= {"2025-10-15", "87", "90"}
    # Recorded: Y, Z at every threshold (reached at once), X at 180 then 90, per person.
    thresholds = {}
    for _item_id, days, user_id in sent_rows():
        thresholds.setdefault(user_id, set()).add(days)
    assert thresholds[ledger["s1"].id] == {180, 90, 30}
    assert (
        len([row for row in sent_rows() if row.user_id == ledger["s1"].id]) == 3 + 3 + 2
    )  # Y, Z: 3 each; X: 180 and 90


def test_an_interruption_starts_a_new_period_with_its_own_warnings(app, runner, lim, ledger):
    with SmtpServer() as server:
        configure_mail(app, server.port)
        assert warn(runner, AS_OF).exit_code == 0
        count = len(server.messages)
        # Y is paid in part on 1 July: it now ends on 1 July 2028, far away. Nothing to send.
        y = db.session.scalar(sa.text("select id from items where document_no = 'Y'"))
        from recovery.ledger.models import Item

        lim.receipt(ledger["acme"], 10, date(2025, 7, 1), item=db.session.get(Item, y))
        db.session.commit()
        assert warn(runner, date(2025, 7, 2)).exit_code == 0
        assert len(server.messages) == count


def test_nothing_is_sent_or_recorded_without_mail(app, runner, ledger):
    app.config.update(SMTP_HOST="", SMTP_SENDER="")
    result = warn(runner, AS_OF)
    assert result.exit_code == 0
    assert "E-mail is not configured" in result.output
    assert sent_rows() == []


def test_a_server_that_is_down_is_reported_and_the_warning_goes_out_next_time(app, runner, ledger):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    configure_mail(app, closed_port)
    result = warn(runner, AS_OF)
    assert result.exit_code == 1
    assert "failed for s1@example.com" in result.output
    assert sent_rows() == []
    with SmtpServer() as server:
        configure_mail(app, server.port)
        assert warn(runner, AS_OF).exit_code == 0
        assert set(delivered(server)) == {"s1@example.com", "legal1@example.com"}
