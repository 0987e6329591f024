"""Time helpers. Timestamps are stored as naive UTC; dates are plain dates."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current moment as a naive UTC datetime (the form stored in every table)."""
    return datetime.now(UTC).replace(tzinfo=None)
