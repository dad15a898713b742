"""Table: file_uploads."""

from __future__ import annotations

from django.db import models

from dhanwantari.models import SoftDeleteModel, TimeStampedModel, id_field, patient_ref, ref


class Category(models.TextChoices):
    LAB_REPORT = "lab_report", "Lab report"
    PRESCRIPTION_SCAN = "prescription_scan", "Prescription scan"
    IMAGING = "imaging", "Imaging"
    PHOTO = "photo", "Photo"
    OTHER = "other", "Other"


class OcrStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    UNAVAILABLE = "unavailable", "OCR engine not installed"


def upload_path(instance: FileUpload, filename: str) -> str:
    # Stored under the row's random id, never under the name the user gave.
    # The upload service passes only the extension it chose for the sniffed type
    # ("pdf", "jpg"), which is kept so the files make sense to an operator.
    extension = filename.rpartition(".")[2].lower() if "." in filename else filename.lower()
    suffix = f".{extension}" if extension in {"pdf", "jpg", "png", "webp"} else ""
    return f"records/{instance.patient_id}/{instance.id}{suffix}"


def thumbnail_path(instance: FileUpload, filename: str) -> str:
    return f"records/{instance.patient_id}/{instance.id}-thumb.jpg"


class FileUpload(SoftDeleteModel, TimeStampedModel):
    """A medical document or image. Private: served only through a checked view."""

    id = id_field("file")
    patient = patient_ref("patient_id", related_name="medical_files")
    uploaded_by = ref("accounts.User", "user_id", related_name="uploads")
    consultation = ref("consultations.Consultation", "consultation_id", null=True, blank=True, related_name="files")
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER, db_index=True)
    file = models.FileField(upload_to=upload_path, max_length=255)
    thumbnail = models.FileField(upload_to=thumbnail_path, blank=True, max_length=255)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, help_text="Sniffed from the bytes, not the name.")
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    notes = models.TextField(blank=True)
    ocr_status = models.CharField(max_length=15, choices=OcrStatus.choices, default=OcrStatus.PENDING)
    ocr_text = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="Width, height, pages, duplicate_of …")

    class Meta:
        db_table = "file_uploads"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["patient", "created_at"], name="file_patient_created_idx"),
            models.Index(fields=["patient", "sha256"], name="file_patient_sha256_idx"),
            models.Index(fields=["consultation", "created_at"], name="file_consultation_created_idx"),
        ]

    def __str__(self) -> str:
        return self.original_filename
