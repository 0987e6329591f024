"""limitation: limitation suspensions and contract installments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        # Existing contracts are separate debts until someone says otherwise.
        batch_op.add_column(sa.Column('installments', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('limitation_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('dated_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('withdraw_reason', sa.String(length=500), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('demand', 'acknowledgement', 'suit', 'equivalent', 'suspension')", name=op.f('ck_limitation_events_kind')),
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= dated_on', name=op.f('ck_limitation_events_ends_after_start')),
    sa.CheckConstraint("ended_on IS NULL OR kind = 'suspension'", name=op.f('ck_limitation_events_end_of_suspension')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_limitation_events_item_id_items')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_limitation_events_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_limitation_events_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_limitation_events'))
    )
    with op.batch_alter_table('limitation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_limitation_events_item_id'), ['item_id'], unique=False)

    op.create_table('limitation_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('threshold_days', sa.Integer(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_limitation_warnings_item_id_items')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_limitation_warnings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_limitation_warnings')),
    sa.UniqueConstraint('item_id', 'threshold_days', 'expires_on', 'user_id', name=op.f('uq_limitation_warnings_item_id'))
    )
    with op.batch_alter_table('limitation_warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_limitation_warnings_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('limitation_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_limitation_warnings_user_id'))

    op.drop_table('limitation_warnings')
    with op.batch_alter_table('limitation_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_limitation_events_item_id'))

    op.drop_table('limitation_events')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_column('installments')
