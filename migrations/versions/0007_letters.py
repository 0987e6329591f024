"""letters: generated letters and batch runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('letter_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('letter_date', sa.Date(), nullable=False),
    sa.Column('overdue_more_than', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=10), nullable=True),
    sa.Column('send_email', sa.Boolean(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('demand', 'confirmation', 'statement')", name=op.f('ck_letter_batches_kind')),
    sa.CheckConstraint("level IS NULL OR level IN ('reminder', 'formal', 'final')", name=op.f('ck_letter_batches_level')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_letter_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_letter_batches_department_id_departments')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_letter_batches_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_batches'))
    )
    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_batches_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letter_batches_job_id'), ['job_id'], unique=False)

    op.create_table('letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('counterparty_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=True),
    sa.Column('letter_date', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('days_overdue', sa.Integer(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('delivery_method', sa.String(length=20), nullable=True),
    sa.Column('delivery_proof', sa.String(length=300), nullable=True),
    sa.Column('delivery_activity_id', sa.Integer(), nullable=True),
    sa.Column('delivery_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(kind = 'demand' AND level IN ('reminder', 'formal', 'final')) OR (kind <> 'demand' AND level IS NULL)", name=op.f('ck_letters_level')),
    sa.CheckConstraint("delivery_method IS NULL OR delivery_method IN ('signed_receipt', 'courier', 'registered_mail', 'email', 'fax', 'other')", name=op.f('ck_letters_delivery_method')),
    sa.CheckConstraint("kind IN ('demand', 'confirmation', 'statement')", name=op.f('ck_letters_kind')),
    sa.ForeignKeyConstraint(['batch_id'], ['letter_batches.id'], name=op.f('fk_letters_batch_id_letter_batches')),
    sa.ForeignKeyConstraint(['case_id'], ['recovery_cases.id'], name=op.f('fk_letters_case_id_recovery_cases')),
    sa.ForeignKeyConstraint(['counterparty_id'], ['counterparties.id'], name=op.f('fk_letters_counterparty_id_counterparties')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_letters_created_by_id_users')),
    sa.ForeignKeyConstraint(['delivery_activity_id'], ['activities.id'], name=op.f('fk_letters_delivery_activity_id_activities')),
    sa.ForeignKeyConstraint(['delivery_recorded_by_id'], ['users.id'], name=op.f('fk_letters_delivery_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['file_id'], ['evidence_files.id'], name=op.f('fk_letters_file_id_evidence_files')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_letters_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letters')),
    sa.UniqueConstraint('file_id', name=op.f('uq_letters_file_id')),
    sa.UniqueConstraint('number', name=op.f('uq_letters_number'))
    )
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letters_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letters_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_letters_counterparty_date', ['counterparty_id', 'letter_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_letters_counterparty_id'), ['counterparty_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letters_delivery_activity_id'), ['delivery_activity_id'], unique=False)

    op.create_table('letter_batch_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('counterparty_id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.Column('refusal', sa.String(length=500), nullable=True),
    sa.Column('send_status', sa.String(length=10), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('activity_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("send_status IS NULL OR send_status IN ('sent', 'failed', 'no_email')", name=op.f('ck_letter_batch_lines_send_status')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_letter_batch_lines_activity_id_activities')),
    sa.ForeignKeyConstraint(['batch_id'], ['letter_batches.id'], name=op.f('fk_letter_batch_lines_batch_id_letter_batches')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_letter_batch_lines_contact_id_contacts')),
    sa.ForeignKeyConstraint(['counterparty_id'], ['counterparties.id'], name=op.f('fk_letter_batch_lines_counterparty_id_counterparties')),
    sa.ForeignKeyConstraint(['letter_id'], ['letters.id'], name=op.f('fk_letter_batch_lines_letter_id_letters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_batch_lines')),
    sa.UniqueConstraint('batch_id', 'counterparty_id', name='uq_letter_batch_lines_debtor')
    )
    with op.batch_alter_table('letter_batch_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_batch_lines_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letter_batch_lines_counterparty_id'), ['counterparty_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letter_batch_lines_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letter_batch_lines_send_status'), ['send_status'], unique=False)


def downgrade():
    with op.batch_alter_table('letter_batch_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_batch_lines_send_status'))
        batch_op.drop_index(batch_op.f('ix_letter_batch_lines_letter_id'))
        batch_op.drop_index(batch_op.f('ix_letter_batch_lines_counterparty_id'))
        batch_op.drop_index(batch_op.f('ix_letter_batch_lines_batch_id'))

    op.drop_table('letter_batch_lines')
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letters_delivery_activity_id'))
        batch_op.drop_index(batch_op.f('ix_letters_counterparty_id'))
        batch_op.drop_index('ix_letters_counterparty_date')
        batch_op.drop_index(batch_op.f('ix_letters_case_id'))
        batch_op.drop_index(batch_op.f('ix_letters_batch_id'))

    op.drop_table('letters')
    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_batches_job_id'))
        batch_op.drop_index(batch_op.f('ix_letter_batches_created_by_id'))

    op.drop_table('letter_batches')
