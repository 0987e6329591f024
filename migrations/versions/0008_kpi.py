"""kpi: period snapshots for the dashboard

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kpi_month_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month_end', sa.Date(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('receivables', sa.BigInteger(), nullable=False),
    sa.Column('overdue', sa.BigInteger(), nullable=False),
    sa.Column('sales', sa.BigInteger(), nullable=False),
    sa.Column('applied', sa.BigInteger(), nullable=False),
    sa.Column('credited', sa.BigInteger(), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_kpi_month_snapshots_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_month_snapshots')),
    sa.UniqueConstraint('month_end', 'department_id', name=op.f('uq_kpi_month_snapshots_month_end'))
    )
    with op.batch_alter_table('kpi_month_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_month_snapshots_month_end'), ['month_end'], unique=False)

    # The dashboard's live figures: open items (partial), and the flows of a period by date.
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_open', ['department_id', 'due_on', 'recognized_on', 'counterparty_id', 'amount', 'open_amount', 'last_movement_on', 'id'], unique=False, sqlite_where=sa.text('open_amount <> 0'), postgresql_where=sa.text('open_amount <> 0'))
        batch_op.create_index('ix_items_open_counterparty', ['counterparty_id', 'due_on', 'open_amount', 'last_movement_on', 'recognized_on', 'department_id', 'amount', 'id'], unique=False, sqlite_where=sa.text('open_amount <> 0'), postgresql_where=sa.text('open_amount <> 0'))
        batch_op.create_index('ix_items_recognized', ['recognized_on', 'department_id', 'amount'], unique=False)
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index('ix_receipts_received', ['received_on', 'amount'], unique=False)
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_applied', ['applied_on', 'item_id', 'amount'], unique=False)


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_applied')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_receipts_received')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_recognized')
        batch_op.drop_index('ix_items_open_counterparty', sqlite_where=sa.text('open_amount <> 0'), postgresql_where=sa.text('open_amount <> 0'))
        batch_op.drop_index('ix_items_open', sqlite_where=sa.text('open_amount <> 0'), postgresql_where=sa.text('open_amount <> 0'))

    with op.batch_alter_table('kpi_month_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_month_snapshots_month_end'))

    op.drop_table('kpi_month_snapshots')
