"""Provisions tests reuse the ledger builder (real services, allocation included)."""

from tests.ledger.conftest import build  # noqa: F401
