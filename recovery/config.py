"""Configuration read from the environment (documented in README.md)."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def secret_key_for(instance_path: Path) -> str:
    """Return RECOVERY_SECRET_KEY, or a key generated once into instance/ and reused.

    The key is never a constant in the code: a fresh installation makes its own.
    """
    from_env = os.environ.get("RECOVERY_SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Create with owner-only permissions; another process may win the race, so re-read.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_environment(instance_path: Path) -> dict:
    """Build the Flask config mapping for this process."""
    database_url = os.environ.get("RECOVERY_DATABASE_URL") or (
        f"sqlite:///{instance_path / 'recovery.sqlite3'}"
    )
    upload_folder = os.environ.get("RECOVERY_UPLOAD_FOLDER") or str(instance_path / "uploads")
    secure_cookies = _env_bool("RECOVERY_SECURE_COOKIES")
    level_name = os.environ.get("RECOVERY_LOG_LEVEL", "INFO").upper()
    log_level = logging.getLevelName(level_name)
    if not isinstance(log_level, int):
        log_level = logging.INFO
    max_upload_mb = int(os.environ.get("RECOVERY_MAX_UPLOAD_MB", "64"))
    smtp_starttls = _env_bool("RECOVERY_SMTP_STARTTLS", default=True)
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": secret_key_for(instance_path),
        "UPLOAD_FOLDER": upload_folder,
        "LOG_LEVEL": log_level,
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PREFERRED_URL_SCHEME": "https" if secure_cookies else "http",
        "PROXY_FIX": _env_bool("RECOVERY_PROXY_FIX"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        "PASSWORD_HASH_METHOD": "scrypt",
        "WTF_CSRF_TIME_LIMIT": None,
        # Outgoing e-mail (recovery/core/mail.py): off while RECOVERY_SMTP_HOST is empty.
        "SMTP_HOST": os.environ.get("RECOVERY_SMTP_HOST", "").strip(),
        "SMTP_PORT": int(os.environ.get("RECOVERY_SMTP_PORT") or (587 if smtp_starttls else 25)),
        "SMTP_USER": os.environ.get("RECOVERY_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("RECOVERY_SMTP_PASSWORD", ""),
        "SMTP_SENDER": os.environ.get("RECOVERY_SMTP_SENDER", "").strip(),
        "SMTP_STARTTLS": smtp_starttls,
        "SMTP_TIMEOUT": 30,
        # Background jobs (recovery/jobs, docs/jobs.md): RQ workers through Redis when set,
        # else a thread in each app process.
        "REDIS_URL": os.environ.get("RECOVERY_REDIS_URL", "").strip(),
        "JOBS_QUEUE": os.environ.get("RECOVERY_JOBS_QUEUE", "").strip() or "recovery",
        # Requests per minute per API token (recovery/api/ratelimit.py); 0 switches it off.
        "API_RATE_LIMIT": int(os.environ.get("RECOVERY_API_RATE_LIMIT") or 600),
    }
