from __future__ import annotations

from django.contrib import admin

from accounts.admin import SoftDeleteAdminMixin
from accounts.audit import AuditedAdminMixin
from patients.models import PatientProfile


@admin.register(PatientProfile)
class PatientProfileAdmin(AuditedAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
    # Medical fields: for staff with consultations.view_clinical only; every
    # opening of a profile is in the audit trail.
    clinical_fields = (
        "height_cm",
        "weight_kg",
        "bmi",
        "blood_group",
        "allergies",
        "medications",
        "chronic_conditions",
        "medical_history",
        "family_history",
    )
    audit_reads = True
    audit_patient_attr = "user_id"
    # A profile goes with its account, whose deletion is undone by no flag.
    restorable = False
    # No clinical free text (medical or family history) in the list: it is on
    # screen for every row, and the change page is where it is read on purpose.
    list_display = ("id", "full_name", "user", "gender", "age", "blood_group", "city", "created_at", "deleted")
    list_select_related = ("user",)
    list_filter = ("gender", "blood_group", "country", "created_at")
    search_fields = ("=id", "full_name", "=user__id", "user__email", "user__phone")
    autocomplete_fields = ("user",)
    fieldsets = (
        (None, {"fields": ("id", "user", "full_name", "date_of_birth", "age", "gender", "preferred_language")}),
        ("Body", {"fields": ("height_cm", "weight_kg", "bmi", "blood_group")}),
        (
            "Medical background",
            {"fields": ("allergies", "medications", "chronic_conditions", "medical_history", "family_history")},
        ),
        (
            "Emergency contact",
            {"fields": ("emergency_contact_name", "emergency_contact_phone", "emergency_contact_relation")},
        ),
        ("Address", {"fields": ("address_line1", "address_line2", "city", "state", "postal_code", "country")}),
        ("Record", {"fields": ("created_at", "updated_at", "deleted_at")}),
    )
    readonly_fields = ("id", "age", "bmi", "created_at", "updated_at", "deleted_at")

    @admin.display(description="age", ordering="-date_of_birth")
    def age(self, obj: PatientProfile) -> int | None:
        return obj.age
