"""each counterparty's limitation sign for the worklist, kept until a write moves it

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29

limitation_signs (recovery/limitation/models.py, recovery/limitation/kept.py): the earliest end
of limitation among a counterparty's open items within the longest warning, as found on a
day; writes that can move a period bump its version and clear it. The worklist reads one row
per account instead of the rule over every account's items. The table starts empty: a sign
not kept is computed when first asked for.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "limitation_signs",
        sa.Column("counterparty_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.Column("basis", sa.String(length=40), nullable=True),
        sa.Column("earliest_expiry", sa.Date(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_limitation_signs_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("counterparty_id", name=op.f("pk_limitation_signs")),
    )


def downgrade():
    op.drop_table("limitation_signs")
