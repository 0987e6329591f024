"""targets: recovery targets, rankings and reward/penalty lists

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('period_kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('recovery_amount', sa.BigInteger(), nullable=False),
    sa.Column('overdue_reduction_amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(department_id IS NULL AND user_id IS NOT NULL) OR (department_id IS NOT NULL AND user_id IS NULL)", name=op.f('ck_targets_one_scope')),
    sa.CheckConstraint("period_kind IN ('month', 'quarter', 'year')", name=op.f('ck_targets_period_kind')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_targets_period_order')),
    sa.CheckConstraint('recovery_amount >= 0 AND overdue_reduction_amount >= 0', name=op.f('ck_targets_amounts_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_targets_created_by_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_targets_department_id_departments')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_targets_updated_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_targets_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets'))
    )
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_targets_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_targets_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_targets_period', ['period_start', 'period_end'], unique=False)
        batch_op.create_index('uq_targets_department_period', ['department_id', 'period_kind', 'period_start'], unique=True, sqlite_where=sa.text('department_id IS NOT NULL'), postgresql_where=sa.text('department_id IS NOT NULL'))
        batch_op.create_index('uq_targets_user_period', ['user_id', 'period_kind', 'period_start'], unique=True, sqlite_where=sa.text('user_id IS NOT NULL'), postgresql_where=sa.text('user_id IS NOT NULL'))

    op.create_table('reward_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ranked_by', sa.String(length=12), nullable=False),
    sa.Column('period_kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('bonus_unit', sa.BigInteger(), nullable=False),
    sa.Column('bonus_per_unit', sa.BigInteger(), nullable=False),
    sa.Column('threshold_percent', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('below_threshold_deduction', sa.BigInteger(), nullable=False),
    sa.Column('broken_promise_deduction', sa.BigInteger(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("ranked_by IN ('person', 'department')", name=op.f('ck_reward_lists_ranked_by')),
    sa.CheckConstraint("period_kind IN ('month', 'quarter', 'year')", name=op.f('ck_reward_lists_period_kind')),
    sa.CheckConstraint("status <> 'rejected' OR decision_note IS NOT NULL", name=op.f('ck_reward_lists_rejection_note')),
    sa.CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name=op.f('ck_reward_lists_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_reward_lists_decided_by_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_reward_lists_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_lists'))
    )
    with op.batch_alter_table('reward_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_lists_status'), ['status'], unique=False)
        batch_op.create_index('uq_reward_lists_standing', ['ranked_by', 'period_start', 'period_end'], unique=True, sqlite_where=sa.text("status <> 'rejected'"), postgresql_where=sa.text("status <> 'rejected'"))

    op.create_table('reward_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('department_name', sa.String(length=200), nullable=True),
    sa.Column('recovered', sa.BigInteger(), nullable=False),
    sa.Column('recovery_target', sa.BigInteger(), nullable=True),
    sa.Column('overdue_reduction', sa.BigInteger(), nullable=False),
    sa.Column('overdue_target', sa.BigInteger(), nullable=True),
    sa.Column('broken_promises', sa.Integer(), nullable=False),
    sa.Column('breaches', sa.Integer(), nullable=False),
    sa.Column('bonus_units', sa.Integer(), nullable=False),
    sa.Column('bonus', sa.BigInteger(), nullable=False),
    sa.Column('threshold_deduction', sa.BigInteger(), nullable=False),
    sa.Column('promise_deduction', sa.BigInteger(), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('bonus >= 0 AND threshold_deduction >= 0 AND promise_deduction >= 0', name=op.f('ck_reward_entries_amounts_not_negative')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_reward_entries_department_id_departments')),
    sa.ForeignKeyConstraint(['list_id'], ['reward_lists.id'], name=op.f('fk_reward_entries_list_id_reward_lists')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reward_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_entries'))
    )
    with op.batch_alter_table('reward_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_entries_list_id'), ['list_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reward_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_entries_list_id'))

    op.drop_table('reward_entries')
    with op.batch_alter_table('reward_lists', schema=None) as batch_op:
        batch_op.drop_index('uq_reward_lists_standing', sqlite_where=sa.text("status <> 'rejected'"), postgresql_where=sa.text("status <> 'rejected'"))
        batch_op.drop_index(batch_op.f('ix_reward_lists_status'))

    op.drop_table('reward_lists')
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_index('uq_targets_user_period', sqlite_where=sa.text('user_id IS NOT NULL'), postgresql_where=sa.text('user_id IS NOT NULL'))
        batch_op.drop_index('uq_targets_department_period', sqlite_where=sa.text('department_id IS NOT NULL'), postgresql_where=sa.text('department_id IS NOT NULL'))
        batch_op.drop_index('ix_targets_period')
        batch_op.drop_index(batch_op.f('ix_targets_user_id'))
        batch_op.drop_index(batch_op.f('ix_targets_department_id'))

    op.drop_table('targets')
