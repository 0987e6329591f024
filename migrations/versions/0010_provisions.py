"""provisions: specific provisions and provision runs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provision_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rates', sa.String(length=100), nullable=False),
    sa.Column('outstanding', sa.BigInteger(), nullable=False),
    sa.Column('matrix_provision', sa.BigInteger(), nullable=False),
    sa.Column('specific_provision', sa.BigInteger(), nullable=False),
    sa.Column('total_provision', sa.BigInteger(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status <> 'closed' OR closed_at IS NOT NULL", name=op.f('ck_provision_runs_closed_at')),
    sa.CheckConstraint("status IN ('draft', 'closed', 'superseded')", name=op.f('ck_provision_runs_status')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_provision_runs_closed_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_provision_runs_created_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_provision_runs_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provision_runs'))
    )
    with op.batch_alter_table('provision_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provision_runs_as_of'), ['as_of'], unique=False)
        batch_op.create_index('uq_provision_runs_closed_as_of', ['as_of'], unique=True, sqlite_where=sa.text("status = 'closed'"), postgresql_where=sa.text("status = 'closed'"))

    op.create_table('specific_provisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counterparty_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('rate', sa.Numeric(precision=7, scale=4), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("method <> 'amount' OR (amount IS NOT NULL AND amount > 0)", name=op.f('ck_specific_provisions_amount_positive')),
    sa.CheckConstraint("method <> 'rate' OR (rate IS NOT NULL AND rate >= 0 AND rate <= 100)", name=op.f('ck_specific_provisions_rate_range')),
    sa.CheckConstraint("method IN ('rate', 'amount', 'matrix')", name=op.f('ck_specific_provisions_method')),
    sa.CheckConstraint("status IN ('proposed', 'approved', 'rejected', 'withdrawn')", name=op.f('ck_specific_provisions_status')),
    sa.ForeignKeyConstraint(['counterparty_id'], ['counterparties.id'], name=op.f('fk_specific_provisions_counterparty_id_counterparties')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_specific_provisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_specific_provisions_proposed_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_specific_provisions_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_specific_provisions'))
    )
    with op.batch_alter_table('specific_provisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_specific_provisions_counterparty_id'), ['counterparty_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_specific_provisions_status'), ['status'], unique=False)

    op.create_table('provision_run_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('counterparty_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('outstanding', sa.BigInteger(), nullable=False),
    sa.Column('y0_1', sa.BigInteger(), nullable=False),
    sa.Column('y1_2', sa.BigInteger(), nullable=False),
    sa.Column('y2_3', sa.BigInteger(), nullable=False),
    sa.Column('y3_4', sa.BigInteger(), nullable=False),
    sa.Column('y4_5', sa.BigInteger(), nullable=False),
    sa.Column('y5_plus', sa.BigInteger(), nullable=False),
    sa.Column('matrix_provision', sa.BigInteger(), nullable=False),
    sa.Column('specific_id', sa.Integer(), nullable=True),
    sa.Column('specific_provision', sa.BigInteger(), nullable=True),
    sa.Column('total_provision', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['counterparty_id'], ['counterparties.id'], name=op.f('fk_provision_run_lines_counterparty_id_counterparties')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_provision_run_lines_department_id_departments')),
    sa.ForeignKeyConstraint(['run_id'], ['provision_runs.id'], name=op.f('fk_provision_run_lines_run_id_provision_runs')),
    sa.ForeignKeyConstraint(['specific_id'], ['specific_provisions.id'], name=op.f('fk_provision_run_lines_specific_id_specific_provisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provision_run_lines'))
    )
    with op.batch_alter_table('provision_run_lines', schema=None) as batch_op:
        batch_op.create_index('ix_provision_run_lines_run', ['run_id', 'counterparty_id', 'department_id'], unique=False)



def downgrade():
    with op.batch_alter_table('provision_run_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_provision_run_lines_run')

    op.drop_table('provision_run_lines')
    with op.batch_alter_table('specific_provisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_specific_provisions_status'))
        batch_op.drop_index(batch_op.f('ix_specific_provisions_counterparty_id'))

    op.drop_table('specific_provisions')
    with op.batch_alter_table('provision_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_provision_runs_closed_as_of', sqlite_where=sa.text("status = 'closed'"), postgresql_where=sa.text("status = 'closed'"))
        batch_op.drop_index(batch_op.f('ix_provision_runs_as_of'))

    op.drop_table('provision_runs')
