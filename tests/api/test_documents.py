"""Documents through HTTP: upload of every accepted type, the refusals, listing, reading, deleting."""

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from openregister.extensions import db
from openregister.models import Document, Passage
from openregister.services.extraction import MAX_DOCX_UNPACKED_SIZE

from .. import factories
from ..conftest import API, row_count
from ..document_files import docx_file, pdf

GUIDE = (
    "# Billing guide\n\n"
    "Refunds are paid within fourteen days of the request. Ask the finance desk for a refund form.\n\n"
    "Invoices are sent on the first working day of every month."
)


def upload(client, headers, data: bytes, filename: str, **form):
    return client.post(f"{API}/documents", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename), **form})


@pytest.fixture
def alice(tenants, auth_headers):
    return auth_headers(tenants["alice"])


def test_upload_of_a_markdown_guide_answers_the_document_object(client, tenants, alice):
    response = upload(client, alice, GUIDE.encode(), "billing-guide.md")
    assert response.status_code == 201
    body = response.get_json()
    document = db.session.get(Document, body["id"])
    assert body == {
        "id": document.id, "uuid": document.uuid, "name": "billing-guide.md", "mimeType": "text/markdown",
        "size": len(GUIDE.encode()), "organisation": tenants["acme"].id, "owner": "alice", "chunks": 1,
        "status": "indexed", "error": None, "created": body["created"], "updated": body["updated"],
    }
    assert db.session.scalars(select(Passage.text)).all() == [GUIDE]


@pytest.mark.parametrize("data, filename, mime_type, expected", [
    (b"Plain words about refunds.", "notes.txt", "text/plain", "Plain words about refunds."),
    (b"<!doctype html><html><head><title>T</title><script>var secret = 1;</script></head>"
     b"<body><p>Refunds &amp; returns.</p><style>p {}</style><div>Second block.</div></body></html>",
     "page.html", "text/html", "Refunds & returns."),
    (pdf("Refunds are paid within fourteen days."), "guide.pdf", "application/pdf",
     "Refunds are paid within fourteen days."),
    (docx_file("Refunds are paid within fourteen days.", "Invoices monthly."), "guide.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Refunds are paid within fourteen days."),
])
def test_each_accepted_type_is_recognised_and_its_text_indexed(client, alice, data, filename, mime_type, expected):
    response = upload(client, alice, data, filename)
    assert response.status_code == 201
    assert response.get_json()["mimeType"] == mime_type
    assert response.get_json()["status"] == "indexed"
    passages = " ".join(db.session.scalars(select(Passage.text)))
    assert expected in passages
    assert "secret" not in passages and "p {}" not in passages


def test_the_type_is_recognised_by_content_not_the_declared_type(client, alice):
    response = client.post(f"{API}/documents", headers=alice, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(pdf("Hello from a PDF.")), "upload.bin", "text/plain")})
    assert response.status_code == 201
    assert response.get_json()["mimeType"] == "application/pdf"


@pytest.mark.parametrize("data", [b"%PDF-1.4\n%junk", pdf("Refunds.")[:150], b"%PDF-" + bytes(range(256))])
def test_a_damaged_pdf_is_stored_as_failed(client, alice, data):
    response = upload(client, alice, data, "broken.pdf")
    assert response.status_code == 201
    assert response.get_json()["status"] == "failed"
    assert response.get_json()["error"].startswith("The PDF")


def test_a_pdf_without_a_text_layer_is_stored_as_failed_with_the_reason(client, alice):
    response = upload(client, alice, pdf(), "scan.pdf")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "failed"
    assert "no text layer" in body["error"]
    assert body["chunks"] == 0
    assert row_count(Passage) == 0


