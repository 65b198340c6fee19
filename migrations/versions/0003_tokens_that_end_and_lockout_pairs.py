"""Tokens that end, disabled users, external identities, normalised user names, and lock-out per pair.

users: `uuid` (never reused; tokens name the user by it), `token_generation` (advanced to end
every token issued before), `disabled`, `external_issuer`/`external_subject` (an identity
provider's users are matched by these, never by name), and `username_key`, the trimmed,
lower-case name, unique, so that no two users differ only in case. An existing database with
two such names fails here; rename one of them first.
app_passwords: `last_used`. login_failures: the user name and address each counter involves.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 03:04:32.085113
"""
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('app_passwords', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used', sa.DateTime(), nullable=True))

    # The counters are short-lived; the old ones (per name, per address) mean nothing to the new keys.
    op.execute("DELETE FROM login_failures")
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))
        batch_op.create_index(batch_op.f('ix_login_failures_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failures_username'), ['username'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('username_key', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('token_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('external_issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('external_subject', sa.String(length=255), nullable=True))

    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('uuid', sa.String()),
                     sa.column('username', sa.String()), sa.column('username_key', sa.String()))
    for user_id, username in connection.execute(sa.select(users.c.id, users.c.username)).all():
        connection.execute(users.update().where(users.c.id == user_id).values(
            uuid=str(uuid.uuid4()), username_key=username.strip().lower()))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
        batch_op.alter_column('username_key', existing_type=sa.String(length=128), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_external_issuer'), ['external_issuer', 'external_subject'])
        batch_op.create_unique_constraint(batch_op.f('uq_users_username_key'), ['username_key'])
        batch_op.create_unique_constraint(batch_op.f('uq_users_uuid'), ['uuid'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_uuid'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_users_username_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_users_external_issuer'), type_='unique')
        batch_op.drop_column('external_subject')
        batch_op.drop_column('external_issuer')
        batch_op.drop_column('disabled')
        batch_op.drop_column('token_generation')
        batch_op.drop_column('username_key')
        batch_op.drop_column('uuid')

    op.execute("DELETE FROM login_failures")
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_username'))
        batch_op.drop_index(batch_op.f('ix_login_failures_address'))
        batch_op.drop_column('address')
        batch_op.drop_column('username')

    with op.batch_alter_table('app_passwords', schema=None) as batch_op:
        batch_op.drop_column('last_used')
