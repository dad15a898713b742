"""Prescriptions are clinical documents written by the treating doctor through
the prescribing services, and immutable once issued (a correction is a new
version). Staff read them here; nothing on these pages writes."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin, SoftDeleteAdminMixin
from prescriptions.models import Prescription, PrescriptionItem

ITEM_FIELDS = (
    "position",
    "remedy_name",
    "potency",
    "dosage_form",
    "dose",
    "frequency",
    "duration",
    "quantity",
    "instructions",
    "is_placebo",
)


class PrescriptionItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PrescriptionItem
    fields = ITEM_FIELDS
    readonly_fields = ("potency",)
    extra = 0


@admin.register(Prescription)
class PrescriptionAdmin(ReadOnlyAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
    # Diagnosis and advice are clinical free text: on the change page only.
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
    fields = (
        "id",
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
class PrescriptionItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
    list_filter = ("dosage_form", "potency_scale", "is_placebo", "prescription__status")
    search_fields = ("=id", "remedy_name", "=prescription__id")
    fields = ("id", "prescription", *ITEM_FIELDS, "created_at", "updated_at")
    readonly_fields = ("potency",)

    @admin.display(description="prescription", ordering="prescription_id")
    def prescription_ref(self, obj: PrescriptionItem) -> str:
        return obj.prescription_id

    @admin.display(description="prescription status", ordering="prescription__status")
    def prescription_status(self, obj: PrescriptionItem) -> str:
        return obj.prescription.get_status_display()
