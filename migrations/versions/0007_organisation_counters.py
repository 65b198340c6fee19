"""Counters of agents, conversations and messages per organisation (and per user outside any), kept by triggers.

`chat/stats` read every conversation and message of the organisation on each call; it now reads
one row. The triggers (openregister/models/counters.py) keep the rows exact in the transaction
that changes agents, conversations or messages, whoever writes; this migration creates them and
fills the counters from the rows that exist.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02 04:20:00
"""
import sqlalchemy as sa
from alembic import op

from openregister.models.counters import create_counter_triggers, drop_counter_trigger_statements, recount

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation_counters',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('agents', sa.Integer(), server_default='0', nullable=False),
    sa.Column('conversations', sa.Integer(), server_default='0', nullable=False),
    sa.Column('messages', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_organisation_counters_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_organisation_counters'))
    )
    op.create_table('personal_counters',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('agents', sa.Integer(), server_default='0', nullable=False),
    sa.Column('conversations', sa.Integer(), server_default='0', nullable=False),
    sa.Column('messages', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_counters_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_personal_counters'))
    )
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        # No writer may change the rows between the count and the triggers taking over.
        op.execute('LOCK TABLE organisations, users, agents, conversations, messages IN SHARE ROW EXCLUSIVE MODE')
    recount(connection)
    create_counter_triggers(connection)


def downgrade():
    for statement in drop_counter_trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('personal_counters')
    op.drop_table('organisation_counters')
