"""Prescriptions are clinical documents written by the treating doctor through
the prescribing services, and immutable once issued (a correction is a new
version). Staff read them here; nothing on these pages writes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import ReadOnlyAdminMixin, SoftDeleteAdminMixin
from accounts.audit import AuditedAdminMixin
from prescriptions.models import Prescription, PrescriptionItem, Remedy

ITEM_FIELDS = (
    "position",
    "remedy_name",
    "remedy",
    "potency",
    "dosage_form",
    "pill_size",
    "dose",
    "repetition",
    "frequency",
    "duration",
    "quantity",
    "lm_plan",
    "instruction_codes",
    "instructions",
    "is_placebo",
)


class PrescriptionItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PrescriptionItem
    fields = ITEM_FIELDS
    readonly_fields = ("potency",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("remedy")


@admin.register(Prescription)
class PrescriptionAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
    # Diagnosis and advice are clinical free text: on the change page only,
    # and only for staff with consultations.view_clinical (as are the
    # remedies and the printed document).
    clinical_fields = ("diagnosis", "general_advice", "document")
    audit_reads = True
    list_display = (
        "id",
        "patient_name",
        "doctor_name",
        "consultation_ref",
        "prescription_type",
        "status",
        "version",
        "issued_at",
        "valid_until",
        "created_at",
        "deleted",
    )
    list_select_related = ("patient__patient_profile", "doctor__doctor_profile")
    list_filter = ("status", "prescription_type", "issued_at", "valid_until", "created_at")
    search_fields = (
        "=id",
        "=verification_code",
        "=consultation__id",
        "=patient__id",
        "patient__email",
        "patient__patient_profile__full_name",
        "=doctor__id",
        "doctor__email",
        "doctor__doctor_profile__full_name",
    )
    inlines = (PrescriptionItemInline,)
    readonly_fields = ("document",)
    fields = (
        "id",
        "document",
        "consultation",
        "patient",
        "doctor",
        "prescription_type",
        "status",
        "version",
        "supersedes",
        "verification_code",
        "diagnosis",
        "general_advice",
        "follow_up_date",
        "valid_until",
        "issued_at",
        "cancelled_at",
        "cancellation_reason",
        "created_at",
        "updated_at",
        "deleted_at",
    )

    def get_inlines(self, request, obj):
        return super().get_inlines(request, obj) if self.can_view_clinical(request) else []

    @admin.display(description="as printed")
    def document(self, obj: Prescription) -> str:
        # The page and PDF audit each staff read (prescriptions.services.prescription_read_record).
        return format_html(
            '<a href="{}">Open the prescription</a> · <a href="{}">PDF</a>',
            reverse("prescriptions:detail", args=[obj.pk]),
            reverse("prescriptions:pdf", args=[obj.pk]),
        )

    @admin.display(description="patient", ordering="patient__patient_profile__full_name")
    def patient_name(self, obj: Prescription) -> str:
        return obj.patient.display_name

    @admin.display(description="doctor", ordering="doctor__doctor_profile__full_name")
    def doctor_name(self, obj: Prescription) -> str:
        return obj.doctor.display_name

    @admin.display(description="consultation", ordering="consultation_id")
    def consultation_ref(self, obj: Prescription) -> str:
        return obj.consultation_id


@admin.register(PrescriptionItem)
class PrescriptionItemAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """What was prescribed is clinical: only staff with consultations.view_clinical see these."""

    list_display = (
        "remedy_name",
        "potency",
        "dosage_form",
        "dose",
        "frequency",
        "duration",
        "is_placebo",
        "prescription_ref",
        "prescription_status",
    )
    list_select_related = ("prescription",)
    list_filter = ("dosage_form", "potency_scale", "repetition", "is_placebo", "prescription__status")
    search_fields = ("=id", "remedy_name", "=prescription__id")
    fields = ("id", "prescription", *ITEM_FIELDS, "created_at", "updated_at")
    readonly_fields = ("potency",)

    def has_view_permission(self, request, obj=None):
        return self.can_view_clinical(request) and super().has_view_permission(request, obj)

    @admin.display(description="prescription", ordering="prescription_id")
    def prescription_ref(self, obj: PrescriptionItem) -> str:
        return obj.prescription_id

    @admin.display(description="prescription status", ordering="prescription__status")
    def prescription_status(self, obj: PrescriptionItem) -> str:
        return obj.prescription.get_status_display()


@admin.register(Remedy)
class RemedyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The catalogue the editor suggests from. Staff add what is missing and
    deactivate rather than delete (old prescriptions point at entries); every
    change is audited."""

    list_display = ("name", "abbreviation", "also_known_as", "is_tissue_salt", "active")
    list_filter = ("active", "is_tissue_salt")
    search_fields = ("name", "abbreviation", "also_known_as")
    fields = ("name", "abbreviation", "also_known_as", "is_tissue_salt", "active")
    ordering = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False

    # Every change is audited by AuditedAdminMixin.save_model.
