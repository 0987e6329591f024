"""Counterparties (debtors), their contacts, projects and contracts."""
