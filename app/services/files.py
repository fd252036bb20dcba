"""Evidence files: type and size checks, content-addressed storage (SHA-256) under the upload directory."""

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func
from sqlmodel import Session, select

from app.api.errors import AppError, Invalid, field_error
from app.config import get_settings
from app.db import get_engine
from app.models import Attachment
from app.services import audit

CHUNK = 1024 * 1024


class TooLarge(AppError):
    status, slug = 413, "content-too-large"


class UnsupportedType(AppError):
    status, slug = 415, "unsupported-media-type"


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: its content type and how to recognise its bytes."""

    content_type: str
    label: str
    # Leading bytes, or None for plain text (checked as UTF-8 without NUL bytes).
    magic: bytes | None
    # For zip-based office formats: a member the archive must hold (prefix), and the ODF mimetype.
    zip_member: str | None = None
    odf_mimetype: str | None = None


_ZIP = b"PK\x03\x04"
TYPES: dict[str, FileType] = {
    ".pdf": FileType("application/pdf", "PDF", b"%PDF-"),
    ".jpg": FileType("image/jpeg", "JPEG", b"\xff\xd8\xff"),
    ".jpeg": FileType("image/jpeg", "JPEG", b"\xff\xd8\xff"),
    ".png": FileType("image/png", "PNG", b"\x89PNG\r\n\x1a\n"),
    ".docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX", _ZIP,
                      zip_member="word/"),
    ".xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX", _ZIP,
                      zip_member="xl/"),
    ".odt": FileType("application/vnd.oasis.opendocument.text", "ODT", _ZIP,
                     odf_mimetype="application/vnd.oasis.opendocument.text"),
    ".txt": FileType("text/plain; charset=utf-8", "plain text", None),
}


def allowed_extensions() -> list[str]:
    """The extensions accepted: those of the setting that this module knows how to check."""
    return [ext for ext in (e.lower() for e in get_settings().upload_extensions) if ext in TYPES]


def clean_filename(name: str | None) -> str:
    """The file's own name, without any path, control characters or surrounding spaces (≤ 255 characters)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        name = stem[: 255 - len(ext)] + ext
    return name


def _looks_like(path: Path, kind: FileType) -> bool:
    with path.open("rb") as fh:
        head = fh.read(CHUNK)
    if kind.magic is None:
        if b"\x00" in head:
            return False
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    if not head.startswith(kind.magic):
        return False
    if kind.magic != _ZIP:
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if kind.odf_mimetype is not None:
                return "mimetype" in names and archive.read("mimetype").strip() == kind.odf_mimetype.encode()
            return "[Content_Types].xml" in names and any(n.startswith(kind.zip_member or "") for n in names)
    except (zipfile.BadZipFile, OSError, KeyError):
        return False


@dataclass
class Stored:
    """A file written to the store."""

    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


def store(stream: BinaryIO, filename: str | None) -> Stored:
    """Check and store an uploaded file (413 too large, 415 wrong type, 422 no name or empty); content-addressed."""
    settings = get_settings()
    name = clean_filename(filename)
    if not name:
        raise Invalid("The file has no name.", errors=[field_error(["body", "file"], "the file needs a name")])
    ext = os.path.splitext(name)[1].lower()
    allowed = allowed_extensions()
    if ext not in allowed:
        raise UnsupportedType(f"Files of type {ext or '(no extension)'!r} are not accepted; accepted: "
                              f"{', '.join(allowed)}.", accepted=allowed)
    kind = TYPES[ext]
    root = Path(settings.upload_dir)
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise TooLarge(f"The file is larger than the limit of {settings.max_upload_bytes} bytes.",
                                   max_bytes=settings.max_upload_bytes)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise Invalid("The file is empty.", errors=[field_error(["body", "file"], "the file is empty")])
        if not _looks_like(tmp, kind):
            raise UnsupportedType(f"The content of {name!r} is not a valid {kind.label} file.", accepted=allowed)
        sha = digest.hexdigest()
        key = f"{sha[:2]}/{sha[2:4]}/{sha}"
        target = root / key
        if target.exists():
            tmp.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Stored(filename=name, content_type=kind.content_type, size=size, sha256=sha, storage_key=key)


def path_of(attachment: Attachment) -> Path:
    """Where an attachment's bytes are."""
    return Path(get_settings().upload_dir) / attachment.storage_key


def remove_unreferenced(session: Session, storage_key: str) -> bool:
    """Delete the stored bytes when no attachment refers to them any more (after the delete committed)."""
    count = session.exec(select(func.count()).select_from(Attachment).where(
        Attachment.storage_key == storage_key)).one()
    if count:
        return False
    (Path(get_settings().upload_dir) / storage_key).unlink(missing_ok=True)
    return True


def list_for(session: Session, owner_type: str, owner_id: int):
    """Statement: the attachments of one record, oldest first."""
    return (select(Attachment).where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
            .order_by(Attachment.uploaded_at, Attachment.id))


def remove_blob(storage_key: str) -> None:
    """Remove stored bytes no attachment refers to any more (run after the deleting transaction committed)."""
    with Session(get_engine()) as session:
        remove_unreferenced(session, storage_key)


def delete_for_owner(session: Session, principal, owner_type: str, owner_id: int, unit_id: int | None) -> list[str]:
    """Delete (audited) the attachments of a record being deleted; the storage keys to clean up after commit."""
    keys = []
    for attachment in list(session.exec(list_for(session, owner_type, owner_id))):
        keys.append(attachment.storage_key)
        audit.record(session, principal, "delete", attachment, before=audit.snapshot(attachment), unit_id=unit_id)
        session.delete(attachment)
    session.flush()
    return keys
