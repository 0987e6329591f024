"""credit control: credit groups, holds and exceptions

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "credit_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_limit", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_groups")),
        sa.UniqueConstraint("code", name=op.f("uq_credit_groups_code")),
    )
    op.create_table(
        "credit_group_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("counterparty_id", sa.Integer(), nullable=False),
        sa.Column("is_parent", sa.Boolean(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("left_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_credit_group_members_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["credit_groups.id"],
            name=op.f("fk_credit_group_members_group_id_credit_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_group_members")),
    )
    with op.batch_alter_table("credit_group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_group_members_counterparty_id"), ["counterparty_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_group_members_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            "uq_credit_group_members_one_group",
            ["counterparty_id"],
            unique=True,
            sqlite_where=sa.text("left_at IS NULL"),
            postgresql_where=sa.text("left_at IS NULL"),
        )

    op.create_table(
        "credit_status",
        sa.Column("counterparty_id", sa.Integer(), nullable=False),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("rules", sa.String(length=200), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("exposure", sa.BigInteger(), nullable=False),
        sa.Column("overdue", sa.BigInteger(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("stale_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_credit_status_counterparty_id_counterparties"),
        ),
        sa.PrimaryKeyConstraint("counterparty_id", name=op.f("pk_credit_status")),
    )
    with op.batch_alter_table("credit_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_status_on_hold"), ["on_hold"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_status_stale_on"), ["stale_on"], unique=False)

    op.create_table(
        "credit_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counterparty_id", sa.Integer(), nullable=False),
        sa.Column("amount_cap", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=1000), nullable=True),
        sa.CheckConstraint("amount_cap > 0", name=op.f("ck_credit_exceptions_amount_cap_positive")),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'refused', 'revoked')",
            name=op.f("ck_credit_exceptions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_credit_exceptions_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_credit_exceptions_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_credit_exceptions_requested_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["users.id"], name=op.f("fk_credit_exceptions_revoked_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_exceptions")),
    )
    with op.batch_alter_table("credit_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_exceptions_counterparty_id"), ["counterparty_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credit_exceptions_requested_by_id"), ["requested_by_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_exceptions_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("credit_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_exceptions_status"))
        batch_op.drop_index(batch_op.f("ix_credit_exceptions_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_credit_exceptions_counterparty_id"))
    op.drop_table("credit_exceptions")
    with op.batch_alter_table("credit_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_status_stale_on"))
        batch_op.drop_index(batch_op.f("ix_credit_status_on_hold"))
    op.drop_table("credit_status")
    with op.batch_alter_table("credit_group_members", schema=None) as batch_op:
        batch_op.drop_index("uq_credit_group_members_one_group")
        batch_op.drop_index(batch_op.f("ix_credit_group_members_group_id"))
        batch_op.drop_index(batch_op.f("ix_credit_group_members_counterparty_id"))
    op.drop_table("credit_group_members")
    op.drop_table("credit_groups")
