"""Medical records: every change to file_uploads, and the audit of every read.

`files_upload` is the one way a file enters a patient's records: the records
page calls it now, the consultation room will call it for attachments.
`file_delete` removes one (soft). `file_opened` and `records_listed` write the
admin_logs row for each read by anyone but the patient. `file_ocr_run` (run by
the records.tasks.file_ocr task) stores what records.ocr read.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import AuditAction, User
from accounts.services import audit_record
from consultations.models import Consultation
from dhanwantari.uploads import (
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    PDF,
    CheckedUpload,
    UploadRejected,
    check_pdf_structure,
    thumbnail_jpeg,
    validate_upload,
)
from records import ocr, policies
from records.models import Category, FileUpload, OcrStatus

logger = logging.getLogger(__name__)

MAX_NOTES = 1000
TABLE = "file_uploads"

NO_FILES = "Choose at least one file to upload."
TOO_MANY_FILES = "You can upload at most {limit} files at a time. Upload the others in another go."
BAD_CATEGORY = "Choose what kind of record this is."
NOTES_TOO_LONG = f"Notes can be at most {MAX_NOTES} characters."
NOT_REMOVABLE = "Only the patient can remove a file from their records."
DUPLICATE = "“{name}” is the same file as “{original}”, added on {date}. It was kept and marked as a copy."


class RecordsError(ValidationError):
    """A records change refused as a whole, with the reason in `code` and words a person can act on."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)
        self.reason = code


class UploadRefused(RecordsError):
    """This person may not add files to this patient's records (or link them to that consultation)."""


@dataclass(frozen=True)
class Rejected:
    """One file of a batch that was not stored, and why."""

    name: str
    reason: str  # a sentence for the person
    code: str  # UploadRejected's code: empty, too_large, markup, …


@dataclass(frozen=True)
class UploadBatch:
    """What became of each file of one upload: stored ones are kept even when others were rejected."""

    stored: list[FileUpload]
    rejected: list[Rejected]

    @property
    def duplicates(self) -> list[FileUpload]:
        return [upload for upload in self.stored if upload.metadata.get("duplicate_of")]


@dataclass(frozen=True)
class _Accepted:
    upload: CheckedUpload
    pages: int | None
    thumbnail: bytes | None


# --- upload --------------------------------------------------------------------------


def files_upload(
    *,
    patient: User,
    by: User,
    files: Sequence[IO[bytes] | Any],
    category: str = Category.OTHER,
    consultation: Consultation | None = None,
    notes: str = "",
    request: HttpRequest | None = None,
) -> UploadBatch:
    """Add files to a patient's medical records; the one way a file gets there.

    patient       the patient whose records they join (a patient user).
    by            who uploads: the patient, or a doctor, who must pass the
                  `consultation` they have with that patient (not cancelled).
                  Staff add nothing. Refused as a whole: UploadRefused.
    files         1 to RECORDS_MAX_FILES_PER_UPLOAD file objects with a `name`
                  and `read()` (Django's UploadedFile, a ContentFile, …).
    category      a records.models.Category value, for every file of the batch.
    consultation  optional link; only one of this patient's consultations.
    notes         optional, at most MAX_NOTES characters, for every file.
    request       for the audit rows' IP address and user agent.

    Each file is checked on its own by dhanwantari.uploads (type sniffed from
    the bytes: JPEG, PNG, WebP, PDF; at most RECORDS_MAX_UPLOAD_BYTES; images
    decoded under a pixel limit and re-encoded, so EXIF and GPS are gone;
    PDFs parsed and refused if they carry scripts or need a password; names
    that carry a path refused). A file that fails is reported in
    `UploadBatch.rejected` with its reason and never touches storage; the
    others are stored, in one transaction, under random names, with their
    SHA-256, a thumbnail for images and an audit row each. If storing fails
    half way, every file written by this call is removed again and the error
    raised: nothing half-stored remains. A file whose bytes the patient
    already has is still stored, with metadata["duplicate_of"] naming the
    earlier one. OCR is queued (records.tasks.file_ocr) once the transaction
    commits; photos get "not applicable" (no text to search).

    Raises RecordsError (no files, too many, bad category, notes too long)
    or UploadRefused before anything is read.
    """
    refusal = policies.upload_refusal(by=by, patient=patient, consultation=consultation)
    if refusal is not None:
        code, message = refusal
        raise UploadRefused(message, code=code)
    files = [f for f in files if f is not None]
    if not files:
        raise RecordsError(NO_FILES, code="no_files")
    if len(files) > settings.RECORDS_MAX_FILES_PER_UPLOAD:
        raise RecordsError(TOO_MANY_FILES.format(limit=settings.RECORDS_MAX_FILES_PER_UPLOAD), code="too_many_files")
    if category not in Category.values:
        raise RecordsError(BAD_CATEGORY, code="bad_category")
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise RecordsError(NOTES_TOO_LONG, code="notes_too_long")

    # Checking and thumbnails are CPU work on bytes in memory: done before the
    # transaction, so no row lock waits for Pillow.
    accepted: list[_Accepted] = []
    rejected: list[Rejected] = []
    for file in files:
        try:
            checked = validate_upload(file, allowed=DOCUMENT_TYPES, max_bytes=settings.RECORDS_MAX_UPLOAD_BYTES)
            pages = check_pdf_structure(checked.content).pages if checked.content_type == PDF else None
        except UploadRejected as exc:
            rejected.append(Rejected(name=_shown_name(file), reason=exc.messages[0], code=exc.reason))
            continue
        thumbnail = thumbnail_jpeg(checked) if checked.content_type in IMAGE_TYPES else None
        accepted.append(_Accepted(upload=checked, pages=pages, thumbnail=thumbnail))
    if rejected:
        logger.info("records upload for %s: %d rejected (%s)", patient.pk, len(rejected), [r.code for r in rejected])

    stored: list[FileUpload] = []
    written: list[str] = []
    try:
        with transaction.atomic():
            if accepted:
                stored = _store(
                    patient=patient,
                    by=by,
                    accepted=accepted,
                    category=category,
                    consultation=consultation,
                    notes=notes,
                    written=written,
                    request=request,
                )
    except BaseException:
        for name in written:
            with contextlib.suppress(Exception):
                default_storage.delete(name)
        raise
    return UploadBatch(stored=stored, rejected=rejected)


