"""`flask documents import` and `flask documents reindex`."""

from sqlalchemy import select

from openregister.extensions import db
from openregister.models import Document, Passage
from openregister.providers.embeddings import from_bytes

from .conftest import API
from .document_files import pdf
from .embedding_server import EmbeddingServer


def invoke(runner, *args):
    return runner.invoke(args=list(args))


def write_guides(folder):
    (folder / "guides").mkdir()
    (folder / "guides" / "billing.md").write_text("# Billing\n\nRefunds are paid within fourteen days.")
    (folder / "guides" / "scan.pdf").write_bytes(pdf())
    (folder / "guides" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (folder / "holiday.txt").write_text("Holidays are booked with the team lead.")


def test_import_takes_files_and_folders_with_a_progress_bar_on_stderr(runner, tenants, tmp_path, client, auth_headers):
    write_guides(tmp_path)
    result = invoke(runner, "documents", "import", "Acme", str(tmp_path / "guides"), str(tmp_path / "holiday.txt"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported 3 documents into 'Acme' (1 without text, 1 skipped).\n"
    assert "Documents" in result.stderr and "photo.png" in result.stderr
    documents = db.session.scalars(select(Document).order_by(Document.name)).all()
    assert [(d.name, d.status, d.owner.username, d.organisation_id) for d in documents] == [
        ("billing.md", "indexed", "alice", tenants["acme"].id),
        ("holiday.txt", "indexed", "alice", tenants["acme"].id),
        ("scan.pdf", "failed", "alice", tenants["acme"].id),
    ]
    listed = client.get(f"{API}/documents", headers=auth_headers(tenants["bob"])).get_json()
    assert listed["total"] == 3


def test_import_into_an_unknown_organisation_fails_and_writes_nothing(runner, tenants, tmp_path):
    write_guides(tmp_path)
    result = invoke(runner, "documents", "import", "Nowhere", str(tmp_path / "holiday.txt"))
    assert result.exit_code == 1
    assert "No organisation 'Nowhere'" in result.stderr
    assert db.session.scalars(select(Document)).all() == []


def test_reindex_embeds_every_passage_of_the_organisation(app, runner, tenants, tmp_path):
    write_guides(tmp_path)
    invoke(runner, "documents", "import", "Acme", str(tmp_path / "guides"), str(tmp_path / "holiday.txt"))
    invoke(runner, "documents", "import", "Globex", str(tmp_path / "holiday.txt"))
    assert db.session.scalars(select(Passage.embedding_model)).all() == [None, None, None]
    with EmbeddingServer() as server:
        app.config.update(EMBEDDING_PROVIDER="openai", EMBEDDING_BASE_URL=server.url(), EMBEDDING_MODEL="hashed-v2")
        result = invoke(runner, "documents", "reindex", "Acme")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Embedded 2 passages with hashed-v2.\n"
    assert "Passages" in result.stderr
    db.session.expire_all()
    rows = db.session.execute(select(Passage.organisation_id, Passage.embedding_model, Passage.embedding)).all()
    assert sorted((org, model) for org, model, _ in rows) == sorted(
        [(tenants["acme"].id, "hashed-v2"), (tenants["acme"].id, "hashed-v2"), (tenants["globex"].id, None)])
    assert all(from_bytes(data).shape == (256,) for _, model, data in rows if model)


def test_reindex_without_an_embedding_provider_says_so(runner, tenants):
    result = invoke(runner, "documents", "reindex")
    assert result.exit_code == 1
    assert "No embedding provider" in result.stderr


def test_reindex_with_a_failing_server_fails_and_says_so(app, runner, tenants, tmp_path):
    write_guides(tmp_path)
    invoke(runner, "documents", "import", "Acme", str(tmp_path / "holiday.txt"))
    with EmbeddingServer() as server:
        app.config.update(EMBEDDING_PROVIDER="openai", EMBEDDING_BASE_URL=server.url("status/500"), EMBEDDING_MODEL="m")
        result = invoke(runner, "documents", "reindex")
    assert result.exit_code == 1
    assert "embedding server failed" in result.stderr
    assert db.session.scalars(select(Passage.embedding_model)).all() == [None]
