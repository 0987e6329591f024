"""Idempotency keys on API writes (header ``Idempotency-Key``, 1–200 visible characters).

The first successful answer to a write with a key is stored with the key, the user and a hash
of the request (method, path and JSON body), in the same transaction as the write. A replay
with the same key by the same user gets that answer back (status and body, with the header
``Idempotent-Replayed: true``) and writes nothing; the same key with a different request is
refused (422, code ``idempotency_key_reused``). A refused write (4xx) is not stored: nothing
was written, so the client may correct it and send it again with the same key. Two requests
with the same key at the same moment: the unique (user, key) index lets one commit; the
other is rolled back and answers the stored result.

Expiry: an answer is kept ``api.idempotency_hours`` hours (setting, default 24). After that
the key is forgotten: a request with it is a **new request** (written again; the expired row
is replaced by the new answer in the same transaction), and ``flask --app recovery api
purge-keys`` (``purge_expired``) may remove the expired rows at any time (docs/api.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from recovery.api.errors import ApiError
from recovery.api.models import IdempotencyKey
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.settings.services import get_setting

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200

# The header as the OpenAPI document describes it on every write (``@bp.doc(**IDEMPOTENT)``).
IDEMPOTENT = {
    "parameters": [
        {
            "in": "header",
            "name": HEADER,
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            "description": "Send the same key again to get the first answer back, "
            "with nothing written twice.",
        }
    ]
}


def _request_hash() -> str:
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    text = f"{request.method} {request.path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            422,
            _("The Idempotency-Key must be 1 to %(n)s printable characters.", n=MAX_KEY_LENGTH),
            code="invalid_idempotency_key",
        )
    return key


def expiry_cutoff(now: datetime | None = None) -> datetime:
    """Answers stored before this moment are expired (``api.idempotency_hours`` ago)."""
    return (now or utcnow()) - timedelta(hours=get_setting("api.idempotency_hours"))


def _stored(key: str, cutoff: datetime) -> IdempotencyKey | None:
    """The stored answer for this user and key, unless it has expired."""
    record = db.session.scalar(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key
        )
    )
    return record if record is not None and record.created_at >= cutoff else None


def _forget_expired(key: str, cutoff: datetime) -> None:
    """Remove this user's expired answer for the key (if any) in the write's transaction, so
    that the new answer can take its place: rolled back with the write if it is refused."""
    db.session.execute(
        sa.delete(IdempotencyKey)
        .where(
            IdempotencyKey.user_id == current_user.id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at < cutoff,
        )
        .execution_options(synchronize_session=False)
    )


def purge_expired(now: datetime | None = None, *, dry_run: bool = False) -> int:
    """Remove every expired answer (the index on ``created_at``); returns how many. Keys are
    bookkeeping of the API, not records of the business: nothing else refers to them."""
    table = IdempotencyKey.__table__
    expired = table.c.created_at < expiry_cutoff(now)
    if dry_run:
        return db.session.execute(sa.select(sa.func.count()).where(expired)).scalar_one()
    return db.session.execute(table.delete().where(expired)).rowcount


def _replay(record: IdempotencyKey, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise ApiError(
            422,
            _(
                "This Idempotency-Key was used for a different request; use a new key for a "
                "new request."
            ),
            code="idempotency_key_reused",
        )
    response = Response(record.response_body, status=record.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _json_response(body: dict, status: int) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def _attempt(write: Callable[[], tuple[dict, int]]) -> tuple[dict, int]:
    try:
        return write()
    except IntegrityError:  # a unique index hit by a concurrent write (e.g. the same number)
        db.session.rollback()
        raise _conflict() from None


def write_once(write: Callable[[], tuple[dict, int]]) -> Response:
    """Run ``write`` (which returns the JSON body and status of a success, or raises), commit
    once, and honour the Idempotency-Key header."""
    key = _key()
    if key is None:
        body, status = _attempt(write)
        _commit()
        return _json_response(body, status)
    request_hash = _request_hash()
    cutoff = expiry_cutoff()
    record = _stored(key, cutoff)
    if record is not None:
        return _replay(record, request_hash)
    _forget_expired(key, cutoff)  # an expired key: this is a new request
    try:
        body, status = _attempt(write)
    except ApiError:
        # Refused — perhaps because the same request with the same key, sent at the same
        # moment, has just written the same documents: then answer what it stored.
        db.session.rollback()
        record = _stored(key, cutoff)
        if record is not None:
            return _replay(record, request_hash)
        raise
    text = json.dumps(body, ensure_ascii=False)
    db.session.add(
        IdempotencyKey(
            user_id=current_user.id,
            key=key,
            request_hash=request_hash,
            status=status,
            response_body=text,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        # Another request with the same key committed first: answer what it stored.
        db.session.rollback()
        record = _stored(key, cutoff)
        if record is None:
            raise _conflict() from None
        return _replay(record, request_hash)
    return Response(text, status=status, mimetype="application/json")


def _conflict() -> ApiError:
    return ApiError(
        409, _("Another request changed the same records at the same moment; send it again.")
    )


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _conflict() from None
