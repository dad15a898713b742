from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator

from accounts.admin import ReadOnlyAdminMixin, SoftDeleteAdminMixin
from doctors.models import ActiveDoctor, DoctorProfile, DoctorReview


def _photo_name(obj: DoctorProfile | ActiveDoctor) -> str:
    # The stored name, not the file widget: no URL serves MEDIA_ROOT, so its
    # link would be dead, and an upload through it would skip the re-encoding
    # and EXIF stripping that every uploaded image gets.
    return obj.photo.name or ""


@admin.register(DoctorProfile)
class DoctorProfileAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "full_name",
        "user",
        "registration_number",
        "city",
        "verification_status",
        "consultation_fee",
        "rating_avg",
        "rating_count",
        "submitted_at",
        "verified_at",
        "deleted",
    )
    list_select_related = ("user",)
    list_filter = ("verification_status", "gender", "city", "submitted_at", "verified_at")
    search_fields = (
        "=id",
        "full_name",
        "=user__id",
        "user__email",
        "user__phone",
        "registration_number",
        "clinic_name",
        "city",
    )
    autocomplete_fields = ("user",)
    fieldsets = (
        (None, {"fields": ("id", "user", "full_name", "gender", "photo_file", "bio", "languages")}),
        (
            "Credentials",
            {
                "fields": (
                    "registration_number",
                    "registration_council",
                    "qualifications",
                    "specializations",
                    "experience_years",
                )
            },
        ),
        ("Fees", {"fields": ("consultation_fee", "follow_up_fee", "currency", "consultation_modes")}),
        (
            "Clinic",
            {
                "fields": (
                    "clinic_name",
                    "clinic_address",
                    "city",
                    "state",
                    "postal_code",
                    "country",
                    "latitude",
                    "longitude",
                )
            },
        ),
        ("Working hours", {"fields": ("availability", "timezone")}),
        (
            "Verification",
            {
                "fields": (
                    "verification_status",
                    "submitted_at",
                    "verified_at",
                    "verified_by",
                    "rejection_reason",
                )
            },
        ),
        ("Rating", {"fields": ("rating_avg", "rating_count")}),
        ("Record", {"fields": ("created_at", "updated_at", "deleted_at")}),
    )
    # Verification decides who is listed and bookable, so it changes only
    # through the verify/reject services (audited); the rating is kept by the
    # review services in the same transaction as each review.
    readonly_fields = (
        "id",
        "photo_file",
        "verification_status",
        "submitted_at",
        "verified_at",
        "verified_by",
        "rejection_reason",
        "rating_avg",
        "rating_count",
        "created_at",
        "updated_at",
        "deleted_at",
    )

    @admin.display(description="photo")
    def photo_file(self, obj: DoctorProfile) -> str:
        return _photo_name(obj)


@admin.register(DoctorReview)
class DoctorReviewAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    """Reviews are the patient's words: staff can hide one, not write or reword it."""

    list_display = (
        "id",
        "doctor_name",
        "patient_name",
        "consultation_ref",
        "rating",
        "excerpt",
        "is_visible",
        "is_verified",
        "created_at",
        "deleted",
    )
    list_select_related = ("doctor__doctor_profile", "patient__patient_profile")
    list_filter = ("is_visible", "is_verified", "rating", "created_at")
    search_fields = (
        "=id",
        "=consultation__id",
        "=doctor__id",
        "doctor__email",
        "doctor__doctor_profile__full_name",
        "=patient__id",
        "patient__email",
        "patient__patient_profile__full_name",
    )
    fields = (
        "id",
        "doctor",
        "patient",
        "consultation",
        "rating",
        "comment",
        "is_verified",
        "is_visible",
        "hidden_reason",
        "moderated_by",
        "moderated_at",
        "edited_at",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    readonly_fields = tuple(name for name in fields if name not in ("is_visible", "hidden_reason"))

    def has_add_permission(self, request):
        return False

    @admin.display(description="doctor", ordering="doctor__doctor_profile__full_name")
    def doctor_name(self, obj: DoctorReview) -> str:
        return obj.doctor.display_name

    @admin.display(description="patient", ordering="patient__patient_profile__full_name")
    def patient_name(self, obj: DoctorReview) -> str:
        return obj.patient.display_name

    @admin.display(description="consultation")
    def consultation_ref(self, obj: DoctorReview) -> str:
        return obj.consultation_id

    @admin.display(description="comment")
    def excerpt(self, obj: DoctorReview) -> str:
        return Truncator(obj.comment).chars(80)


@admin.register(ActiveDoctor)
class ActiveDoctorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The `active_doctors` view: who patients can find and book right now."""

    list_display = (
        "id",
        "full_name",
        "user",
        "city",
        "experience_years",
        "consultation_fee",
        "rating_avg",
        "rating_count",
        "verified_at",
    )
    list_select_related = ("user",)
    list_filter = ("city", "gender", "verified_at")
    search_fields = ("=id", "full_name", "=user__id", "user__email", "clinic_name", "city")
    fields = (
        "id",
        "user",
        "full_name",
        "gender",
        "photo_file",
        "qualifications",
        "specializations",
        "languages",
        "experience_years",
        "consultation_fee",
        "follow_up_fee",
        "currency",
        "consultation_modes",
        "clinic_name",
        "city",
        "state",
        "latitude",
        "longitude",
        "timezone",
        "rating_avg",
        "rating_count",
        "verified_at",
    )

    @admin.display(description="photo")
    def photo_file(self, obj: ActiveDoctor) -> str:
        return _photo_name(obj)
