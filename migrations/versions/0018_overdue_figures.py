"""each counterparty's overdue figures, kept by every ledger write for the worklist

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29

overdue_figures (recovery/ledger/models.py, recovery/ledger/overdue.py): the overdue amount,
Σ amount × days past due and the oldest due date of each counterparty as of the day they were
summed, and the first day they may change without a write. The worklist ranks by them instead
of summing every account's open items on each request. The table starts empty: where no row
holds, the figures are summed from the items as before; `flask credit reevaluate` fills it.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "overdue_figures",
        sa.Column("counterparty_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("overdue_fen", sa.BigInteger(), nullable=False),
        sa.Column("fen_days", sa.BigInteger(), nullable=False),
        sa.Column("oldest_due_on", sa.Date(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_overdue_figures_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("counterparty_id", name=op.f("pk_overdue_figures")),
    )
    op.create_index(
        op.f("ix_overdue_figures_valid_until"), "overdue_figures", ["valid_until"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_overdue_figures_valid_until"), table_name="overdue_figures")
    op.drop_table("overdue_figures")
