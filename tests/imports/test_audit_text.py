"""The audit entry of a bulk-inserted row, written directly as text
(recovery.audit.services.insert_changes_text), is exactly what the ORM listener records for
an insert: chain.canonical_changes of {column: [None, jsonable(value)]} over the non-null
values, plus the id. The hash chain covers that text, so not one character may differ."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.audit.chain import canonical_changes, jsonable
from recovery.audit.services import insert_changes_text

VALUES = st.one_of(
    st.none(),
    st.text(),  # any Unicode: quotes, backslashes, control characters, Chinese
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(),
)
COLUMNS = st.text(min_size=1, max_size=12).filter(lambda name: name != "id")


def reference(values: dict, row_id) -> str:
    changes = {"id": [None, row_id]}
    for name, value in values.items():
        if value is not None:
            changes[name] = [None, jsonable(value)]
    return canonical_changes(changes)


@settings(max_examples=300, deadline=None)
@given(values=st.dictionaries(COLUMNS, VALUES, max_size=20), row_id=st.integers(1, 2**40))
def test_the_text_equals_the_canonical_changes(values, row_id):
    assert insert_changes_text(values, row_id) == reference(values, row_id)


def test_an_item_row():
    values = {
        "document_no": 'IMP"01\\',
        "counterparty_id": 7,
        "project_id": None,
        "amount": Decimal("110561.60"),
        "recognized_on": date(2025, 7, 31),
        "overdue_rate": Decimal("6.5000"),
        "category": "应收账款",
        "created_at": datetime(2026, 11, 29, 1, 2, 3, 45),
        "active": True,
    }
    assert insert_changes_text(values, 12) == reference(values, 12)
