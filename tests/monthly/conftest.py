"""The monthly report's tests: the provisions scenario, one more counterparty with June's
movements, and a recovery case (scenario.py)."""

from tests.ledger.conftest import build  # noqa: F401
