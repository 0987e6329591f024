"""The receivables ledger (台帐): items, receipts, adjustments and their allocation."""
