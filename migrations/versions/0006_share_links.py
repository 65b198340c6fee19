"""Share links: one public read-only link per conversation, its token kept only as a SHA-256 hash.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 03:55:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('share_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('last_message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_share_links_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_links')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_share_links_conversation_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_share_links_token_hash'))
    )


def downgrade():
    op.drop_table('share_links')
