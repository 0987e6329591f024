"""each receipt's unapplied amount, stored: the unapplied credit without the applications

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29

receipts.unapplied_amount (recovery/ledger/models.py): the receipt's amount less its
applications, kept by allocation; ix_receipts_unapplied holds the receipts where it is not 0.
The unapplied credit as of a date is then the stored amounts plus the applications dated
after it less the receipts received after it (recovery/ledger/queries.py) instead of every
receipt received by the date less every application applied by it. The back-fill computes it
from the stored applications in one UPDATE.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

WHERE = "unapplied_amount <> 0"


def upgrade():
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unapplied_amount", sa.BigInteger(), server_default="0", nullable=False)
        )
    # Money is integer fen in both columns: plain integer arithmetic.
    op.execute(
        "UPDATE receipts SET unapplied_amount = amount - COALESCE("
        "(SELECT SUM(a.amount) FROM applications a WHERE a.receipt_id = receipts.id), 0)"
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_receipts_unapplied",
            ["counterparty_id", "received_on", "unapplied_amount"],
            unique=False,
            sqlite_where=sa.text(WHERE),
            postgresql_where=sa.text(WHERE),
        )


def downgrade():
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_receipts_unapplied",
            sqlite_where=sa.text(WHERE),
            postgresql_where=sa.text(WHERE),
        )
        batch_op.drop_column("unapplied_amount")