def test_a_docx_that_unpacks_to_more_than_the_limit_is_stored_as_failed_without_unpacking_it(client, alice):
    """A zip bomb dressed as DOCX: a small upload whose document.xml unpacks past the limit."""
    packed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_file("Refunds."))) as source, \
            zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "word/document.xml":
                data = data.replace(b"Refunds.", b"Refunds." + b" " * (MAX_DOCX_UNPACKED_SIZE + 1))
            bomb.writestr(member.filename, data)
    assert len(packed.getvalue()) < 1024 * 1024
    response = upload(client, alice, packed.getvalue(), "bomb.docx")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "failed"
    assert "unpacks to" in body["error"]
    assert row_count(Passage) == 0


@pytest.mark.parametrize("data, filename", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png"),
    (b"PK\x03\x04" + b"\x00" * 30, "archive.zip"),
    (b"\xff\xfe\x00\x01binary", "blob.txt"),
])
def test_another_type_is_415_and_stores_nothing(client, alice, data, filename):
    response = upload(client, alice, data, filename)
    assert response.status_code == 415
    assert response.get_json()["error"] == "Unsupported Media Type"
    assert row_count(Document) == 0


def test_a_document_over_the_size_limit_is_413_and_stores_nothing(app, client, alice):
    app.config["MAX_DOCUMENT_SIZE"] = 1000
    assert upload(client, alice, b"a" * 1000, "fits.txt").status_code == 201
    response = upload(client, alice, b"a" * 1001, "too-big.txt")
    assert response.status_code == 413
    assert "1000 bytes" in response.get_json()["message"]
    response = upload(client, alice, b"a" * 200_000, "far-too-big.txt")
    assert response.status_code == 413
    assert row_count(Document) == 1


def test_documents_may_be_larger_than_a_json_body(app, client, alice):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    words = ("Refunds are paid within fourteen days. " * 200).encode()
    assert upload(client, alice, words, "long.txt").status_code == 201
    response = client.post(f"{API}/conversations", headers=alice, json={"title": "x" * 2000})
    assert response.status_code == 413


def test_upload_without_an_active_organisation_is_400(client, tenants, auth_headers):
    loner = factories.make_user("dave")
    db.session.commit()
    response = upload(client, auth_headers(loner), b"text", "a.txt")
    assert response.status_code == 400
    assert response.get_json()["error"] == "No active organisation"
    assert client.get(f"{API}/documents", headers=auth_headers(loner)).get_json()["total"] == 0


def test_upload_without_a_file_is_400(client, alice):
    response = client.post(f"{API}/documents", headers=alice, content_type="multipart/form-data", data={"name": "x"})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"file": ["Missing data for required field."]}


def test_the_name_defaults_to_the_file_name_and_may_be_given(client, alice):
    assert upload(client, alice, b"x", "folder/notes.txt").get_json()["name"] == "notes.txt"
    assert upload(client, alice, b"x", "notes.txt", name="Team notes").get_json()["name"] == "Team notes"


def test_list_is_newest_first_paged_and_searchable_by_name(client, alice):
    for name in ("Billing guide", "Holiday policy", "billing FAQ"):
        upload(client, alice, b"words", "f.txt", name=name)
    body = client.get(f"{API}/documents?limit=2", headers=alice).get_json()
    assert [d["name"] for d in body["results"]] == ["billing FAQ", "Holiday policy"]
    assert (body["total"], body["limit"], body["offset"]) == (3, 2, 0)
    body = client.get(f"{API}/documents?_search=BILLING", headers=alice).get_json()
    assert [d["name"] for d in body["results"]] == ["billing FAQ", "Billing guide"]
    assert client.get(f"{API}/documents?_search=%25", headers=alice).get_json()["total"] == 0


