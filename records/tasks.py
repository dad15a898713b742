"""Background work for medical records: reading a file's text for search (OCR)."""

from __future__ import annotations

from django_tasks import task

from records import services


@task()
def file_ocr(file_id: str) -> None:
    """Read one uploaded file's text (records.ocr) into ocr_text; queued by the upload service after commit."""
    services.file_ocr_run(file_id=file_id)
