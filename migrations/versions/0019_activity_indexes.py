"""two partial indexes of activities: interruptions of limitation, next steps, by counterparty

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29

ix_activities_interrupting (counterparty_id, occurred_at) WHERE interrupts_limitation: the
limitation sign and count ask, per counterparty, for the latest interruption and whether any
came after a day; a third of the activities interrupt. ix_activities_counterparty_next_step
(counterparty_id, next_step_on) WHERE next_step_on IS NOT NULL: the worklist's "next step due"
reads only the accounts' activities with a next step due, not all of them
(recovery/activities/models.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INTERRUPTING = {
    "sqlite_where": sa.text("interrupts_limitation IS 1"),
    "postgresql_where": sa.text("interrupts_limitation IS TRUE"),
}
NEXT_STEP = {
    "sqlite_where": sa.text("next_step_on IS NOT NULL"),
    "postgresql_where": sa.text("next_step_on IS NOT NULL"),
}


def upgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activities_interrupting", ["counterparty_id", "occurred_at"], **INTERRUPTING
        )
        batch_op.create_index(
            "ix_activities_counterparty_next_step", ["counterparty_id", "next_step_on"], **NEXT_STEP
        )


def downgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_counterparty_next_step", **NEXT_STEP)
        batch_op.drop_index("ix_activities_interrupting", **INTERRUPTING)
