"""legal: legal referrals, lawsuits, hearings, costs, judgments, enforcement

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('counterparty_id', sa.Integer(), nullable=False),
    sa.Column('claim_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('claim_as_of', sa.Date(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('requested_kinds', sa.String(length=300), nullable=True),
    sa.Column('summary_file_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.String(length=1000), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("claim_type IN ('sale_of_goods', 'construction', 'other')", name=op.f('ck_referrals_claim_type')),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'returned', 'accepted', 'declined')", name=op.f('ck_referrals_status')),
    sa.ForeignKeyConstraint(['case_id'], ['recovery_cases.id'], name=op.f('fk_referrals_case_id_recovery_cases')),
    sa.ForeignKeyConstraint(['counterparty_id'], ['counterparties.id'], name=op.f('fk_referrals_counterparty_id_counterparties')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_referrals_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_referrals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_referrals_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['summary_file_id'], ['evidence_files.id'], name=op.f('fk_referrals_summary_file_id_evidence_files')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_referrals_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('number', name=op.f('uq_referrals_number'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_counterparty_id'), ['counterparty_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_submitted_by_id'), ['submitted_by_id'], unique=False)
        batch_op.create_index('uq_referrals_one_live', ['case_id'], unique=True, sqlite_where=sa.text("status <> 'declined'"), postgresql_where=sa.text("status <> 'declined'"))

    op.create_table('lawsuits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('counterparty_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('court', sa.String(length=200), nullable=False),
    sa.Column('case_number', sa.String(length=100), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('claimed_principal', sa.BigInteger(), nullable=False),
    sa.Column('claimed_interest', sa.BigInteger(), nullable=False),
    sa.Column('preservation_on', sa.Date(), nullable=True),
    sa.Column('preservation_ruling', sa.String(length=100), nullable=True),
    sa.Column('preserved_assets', sa.String(length=500), nullable=True),
    sa.Column('preserved_amount', sa.BigInteger(), nullable=True),
    sa.Column('judgment_kind', sa.String(length=10), nullable=True),
    sa.Column('judgment_on', sa.Date(), nullable=True),
    sa.Column('awarded_principal', sa.BigInteger(), nullable=True),
    sa.Column('awarded_interest', sa.BigInteger(), nullable=True),
    sa.Column('awarded_costs', sa.BigInteger(), nullable=True),
    sa.Column('judgment_effective_on', sa.Date(), nullable=True),
    sa.Column('performance_deadline', sa.Date(), nullable=True),
    sa.Column('post_judgment_rate', sa.Numeric(precision=9, scale=4), nullable=True),
    sa.Column('interest_runs_from', sa.Date(), nullable=True),
    sa.Column('enforcement_on', sa.Date(), nullable=True),
    sa.Column('enforcement_court', sa.String(length=200), nullable=True),
    sa.Column('enforcement_case_number', sa.String(length=100), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closing_note', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("judgment_kind IS NULL OR judgment_kind IN ('judgment', 'mediation')", name=op.f('ck_lawsuits_judgment_kind')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('paid_in_full', 'partly_recovered', 'settled', 'no_assets', 'lost', 'withdrawn')", name=op.f('ck_lawsuits_outcome')),
    sa.CheckConstraint("stage <> 'closed' OR outcome IS NOT NULL", name=op.f('ck_lawsuits_closed_outcome')),
    sa.CheckConstraint("stage IN ('filed', 'preservation', 'hearing', 'judgment', 'enforcement', 'closed')", name=op.f('ck_lawsuits_stage')),
    sa.ForeignKeyConstraint(['case_id'], ['recovery_cases.id'], name=op.f('fk_lawsuits_case_id_recovery_cases')),
    sa.ForeignKeyConstraint(['counterparty_id'], ['counterparties.id'], name=op.f('fk_lawsuits_counterparty_id_counterparties')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lawsuits_created_by_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_lawsuits_referral_id_referrals')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_lawsuits_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lawsuits')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_lawsuits_referral_id'))
    )
    with op.batch_alter_table('lawsuits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lawsuits_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lawsuits_counterparty_id'), ['counterparty_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lawsuits_filed_on'), ['filed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_lawsuits_stage'), ['stage'], unique=False)

    op.create_table('referral_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.Column('missing', sa.String(length=300), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("decision IN ('submitted', 'returned', 'accepted', 'declined')", name=op.f('ck_referral_decisions_decision')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_referral_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_decisions_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_decisions'))
    )
    with op.batch_alter_table('referral_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_decisions_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_decisions_referral_id'), ['referral_id'], unique=False)

    op.create_table('referral_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('evidence_file_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('contract', 'delivery', 'invoice', 'settlement', 'visa', 'statement', 'balance_confirmation', 'demand', 'correspondence', 'guarantee', 'other')", name=op.f('ck_referral_documents_kind')),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_referral_documents_added_by_id_users')),
    sa.ForeignKeyConstraint(['evidence_file_id'], ['evidence_files.id'], name=op.f('fk_referral_documents_evidence_file_id_evidence_files')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_documents_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_documents')),
    sa.UniqueConstraint('referral_id', 'evidence_file_id', name=op.f('uq_referral_documents_referral_id'))
    )
    with op.batch_alter_table('referral_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_documents_evidence_file_id'), ['evidence_file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_documents_referral_id'), ['referral_id'], unique=False)

    op.create_table('referral_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=False),
    sa.Column('claimed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_referral_items_item_id_items')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_items_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_items')),
    sa.UniqueConstraint('referral_id', 'item_id', name=op.f('uq_referral_items_referral_id'))
    )
    with op.batch_alter_table('referral_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_items_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_items_referral_id'), ['referral_id'], unique=False)

    op.create_table('lawsuit_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lawsuit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('incurred_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('court_fee', 'preservation_fee', 'lawyer_fee', 'enforcement_fee', 'other')", name=op.f('ck_lawsuit_costs_kind')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_lawsuit_costs_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lawsuit_costs_created_by_id_users')),
    sa.ForeignKeyConstraint(['lawsuit_id'], ['lawsuits.id'], name=op.f('fk_lawsuit_costs_lawsuit_id_lawsuits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lawsuit_costs'))
    )
    with op.batch_alter_table('lawsuit_costs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lawsuit_costs_lawsuit_id'), ['lawsuit_id'], unique=False)

    op.create_table('lawsuit_hearings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lawsuit_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('hearing', 'evidence_exchange', 'mediation')", name=op.f('ck_lawsuit_hearings_kind')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lawsuit_hearings_created_by_id_users')),
    sa.ForeignKeyConstraint(['lawsuit_id'], ['lawsuits.id'], name=op.f('fk_lawsuit_hearings_lawsuit_id_lawsuits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lawsuit_hearings'))
    )
    with op.batch_alter_table('lawsuit_hearings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lawsuit_hearings_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_lawsuit_hearings_lawsuit_id'), ['lawsuit_id'], unique=False)

    op.create_table('lawsuit_recoveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lawsuit_id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lawsuit_recoveries_created_by_id_users')),
    sa.ForeignKeyConstraint(['lawsuit_id'], ['lawsuits.id'], name=op.f('fk_lawsuit_recoveries_lawsuit_id_lawsuits')),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_lawsuit_recoveries_receipt_id_receipts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lawsuit_recoveries')),
    sa.UniqueConstraint('receipt_id', name=op.f('uq_lawsuit_recoveries_receipt_id'))
    )
    with op.batch_alter_table('lawsuit_recoveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lawsuit_recoveries_lawsuit_id'), ['lawsuit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('lawsuit_recoveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lawsuit_recoveries_lawsuit_id'))

    op.drop_table('lawsuit_recoveries')
    with op.batch_alter_table('lawsuit_hearings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lawsuit_hearings_lawsuit_id'))
        batch_op.drop_index(batch_op.f('ix_lawsuit_hearings_held_on'))

    op.drop_table('lawsuit_hearings')
    with op.batch_alter_table('lawsuit_costs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lawsuit_costs_lawsuit_id'))

    op.drop_table('lawsuit_costs')
    with op.batch_alter_table('referral_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_items_referral_id'))
        batch_op.drop_index(batch_op.f('ix_referral_items_item_id'))

    op.drop_table('referral_items')
    with op.batch_alter_table('referral_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_documents_referral_id'))
        batch_op.drop_index(batch_op.f('ix_referral_documents_evidence_file_id'))

    op.drop_table('referral_documents')
    with op.batch_alter_table('referral_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_decisions_referral_id'))
        batch_op.drop_index(batch_op.f('ix_referral_decisions_decided_at'))

    op.drop_table('referral_decisions')
    with op.batch_alter_table('lawsuits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lawsuits_stage'))
        batch_op.drop_index(batch_op.f('ix_lawsuits_filed_on'))
        batch_op.drop_index(batch_op.f('ix_lawsuits_counterparty_id'))
        batch_op.drop_index(batch_op.f('ix_lawsuits_case_id'))

    op.drop_table('lawsuits')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('uq_referrals_one_live', sqlite_where=sa.text("status <> 'declined'"), postgresql_where=sa.text("status <> 'declined'"))
        batch_op.drop_index(batch_op.f('ix_referrals_submitted_by_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_status'))
        batch_op.drop_index(batch_op.f('ix_referrals_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_counterparty_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_case_id'))

    op.drop_table('referrals')