def _store(
    *,
    patient: User,
    by: User,
    accepted: list[_Accepted],
    category: str,
    consultation: Consultation | None,
    notes: str,
    written: list[str],
    request: HttpRequest | None,
) -> list[FileUpload]:
    # Locking the patient's row makes two uploads of the same file at the same
    # moment take turns, so the second one sees the first in the duplicate check.
    User.all_objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()
    hashes = {item.upload.sha256 for item in accepted}
    earlier: dict[str, FileUpload] = {}
    for row in FileUpload.objects.filter(patient_id=patient.pk, sha256__in=hashes).order_by("created_at", "id"):
        earlier.setdefault(row.sha256, row)

    ocr_status = OcrStatus.NOT_APPLICABLE if category == Category.PHOTO else OcrStatus.PENDING
    stored: list[FileUpload] = []
    for item in accepted:
        checked = item.upload
        metadata: dict[str, Any] = {}
        if checked.width is not None:
            metadata.update(width=checked.width, height=checked.height)
        if item.pages is not None:
            metadata["pages"] = item.pages
        original = earlier.get(checked.sha256)
        if original is not None:
            metadata["duplicate_of"] = original.pk
        row = FileUpload(
            patient_id=patient.pk,
            uploaded_by=by,
            consultation=consultation,
            category=category,
            original_filename=checked.original_name,
            content_type=checked.content_type,
            size_bytes=checked.size,
            sha256=checked.sha256,
            notes=notes,
            ocr_status=ocr_status,
            metadata=metadata,
        )
        row.full_clean(exclude=["file", "thumbnail"])
        # Each name joins `written` as soon as storage has it, so a failure
        # anywhere after this point removes it again.
        row.file.save(checked.extension, ContentFile(checked.content), save=False)
        written.append(row.file.name)
        if item.thumbnail is not None:
            row.thumbnail.save("thumbnail.jpg", ContentFile(item.thumbnail), save=False)
            written.append(row.thumbnail.name)
        row.save(force_insert=True)
        earlier.setdefault(checked.sha256, row)
        audit_record(
            actor=by,
            action=AuditAction.CREATE,
            table=TABLE,
            record_id=row.pk,
            new={
                "patient_id": patient.pk,
                "consultation_id": consultation.pk if consultation else None,
                "category": category,
                "original_filename": row.original_filename,
                "content_type": row.content_type,
                "size_bytes": row.size_bytes,
                "sha256": row.sha256,
                "duplicate_of": metadata.get("duplicate_of"),
            },
            description="Added a file to the patient's medical records."
            if by.pk != patient.pk
            else "Patient added a file to their medical records.",
            request=request,
        )
        stored.append(row)

    pending = [row.pk for row in stored if row.ocr_status == OcrStatus.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue_ocr(pending))
    return stored


def _enqueue_ocr(file_ids: list[str]) -> None:
    from records.tasks import file_ocr

    for file_id in file_ids:
        file_ocr.enqueue(file_id)


def _shown_name(file: Any) -> str:
    # For the rejection message only: never stored, never used as a path.
    raw = str(getattr(file, "name", "") or "the file")
    printable = "".join(c if c.isprintable() else "?" for c in raw)
    return printable[-80:] if len(printable) > 80 else printable


