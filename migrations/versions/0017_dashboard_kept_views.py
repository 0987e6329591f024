"""the dashboard's computed views, kept for every worker and server

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29

dashboard_kept_views (recovery/dashboard/models.py, recovery/dashboard/cache.py): one row per
computed view of the dashboard (as-of date, period, scope), its figures pickled and signed,
when they were computed and whether a worker is recomputing them. It replaces the cache each
gunicorn worker kept in its own memory, which made each of them compute each view. A cache:
created empty.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_kept_views",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("refreshing_since", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dashboard_kept_views")),
    )


def downgrade():
    op.drop_table("dashboard_kept_views")
