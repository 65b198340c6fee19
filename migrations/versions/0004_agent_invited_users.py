"""An agent's invitedUsers in a table of their own, so that who may use an agent is one SQL condition.

agent_invitations holds one row per name in the list, at its place (`position`), so the wire's
list comes back in the order given, duplicates and all. The names are user names, not users: a
name may be invited before anyone holds it, as in the JSON list. Upgrade copies every list into
the table; downgrade copies the rows back into the list, in order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 03:50:00.000000
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

agents = sa.table('agents', sa.column('id', sa.Integer()), sa.column('invited_users', JSON))
invitations = sa.table(
    'agent_invitations', sa.column('agent_id', sa.Integer()), sa.column('position', sa.Integer()),
    sa.column('username', sa.String()),
)


def upgrade():
    op.create_table('agent_invitations',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_invitations_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'position', name=op.f('pk_agent_invitations'))
    )
    with op.batch_alter_table('agent_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_invitations_username'), ['username'], unique=False)

    connection = op.get_bind()
    rows = [
        {'agent_id': agent_id, 'position': position, 'username': username}
        for agent_id, names in connection.execute(sa.select(agents.c.id, agents.c.invited_users))
        for position, username in enumerate(names or [])
    ]
    if rows:
        connection.execute(invitations.insert(), rows)

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('invited_users')


def downgrade():
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_users', JSON, nullable=True))

    connection = op.get_bind()
    names = defaultdict(list)
    ordered = sa.select(invitations.c.agent_id, invitations.c.username).order_by(
        invitations.c.agent_id, invitations.c.position)
    for agent_id, username in connection.execute(ordered):
        names[agent_id].append(username)
    connection.execute(agents.update().values(invited_users=[]))
    for agent_id, usernames in names.items():
        connection.execute(agents.update().where(agents.c.id == agent_id).values(invited_users=usernames))

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.alter_column('invited_users', existing_type=JSON, nullable=False)

    with op.batch_alter_table('agent_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_invitations_username'))

    op.drop_table('agent_invitations')
