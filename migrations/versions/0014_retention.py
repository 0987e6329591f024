"""retention: archived counterparties, purges; jobs name the attempt they retry

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("archived_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("archive_reason", sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f("ix_counterparties_archived_at"), ["archived_at"])
        batch_op.create_foreign_key(
            batch_op.f("fk_counterparties_archived_by_id_users"),
            "users",
            ["archived_by_id"],
            ["id"],
        )

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_of_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_jobs_retry_of_id"), ["retry_of_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_jobs_retry_of_id_jobs"), "jobs", ["retry_of_id"], ["id"]
        )

    op.create_table(
        "retention_purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("run_by", sa.String(length=100), nullable=False),
        sa.Column("counterparties", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_purges")),
    )


def downgrade():
    op.drop_table("retention_purges")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_jobs_retry_of_id_jobs"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_jobs_retry_of_id"))
        batch_op.drop_column("retry_of_id")
    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_counterparties_archived_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_counterparties_archived_at"))
        batch_op.drop_column("archive_reason")
        batch_op.drop_column("archived_by_id")
        batch_op.drop_column("archived_at")
        batch_op.drop_column("closed_on")
