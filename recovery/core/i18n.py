"""Language choice: the user's own, else the session's, else zh_CN (Chinese first)."""

from __future__ import annotations

from flask import has_request_context, session
from flask_login import current_user

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def normalise_language(value: str | None) -> str:
    """Known languages pass; anything else (unknown, malformed) falls back to zh_CN."""
    if value in LANGUAGES:
        return value
    return DEFAULT_LANGUAGE


def select_locale() -> str:
    if not has_request_context():  # command line, background work: the default language
        return DEFAULT_LANGUAGE
    if current_user and current_user.is_authenticated and current_user.language:
        return normalise_language(current_user.language)
    return normalise_language(session.get("lang"))
