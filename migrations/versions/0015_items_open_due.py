"""the open items in due-date order: the overdue list's pages and the limitation count

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29

ix_items_open_due (recovery/ledger/models.py): the open items by due date then id, covering
what the limitation count reads (docs/limitation.md) — on the benchmark's million items the
range "open and due by the cut-off day" went from 117 ms through ix_items_open to 5 ms, and
the overdue list's page of ids from 32-115 ms to 0.2 ms.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = [
    "due_on",
    "id",
    "recognized_on",
    "last_movement_on",
    "counterparty_id",
    "department_id",
    "open_amount",
]


def upgrade():
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_items_open_due",
            COLUMNS,
            unique=False,
            sqlite_where=sa.text("open_amount <> 0"),
            postgresql_where=sa.text("open_amount <> 0"),
        )


def downgrade():
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_items_open_due",
            sqlite_where=sa.text("open_amount <> 0"),
            postgresql_where=sa.text("open_amount <> 0"),
        )
