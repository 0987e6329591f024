"""dashboard speed: indexes for the executive dashboard at a million items

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

ix_items_moved: the items that moved, by the day of their last movement, covering what the
dashboard reads of them (recovery/dashboard/models.py): a past date's balances (the items
that moved after it) and the items paid off in a period, as index-only range scans.
ix_receipts_received gains the counterparty: a department's recoveries (the receipts of its
counterparties) are read from the index alone too.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_items_moved",
            [
                "last_movement_on",
                "open_amount",
                "department_id",
                "due_on",
                "recognized_on",
                "counterparty_id",
                "amount",
                "id",
            ],
            unique=False,
            sqlite_where=sa.text("last_movement_on IS NOT NULL"),
            postgresql_where=sa.text("last_movement_on IS NOT NULL"),
        )

    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_received")
        batch_op.create_index(
            "ix_receipts_received", ["received_on", "counterparty_id", "amount"], unique=False
        )


def downgrade():
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_received")
        batch_op.create_index("ix_receipts_received", ["received_on", "amount"], unique=False)
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_items_moved",
            sqlite_where=sa.text("last_movement_on IS NOT NULL"),
            postgresql_where=sa.text("last_movement_on IS NOT NULL"),
        )
