"""PostgreSQL: vacuum items after every 500 changed rows, not after a fifth of the table

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29

The ledger's company-wide figures (aging, the overdue list's buckets, the dashboard) read the
open items through index-only scans of the partial indexes of open items. Each receipt updates
its items, and an updated page is no longer "all visible": the scan then reads the row from
the table too. With the default threshold (20 % of the table, 200,000 rows at a million items)
those reads pile up for weeks: after 19,000 updated items the aging by department read 33,000
rows from the table and took 188 ms instead of 88 (docs/performance.md). A vacuum of a few
hundred updated items takes about 50 ms (it skips the untouched pages and, below 2 % of pages,
the indexes), so it is asked for often. SQLite has no vacuum thresholds: nothing to do there.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE items SET (autovacuum_vacuum_scale_factor = 0,"
            " autovacuum_vacuum_threshold = 500)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE items RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold)"
        )
