"""Documents and their passages, with a full-text index over the passages.

documents: an organisation's uploaded files (the original bytes, the extraction's status).
passages: the documents cut into a few hundred words each, with an optional embedding (float32
bytes). The full-text index lives outside the models' metadata: an FTS5 table (unicode61,
diacritics removed) on SQLite, a tsvector table (the `simple` configuration over unaccent, with a
GIN index and the organisation beside it) on PostgreSQL, both kept in step by triggers.

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-02 04:10:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = "0007"
branch_labels = None
depends_on = None

# A copy, not an import: a migration keeps the statements of its day (openregister/models/document.py).
SQLITE_SEARCH_INDEX = (
    "CREATE VIRTUAL TABLE passages_fts USING fts5(text, content='passages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN "
    "INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN "
    "INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER passages_fts_update AFTER UPDATE OF text ON passages BEGIN "
    "INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text); END",
)
POSTGRESQL_SEARCH_INDEX = (
    "CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public",
    "CREATE TABLE passages_fts (passage_id integer PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE, "
    "organisation_id integer NOT NULL, vector tsvector NOT NULL)",
    "CREATE INDEX passages_fts_vector ON passages_fts USING gin (vector)",
    "CREATE INDEX passages_fts_organisation ON passages_fts (organisation_id)",
    "CREATE FUNCTION passages_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO passages_fts (passage_id, organisation_id, vector) "
    "VALUES (NEW.id, NEW.organisation_id, to_tsvector('simple', public.unaccent(NEW.text))) "
    "ON CONFLICT (passage_id) DO UPDATE SET organisation_id = EXCLUDED.organisation_id, vector = EXCLUDED.vector; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER passages_fts_sync AFTER INSERT OR UPDATE OF text, organisation_id ON passages "
    "FOR EACH ROW EXECUTE FUNCTION passages_fts_sync()",
)


def upgrade():
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('mime_type', sa.String(length=128), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('chunks', sa.Integer(), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('updated', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_documents_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_documents_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('uuid', name=op.f('uq_documents_uuid'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_listing', ['organisation_id', 'created', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_owner_id'), ['owner_id'], unique=False)

    op.create_table('passages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=True),
    sa.Column('embedding_model', sa.String(length=255), nullable=True),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_passages_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_passages_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passages'))
    )
    with op.batch_alter_table('passages', schema=None) as batch_op:
        batch_op.create_index('ix_passages_document', ['document_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_passages_organisation_id'), ['organisation_id'], unique=False)

    statements = POSTGRESQL_SEARCH_INDEX if op.get_bind().dialect.name == "postgresql" else SQLITE_SEARCH_INDEX
    for statement in statements:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE passages_fts")
        op.execute("DROP FUNCTION passages_fts_sync() CASCADE")
    else:
        for trigger in ("passages_fts_update", "passages_fts_delete", "passages_fts_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE passages_fts")
    with op.batch_alter_table('passages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passages_organisation_id'))
        batch_op.drop_index('ix_passages_document')
    op.drop_table('passages')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_owner_id'))
        batch_op.drop_index('ix_documents_listing')
    op.drop_table('documents')