def test_members_read_the_organisations_documents_and_other_tenants_get_404(client, tenants, alice, auth_headers):
    document = upload(client, alice, GUIDE.encode(), "guide.md").get_json()
    bob, carol = auth_headers(tenants["bob"]), auth_headers(tenants["carol"])
    assert client.get(f"{API}/documents/{document['uuid']}", headers=bob).get_json() == document
    assert client.get(f"{API}/documents/{document['id']}", headers=bob).status_code == 200
    for url in (f"{API}/documents/{document['uuid']}", f"{API}/documents/{document['uuid']}/content"):
        assert client.get(url, headers=carol).status_code == 404
    assert client.delete(f"{API}/documents/{document['uuid']}", headers=carol).status_code == 404
    assert client.get(f"{API}/documents", headers=carol).get_json()["total"] == 0


def test_content_is_the_original_bytes_as_a_download(client, alice):
    data = pdf("Refunds.")
    document = upload(client, alice, data, "guide.pdf").get_json()
    response = client.get(f"{API}/documents/{document['uuid']}/content", headers=alice)
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_name_with_control_characters_downloads_under_a_safe_file_name(client, alice):
    """Found by fuzzing: such a name went into the header as it was, and the server refused the response."""
    document = upload(client, alice, GUIDE.encode(), "guide.md", name="Gu\x01ide\x7f é.md").get_json()
    response = client.get(f"{API}/documents/{document['uuid']}/content", headers=alice)
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Gu-ide---.md"; filename*=UTF-8\'\'')
    assert all(32 <= ord(character) < 127 for character in disposition)


def test_only_the_uploader_or_the_owner_deletes_and_passages_go_with_it(client, tenants, alice, auth_headers):
    bob, = [auth_headers(tenants["bob"])]
    by_alice = upload(client, alice, GUIDE.encode(), "guide.md").get_json()
    by_bob = upload(client, bob, GUIDE.encode(), "bobs.md").get_json()
    response = client.delete(f"{API}/documents/{by_alice['uuid']}", headers=bob)
    assert response.status_code == 403
    assert client.delete(f"{API}/documents/{by_bob['uuid']}", headers=bob).get_json() == {
        "message": "Document deleted", "uuid": by_bob["uuid"]}
    assert client.delete(f"{API}/documents/{by_alice['uuid']}", headers=alice).status_code == 200
    assert row_count(Document) == 0 and row_count(Passage) == 0
    assert search_index_rows() == 0


def search_index_rows() -> int:
    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(text("SELECT count(*) FROM passages_fts"))
    return db.session.scalar(text("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'refunds'"))


def test_long_text_is_cut_into_overlapping_passages_on_sentence_boundaries(client, alice):
    paragraphs = [" ".join(f"Paragraph {p} sentence {s} says something useful." for s in range(30)) for p in range(4)]
    document = upload(client, alice, "\n\n".join(paragraphs).encode(), "long.txt").get_json()
    passages = db.session.scalars(select(Passage.text).order_by(Passage.position)).all()
    assert document["chunks"] == len(passages) > 3
    for passage in passages:
        assert passage.endswith(".") and passage.startswith("Paragraph")
        assert len(passage.split()) <= 200
    for before, after in zip(passages, passages[1:]):
        assert after.split(".")[0] + "." in before


junk_bodies = st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda head, tail: b"--b\r\n" + head + b"\r\n\r\n" + tail,
              st.binary(max_size=200), st.binary(max_size=500)),
    st.builds(lambda name, body: b'--b\r\nContent-Disposition: form-data; name="file"; filename="' + name
              + b'"\r\n\r\n' + body + b"\r\n--b--\r\n", st.binary(max_size=60), st.binary(max_size=500)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=junk_bodies, content_type=st.sampled_from([
    "multipart/form-data; boundary=b", "multipart/form-data", "multipart/form-data; boundary=", "text/plain",
    "application/octet-stream", "multipart/mixed; boundary=b"]))
def test_junk_uploads_never_answer_500(client, alice, body, content_type):
    response = client.post(f"{API}/documents", headers={**alice, "Content-Type": content_type}, data=body)
    assert response.status_code in (201, 400, 413, 415)
    assert response.is_json
    db.session.rollback()
