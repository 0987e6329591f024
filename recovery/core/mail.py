"""Outgoing e-mail over SMTP (smtplib), for every part of the application.

Configured from the environment (recovery/config.py, README "Configuration"):
``RECOVERY_SMTP_HOST`` / ``_PORT`` / ``_USER`` / ``_PASSWORD`` / ``_SENDER`` / ``_STARTTLS``.
E-mail is off while the host or the sender is empty: callers ask ``mail_configured()`` first
and skip e-mail (it is never required for a piece of work to be done).

``send_mail`` either hands the message to the server or raises ``MailError`` with the reason
(server unreachable, refused sign-in, refused recipient, …). A server accepting a message
is not proof that it reached anybody: callers that need delivery record it separately.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import current_app
from flask_babel import lazy_gettext as _l


class MailError(ValueError):
    """An e-mail that could not be handed to the SMTP server; ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = str(reason)
        super().__init__(_l("The e-mail could not be sent: %(reason)s", reason=self.reason))
        self.message = self.args[0]


def mail_configured() -> bool:
    """Whether outgoing e-mail is set up (an SMTP host and a sender address)."""
    config = current_app.config
    return bool(config.get("SMTP_HOST")) and bool(config.get("SMTP_SENDER"))


def valid_address(address: str | None) -> bool:
    """A single plain address ``name@domain``: no display name, spaces or line breaks (a line
    break in an address would let it add headers to the message)."""
    address = (address or "").strip()
    if not address or any(ch in address for ch in "\r\n\t ,;<>\"'"):
        return False
    _name, parsed = parseaddr(address)
    local, at, domain = parsed.rpartition("@")
    return parsed == address and bool(at) and bool(local) and "." in domain.strip(".")


def _single_line(text: str) -> str:
    return " ".join(str(text).split())


def build_message(
    to: Sequence[str],
    subject: str,
    body: str,
    attachments: Iterable[tuple[str, bytes, str]] = (),
) -> EmailMessage:
    """The message as it will be sent (UTF-8 text; attachment names may be Chinese)."""
    config = current_app.config
    sender = config.get("SMTP_SENDER") or ""
    message = EmailMessage()
    message["From"] = sender if "<" in sender else formataddr(("", sender))
    message["To"] = ", ".join(to)
    message["Subject"] = _single_line(subject)
    message["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2].rstrip(">").strip() or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body)
    for filename, content, mimetype in attachments:
        maintype, _slash, subtype = (mimetype or "application/octet-stream").partition("/")
        message.add_attachment(
            content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=_single_line(filename),
        )
    return message


def send_mail(
    to: Sequence[str] | str,
    subject: str,
    body: str,
    attachments: Iterable[tuple[str, bytes, str]] = (),
) -> None:
    """Send one message to ``to`` (addresses) with ``attachments`` as (filename, bytes,
    mimetype). Raises MailError when e-mail is not configured, an address is not valid, or
    the server cannot be reached or refuses the message or a recipient."""
    if isinstance(to, str):
        to = [to]
    recipients = [address.strip() for address in to if address and address.strip()]
    if not mail_configured():
        raise MailError(_l("e-mail is not configured (RECOVERY_SMTP_HOST, RECOVERY_SMTP_SENDER)"))
    if not recipients:
        raise MailError(_l("no recipient"))
    bad = [address for address in recipients if not valid_address(address)]
    if bad:
        raise MailError(_l("not an e-mail address: %(address)s", address=", ".join(bad)))
    message = build_message(recipients, subject, body, attachments)
    config = current_app.config
    try:
        with smtplib.SMTP(
            config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=config["SMTP_TIMEOUT"]
        ) as server:
            if config.get("SMTP_STARTTLS"):
                server.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            refused = server.send_message(message, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError(_refusals(error.recipients)) from error
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(
            _l("the server refused the sign-in (%(code)s)", code=error.smtp_code)
        ) from error
    except smtplib.SMTPResponseException as error:
        raise MailError(f"{error.smtp_code} {_text(error.smtp_error)}") from error
    except smtplib.SMTPNotSupportedError as error:
        raise MailError(_l("the server does not offer STARTTLS: %(error)s", error=error)) from error
    except (smtplib.SMTPException, OSError) as error:
        # OSError: refused connection, unknown host, timeout, TLS failure.
        raise MailError(f"{type(error).__name__}: {error}") from error
    if refused:
        # Some recipients accepted, some not: the message went out, but not to everybody.
        raise MailError(_refusals(refused))


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refusals(recipients: dict) -> str:
    return "; ".join(
        f"{address}: {code} {_text(reason)}" for address, (code, reason) in recipients.items()
    )
