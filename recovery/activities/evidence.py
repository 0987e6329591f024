"""Evidence files: checked, stored under a random name, hashed; all or nothing.

A file is accepted only when its name is plain (no folder, no NUL, no control characters),
its extension is on the list below AND its content starts the way that type starts
(so an HTML page renamed ``x.pdf`` is refused), and it is not larger than
``EVIDENCE_MAX_FILE_BYTES`` (app config, default 20 MB; the whole request is capped by
``MAX_CONTENT_LENGTH``). Accepted files are written to ``UPLOAD_FOLDER/evidence/`` under a
random name with no extension; the user's name is kept for display and download only.

``stage_files`` writes every file of one form or none: when one is refused, those already
written are removed. The caller removes them too if the database transaction fails
(``discard``), so a refused upload leaves neither a file nor a row.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 20
HEAD_BYTES = 64 * 1024
CHUNK = 1 << 20


class EvidenceError(ValueError):
    """A refused upload; the message names the file and says why."""

    def __init__(self, message, field: str = "files"):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------------
# What the content must start with, per type


def _is_pdf(head: bytes, path: Path) -> bool:
    return head.startswith(b"%PDF-")


def _is_jpeg(head: bytes, path: Path) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _is_png(head: bytes, path: Path) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _is_gif(head: bytes, path: Path) -> bool:
    return head.startswith((b"GIF87a", b"GIF89a"))


def _is_webp(head: bytes, path: Path) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _is_wav(head: bytes, path: Path) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def _is_mp3(head: bytes, path: Path) -> bool:
    # An ID3 tag, or straight into an MPEG audio frame (11 sync bits).
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _is_amr(head: bytes, path: Path) -> bool:
    return head.startswith((b"#!AMR\n", b"#!AMR-WB\n"))


# ISO base media files whose brand says "still image", not audio or video.
_IMAGE_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"}


def _is_iso_media(head: bytes, path: Path) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] not in _IMAGE_BRANDS


def _is_quicktime(head: bytes, path: Path) -> bool:
    return (head[4:8] == b"ftyp" and head[8:12] == b"qt  ") or head[4:8] in (b"moov", b"wide")


def _office(prefix: str) -> Callable[[bytes, Path], bool]:
    """An Office Open XML file: a ZIP holding [Content_Types].xml and ``prefix``/…, without
    macros (a macro-enabled document renamed .docx is refused)."""

    def check(head: bytes, path: Path) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return False
        return (
            "[Content_Types].xml" in names
            and any(n.startswith(prefix + "/") for n in names)
            and not any(n.lower().endswith("vbaproject.bin") for n in names)
        )

    return check


_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|\?xml)", re.I)


def _readable_text(head: bytes) -> str | None:
    """The head decoded as UTF-8 (with or without BOM) or GB18030, None if it is not text."""
    if b"\x00" in head:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            # final=False: a character cut at the end of the head is not an error.
            return decoder.decode(head, final=False)
        except UnicodeDecodeError:
            continue
    return None


def _is_text(head: bytes, path: Path) -> bool:
    # Plain text only: a web page or an SVG saved as .txt is refused.
    return _readable_text(head) is not None and not _MARKUP.search(head[:4096])


_HEADER_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*:")


def _is_email(head: bytes, path: Path) -> bool:
    """An RFC 822 message: text whose first line is a header ("From: …", "Received: …")."""
    text = _readable_text(head)
    if text is None:
        return False
    first = text.lstrip("\r\n").split("\n", 1)[0]
    return bool(_HEADER_LINE.match(first))


@dataclass(frozen=True)
class FileType:
    content_type: str
    looks_right: Callable[[bytes, Path], bool]


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The only types accepted (by extension, and the content must match). Web pages, SVG,
# scripts and programs are never evidence: they could run in a browser or on a desktop.
ALLOWED_TYPES: dict[str, FileType] = {
    "pdf": FileType("application/pdf", _is_pdf),
    "jpg": FileType("image/jpeg", _is_jpeg),
    "jpeg": FileType("image/jpeg", _is_jpeg),
    "png": FileType("image/png", _is_png),
    "gif": FileType("image/gif", _is_gif),
    "webp": FileType("image/webp", _is_webp),
    "mp3": FileType("audio/mpeg", _is_mp3),
    "m4a": FileType("audio/mp4", _is_iso_media),
    "wav": FileType("audio/wav", _is_wav),
    "amr": FileType("audio/amr", _is_amr),
    "mp4": FileType("video/mp4", _is_iso_media),
    "mov": FileType("video/quicktime", _is_quicktime),
    "docx": FileType(DOCX, _office("word")),
    "xlsx": FileType(XLSX, _office("xl")),
    "txt": FileType("text/plain", _is_text),
    "eml": FileType("message/rfc822", _is_email),
}


# ---------------------------------------------------------------------------------------------
# Names


_DRIVE = re.compile(r"^[A-Za-z]:")


def display_name(raw: str | None) -> str:
    """The name to show and to offer on download, or EvidenceError.

    A name with a folder in it (``../x``, ``/etc/x``, ``C:x``, a backslash) or a NUL is refused
    outright: it tries to leave the upload folder. Otherwise the name is kept in its own
    script (``催收函.pdf`` stays readable — werkzeug's secure_filename would keep only
    ``pdf``) with control and formatting characters removed (a right-to-left override can
    make ``gpj.exe`` read as ``exe.jpg``)."""
    if raw is None or not raw.strip():
        raise EvidenceError(_l("A file without a name was sent."))
    if (
        "\x00" in raw
        or "/" in raw
        or "\\" in raw
        or _DRIVE.match(raw)
        or raw.strip() in ("..", ".")
    ):
        raise EvidenceError(
            _l("The file name %(name)s points outside the upload folder: refused.", name=repr(raw))
        )
    name = unicodedata.normalize("NFC", raw)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).lstrip(".").strip()
    if not name:
        raise EvidenceError(_l("A file without a name was sent."))
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 200 - len(extension) - 1] + dot + extension) if dot else name[:200]
    return name


def extension_of(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


# ---------------------------------------------------------------------------------------------
# Storage


@dataclass
class StagedFile:
    """A checked file written to the evidence folder, not yet in the database."""

    original_name: str
    stored_name: str
    content_type: str
    size: int
    sha256: str
    path: Path


def evidence_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stored_path(stored_name: str) -> Path:
    """The path of a stored file; refuses anything but a name this module generated."""
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name or ""):
        raise ValueError("not a stored evidence name")
    return evidence_folder() / stored_name


def max_file_bytes() -> int:
    return int(current_app.config.get("EVIDENCE_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def discard(staged: Iterable[StagedFile]) -> None:
    for item in staged:
        with contextlib.suppress(FileNotFoundError):
            os.remove(item.path)


def _stage_one(storage, folder: Path, limit: int) -> StagedFile:
    name = display_name(storage.filename)
    extension = extension_of(name)
    file_type = ALLOWED_TYPES.get(extension)
    if file_type is None:
        raise EvidenceError(
            _l(
                "%(name)s: this type of file is not accepted as evidence (allowed: %(types)s).",
                name=name,
                types=", ".join(sorted(ALLOWED_TYPES)),
            )
        )
    stored_name = secrets.token_hex(16)
    partial = folder / f"{stored_name}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(partial, "xb") as handle:
            while chunk := storage.stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise EvidenceError(
                        _l(
                            "%(name)s is larger than %(mb)s MB: refused.",
                            name=name,
                            mb=megabytes(limit),
                        )
                    )
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise EvidenceError(_l("%(name)s is empty.", name=name))
        if not file_type.looks_right(head, partial):
            raise EvidenceError(
                _l(
                    "%(name)s is not really a .%(ext)s file (its content says otherwise): refused.",
                    name=name,
                    ext=extension,
                )
            )
        final = folder / stored_name
        os.replace(partial, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)
        raise
    return StagedFile(name, stored_name, file_type.content_type, size, digest.hexdigest(), final)


def stage_files(storages) -> list[StagedFile]:
    """Check and write every uploaded file, or none (EvidenceError names the first refused)."""
    storages = [s for s in storages or () if s is not None and (s.filename or "") != ""]
    if len(storages) > MAX_FILES:
        raise EvidenceError(_l("At most %(n)s files at a time.", n=MAX_FILES))
    folder = evidence_folder()
    limit = max_file_bytes()
    staged: list[StagedFile] = []
    try:
        for storage in storages:
            staged.append(_stage_one(storage, folder, limit))
    except BaseException:
        discard(staged)
        raise
    return staged
