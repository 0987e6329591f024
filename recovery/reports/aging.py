"""The aging report (DOMAIN §3) as a table: one row per key, on either basis.

The figures come from recovery.ledger.queries.aging (SQL, checked against the pure rules of
recovery.ledger.rules); this module only fixes the columns of the report contract.
"""

from __future__ import annotations

from datetime import date

from recovery.ledger import queries
from recovery.reports.output import Table

DIMENSIONS = queries.DIMENSIONS  # counterparty, project, department, responsible
BASES = ("due", "age")
COLUMNS = {
    "due": ("key", "name", *queries.DUE_COLUMNS),
    "age": ("key", "name", *queries.AGE_COLUMNS),
}


def aging_table(
    as_of: date, by: str = "counterparty", basis: str = "due", item_filter=None
) -> Table:
    """key, name, outstanding, the buckets of ``basis`` (and overdue), unapplied_credit.

    Items without a project, department or responsible person have the key "". Unapplied
    credit belongs to counterparties: by another dimension it is one row keyed UNAPPLIED.
    """
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by}")
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis}")
    columns = COLUMNS[basis]
    table = Table(title="aging", columns=columns)
    for row in queries.aging(as_of, by=by, basis=basis, item_filter=item_filter):
        table.rows.append([row.key, row.name, *(row.values[c] for c in columns[2:])])
    return table
