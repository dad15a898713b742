from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import SoftDeleteAdminMixin
from accounts.audit import AuditedAdminMixin
from records.models import FileUpload


@admin.register(FileUpload)
class FileUploadAdmin(AuditedAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
    """Files arrive only through the upload service, which sniffs, caps and
    re-encodes them; staff can refile one under another category, nothing more.

    OCR text is clinical free text: on the change page only.
    """

    list_display = (
        "id",
        "original_filename",
        "patient_name",
        "uploaded_by",
        "consultation_ref",
        "category",
        "content_type",
        "size",
        "ocr_status",
        "created_at",
        "deleted",
    )
    list_select_related = ("patient__patient_profile", "uploaded_by")
    list_filter = ("category", "ocr_status", "content_type", "created_at")
    search_fields = (
        "=id",
        "original_filename",
        "=sha256",
        "=patient__id",
        "patient__email",
        "patient__patient_profile__full_name",
        "=consultation__id",
    )
    fields = (
        "id",
        "patient",
        "uploaded_by",
        "consultation",
        "category",
        "stored_as",
        "open_file",
        "original_filename",
        "content_type",
        "size_bytes",
        "sha256",
        "notes",
        "ocr_status",
        "ocr_text",
        "metadata",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    readonly_fields = tuple(name for name in fields if name != "category")
    # What the file says (and the file itself) is for clinical staff only.
    clinical_fields = ("notes", "ocr_text", "open_file", "metadata")
    audit_reads = True

    def has_add_permission(self, request):
        return False

    @admin.display(description="patient", ordering="patient__patient_profile__full_name")
    def patient_name(self, obj: FileUpload) -> str:
        return obj.patient.display_name

    @admin.display(description="consultation", ordering="consultation_id")
    def consultation_ref(self, obj: FileUpload) -> str:
        return obj.consultation_id or ""

    @admin.display(description="size", ordering="size_bytes")
    def size(self, obj: FileUpload) -> str:
        return filesizeformat(obj.size_bytes)

    @admin.display(description="open")
    def open_file(self, obj: FileUpload) -> str:
        # Through the same permission-checked view as everyone: the read is audited.
        if not obj.pk:
            return ""
        return format_html(
            '<a href="{}">Download</a> (recorded in the audit log)', reverse("records:download", args=[obj.pk])
        )

    @admin.display(description="stored as")
    def stored_as(self, obj: FileUpload) -> str:
        # The storage name, not a link: uploads are private, no URL serves
        # MEDIA_ROOT, and they are downloaded only through the permission-checked view.
        return obj.file.name