def duplicate_messages(batch: UploadBatch) -> list[str]:
    """One sentence per copy in the batch, naming the earlier file (one query; none without copies)."""
    ids = {upload.metadata["duplicate_of"] for upload in batch.duplicates}
    if not ids:
        return []
    originals = {upload.pk: upload for upload in batch.stored if upload.pk in ids}
    missing = ids - set(originals)
    if missing:
        originals.update({row.pk: row for row in FileUpload.all_objects.filter(pk__in=missing)})
    messages = []
    for upload in batch.duplicates:
        original = originals.get(upload.metadata["duplicate_of"])
        if original is not None:
            when = date_format(timezone.localtime(original.created_at), "j M Y")
            messages.append(
                DUPLICATE.format(name=upload.original_filename, original=original.original_filename, date=when)
            )
    return messages


# --- remove ----------------------------------------------------------------------------


def file_delete(*, upload: FileUpload, by: User, request: HttpRequest | None = None) -> None:
    """The patient removes a file from their records (soft: staff still see it; the bytes are kept)."""
    if not policies.can_delete(by, upload):
        raise RecordsError(NOT_REMOVABLE, code="not_removable")
    with transaction.atomic():
        locked = FileUpload.objects.select_for_update().filter(pk=upload.pk).first()
        if locked is None:  # removed meanwhile (a double click): nothing more to do
            return
        locked.soft_delete()
        audit_record(
            actor=by,
            action=AuditAction.SOFT_DELETE,
            table=TABLE,
            record_id=locked.pk,
            old={"original_filename": locked.original_filename, "category": locked.category},
            description="Patient removed a file from their medical records.",
            request=request,
        )
    upload.deleted_at = locked.deleted_at


# --- reads, audited ---------------------------------------------------------------------


def file_opened(*, upload: FileUpload, by: User, variant: str, request: HttpRequest | None = None) -> None:
    """Record that someone other than the patient opened a file (download, view or thumbnail)."""
    if by.is_authenticated and by.pk == upload.patient_id:
        return
    audit_record(
        actor=by,
        action=AuditAction.VIEW,
        table=TABLE,
        record_id=upload.pk,
        new={"patient_id": upload.patient_id, "variant": variant},
        description=f"Opened ({variant}) a medical record of patient {upload.patient_id}.",
        request=request,
    )


def records_listed(
    *, patient_id: str, by: User, consultation: Consultation | None = None, request: HttpRequest | None = None
) -> None:
    """Record that someone other than the patient looked at the list of their records."""
    if by.is_authenticated and by.pk == patient_id:
        return
    audit_record(
        actor=by,
        action=AuditAction.VIEW,
        table=TABLE,
        record_id=patient_id,
        new={"patient_id": patient_id, "consultation_id": consultation.pk if consultation else None},
        description=f"Listed the medical records of patient {patient_id}"
        + (f" through consultation {consultation.pk}." if consultation else "."),
        request=request,
    )


# --- OCR ---------------------------------------------------------------------------------


def file_ocr_run(*, file_id: str) -> str | None:
    """Read a pending file's text into ocr_text and set ocr_status; returns the new status.

    Runs in a worker (records.tasks.file_ocr). The engine runs outside any
    transaction, and the result is written only if the row is still pending,
    so a second run of the same task (a retry, a duplicate enqueue) changes
    nothing. None when there was nothing to do.
    """
    upload = FileUpload.objects.filter(pk=file_id, ocr_status=OcrStatus.PENDING).first()
    if upload is None:
        return None
    try:
        with upload.file.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, OSError):
        logger.warning("records OCR: the stored file of %s is missing", file_id)
        result = ocr.OcrResult(OcrStatus.FAILED, detail="The stored file is missing.")
    else:
        result = ocr.extract_text(content, upload.content_type)

    with transaction.atomic():
        locked = FileUpload.objects.select_for_update().filter(pk=file_id, ocr_status=OcrStatus.PENDING).first()
        if locked is None:
            return None
        locked.ocr_status = result.status
        locked.ocr_text = result.text
        locked.metadata = {
            **locked.metadata,
            "ocr": {**result.facts, "detail": result.detail, "at": timezone.now().isoformat()},
        }
        locked.save(update_fields=["ocr_status", "ocr_text", "metadata", "updated_at"])
    return result.status


def file_ocr_requeue(*, statuses: Sequence[str]) -> int:
    """Set files in these OCR states back to pending and queue them (after installing Tesseract, say)."""
    ids = list(FileUpload.objects.filter(ocr_status__in=statuses).values_list("pk", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        FileUpload.objects.filter(pk__in=ids, ocr_status__in=statuses).update(
            ocr_status=OcrStatus.PENDING, updated_at=timezone.now()
        )
        transaction.on_commit(lambda: _enqueue_ocr(ids))
    return len(ids)
