"""Evidence files: size and type limits (by extension and by content), names that try to
leave the upload folder, all or nothing, SHA-256, and who may download."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
import sqlalchemy as sa

from recovery.activities.models import Activity, EvidenceFile
from recovery.extensions import db
from tests.activities.conftest import PDF, PNG, evidence_files, post_activity, sign_in


def rows(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_nothing_stored(app):
    assert rows(app, Activity) == 0
    assert rows(app, EvidenceFile) == 0
    assert evidence_files(app) == []


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


GOOD_FILES = [
    ("催收函-签收.pdf", PDF),
    ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32),
    ("photo.png", PNG),
    ("scan.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
    ("call.mp3", b"ID3\x03\x00" + b"\x00" * 32),
    ("call.amr", b"#!AMR\n" + b"\x00" * 32),
    ("call.m4a", b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 32),
    ("call.wav", b"RIFF\x00\x00\x00\x00WAVEfmt "),
    ("visit.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 32),
    ("letter.docx", docx()),
    ("notes.txt", "电话记录：对方承认欠款。".encode()),
    ("mail.eml", b"From: a@example.com\r\nSubject: balance\r\n\r\nbody"),
]


@pytest.mark.parametrize(("name", "content"), GOOD_FILES)
def test_accepted_types_are_stored_with_their_sha256(app, world, name, content):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact1, files=[(name, content)])
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        [record] = db.session.scalars(sa.select(EvidenceFile)).all()
        assert record.original_name == name
        assert record.size == len(content)
        assert record.sha256 == hashlib.sha256(content).hexdigest()
        assert record.activity_id is not None and record.counterparty_id == world.cp1
        assert record.uploaded_by_id == world.users["sales1"]
        stored_name = record.stored_name
    # Stored under a random name, not the user's.
    [path] = evidence_files(app)
    assert path.name == stored_name and name not in str(path)
    assert path.read_bytes() == content
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert hashlib.sha256(content).hexdigest() in page


def test_several_files_on_one_activity(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(
        client, world.cp1, contact_id=world.contact1, files=[("a.pdf", PDF), ("b.png", PNG)]
    )
    assert response.status_code == 302
    assert rows(app, EvidenceFile) == 2
    assert len(evidence_files(app)) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "not accepted"),
        ("image.svg", b"<svg onload='alert(1)'/>", "not accepted"),
        ("setup.exe", b"MZ\x90\x00", "not accepted"),
        ("script.js", b"alert(1)", "not accepted"),
        ("noextension", PDF, "not accepted"),
        ("invoice.pdf.exe", b"MZ\x90\x00", "not accepted"),
    ],
)
def test_forbidden_types_are_refused(app, world, name, content, message):
    client = sign_in(app, "sales1")
    response = post_activity(
        client, world.cp1, contact_id=world.contact1, outcome="kept", files=[(name, content)]
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text
    assert "kept" in text  # what was typed is shown again
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", b"<html><body>not a pdf</body></html>"),
        ("photo.jpg", PNG),
        ("photo.png", b"GIF89a"),
        ("notes.txt", b"<!DOCTYPE html><script>alert(1)</script>"),
        ("notes.txt", b"\x00\x01\x02binary"),
        ("letter.docx", b"PK\x03\x04 not really a zip"),
        ("letter.docx", docx({"word/vbaProject.bin": b"macro"})),
        ("call.mp3", b"MZ\x90\x00program"),
        ("mail.eml", b"<html>hello</html>"),
    ],
)
def test_a_disguised_file_is_refused(app, world, name, content):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact1, files=[(name, content)])
    assert response.status_code == 200
    assert "is not really a" in response.get_data(as_text=True)
    assert_nothing_stored(app)


def test_a_file_too_large_is_refused(app, world):
    app.config["EVIDENCE_MAX_FILE_BYTES"] = 1024
    client = sign_in(app, "sales1")
    response = post_activity(
        client, world.cp1, contact_id=world.contact1, files=[("big.pdf", PDF + b"x" * 2000)]
    )
    assert response.status_code == 200
    assert "is larger than" in response.get_data(as_text=True)
    assert_nothing_stored(app)
    # At the limit it passes.
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        files=[("ok.pdf", PDF + b"x" * (1024 - len(PDF)))],
    )
    assert response.status_code == 302


def test_the_default_limit_is_20_mb(app, world):
    with app.test_request_context():
        from recovery.activities import evidence

        assert evidence.max_file_bytes() == 20 * 1024 * 1024


def test_a_request_over_the_whole_upload_limit_is_refused(app, world):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    client = sign_in(app, "sales1")
    response = post_activity(
        client, world.cp1, contact_id=world.contact1, files=[("big.pdf", PDF + b"x" * 10000)]
    )
    assert response.status_code == 413
    assert_nothing_stored(app)


def test_an_empty_file_is_refused(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact1, files=[("e.pdf", b"")])
    assert response.status_code == 200
    assert "is empty" in response.get_data(as_text=True)
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    "name",
    ["../x.pdf", "../../etc/passwd.pdf", "/etc/x.pdf", "a\x00b.pdf", "C:x.pdf", ".."],
)
def test_a_name_escaping_the_upload_folder_is_refused(app, world, name):
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact1, files=[(name, PDF)])
    assert response.status_code == 200
    assert "outside the upload folder" in response.get_data(as_text=True)
    assert_nothing_stored(app)
    # Nothing was written next to the upload folder either.
    folder = app.config["UPLOAD_FOLDER"]
    import os

    parent = os.path.dirname(folder)
    assert not os.path.exists(os.path.join(parent, "x.pdf"))


@pytest.mark.parametrize(
    "name", ["..\\x.pdf", "C:\\Windows\\x.pdf", "\\\\server\\share\\x.pdf", "a/b.pdf", "."]
)
def test_display_name_refuses_folders_of_every_system(app, name):
    # The test client mangles backslashes in multipart names: the rule is checked directly.
    from recovery.activities.evidence import EvidenceError, display_name

    with app.test_request_context(), pytest.raises(EvidenceError):
        display_name(name)


def test_display_name_keeps_chinese_names(app):
    from recovery.activities.evidence import display_name

    with app.test_request_context():
        assert display_name("  催收函 (签收).pdf ") == "催收函 (签收).pdf"
        assert display_name(".hidden.pdf") == "hidden.pdf"
        assert len(display_name("长" * 300 + ".pdf")) == 200
        assert display_name("长" * 300 + ".pdf").endswith(".pdf")


def test_one_bad_file_refuses_them_all(app, world):
    client = sign_in(app, "sales1")
    response = post_activity(
        client,
        world.cp1,
        contact_id=world.contact1,
        files=[("good.pdf", PDF), ("good.png", PNG), ("bad.html", b"<html></html>")],
    )
    assert response.status_code == 200
    assert_nothing_stored(app)


def test_files_are_removed_when_the_activity_is_refused_after_staging(app, world, monkeypatch):
    """A failure in the database step after the files were written leaves no file behind."""
    from recovery.activities import services

    def refuse(*args, **kwargs):
        raise services.ActivityError("refused late")

    monkeypatch.setattr(services, "record_activity", refuse)
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact1, files=[("a.pdf", PDF)])
    assert response.status_code == 200
    assert "refused late" in response.get_data(as_text=True)
    assert_nothing_stored(app)


def test_control_characters_are_removed_from_the_shown_name(app, world):
    client = sign_in(app, "sales1")
    # U+202E (right-to-left override) would make "fdp.exe" read as "exe.pdf".
    response = post_activity(
        client, world.cp1, contact_id=world.contact1, files=[("invoice\u202egpj.pdf", PDF)]
    )
    assert response.status_code == 302
    with app.app_context():
        [record] = db.session.scalars(sa.select(EvidenceFile)).all()
        assert record.original_name == "invoicegpj.pdf"


# ---------------------------------------------------------------------------------------------
# Download


def upload(app, world, name="催收函.pdf", content=PDF) -> int:
    client = sign_in(app, "sales1")
    response = post_activity(client, world.cp1, contact_id=world.contact1, files=[(name, content)])
    assert response.status_code == 302
    with app.app_context():
        return db.session.scalar(sa.select(EvidenceFile.id))


def fetch(client, url):
    """GET and close (a file response holds the file open until closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("username", ["sales1", "sup1", "fin1", "exec1"])
def test_those_who_may_see_the_counterparty_download(app, world, username):
    file_id = upload(app, world)
    response = fetch(sign_in(app, username), f"/activities/files/{file_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%82%AC%E6%94%B6%E5%87%BD.pdf" in disposition


def test_a_text_file_is_served_as_an_attachment_never_inline(app, world):
    file_id = upload(app, world, "notes.txt", b"plain words")
    response = fetch(sign_in(app, "sup1"), f"/activities/files/{file_id}")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_another_sales_manager_gets_404(app, world):
    file_id = upload(app, world)
    assert sign_in(app, "sales2").get(f"/activities/files/{file_id}").status_code == 404
    assert sign_in(app, "sales1").get("/activities/files/999999").status_code == 404


def test_a_missing_stored_file_answers_404(app, world):
    file_id = upload(app, world)
    for path in evidence_files(app):
        path.unlink()
    assert sign_in(app, "sales1").get(f"/activities/files/{file_id}").status_code == 404
