"""Staff console for doctors: profiles and their verification, documents, reviews.

Verification, review visibility and removal change only through the services
in doctors.services (audited, notified, rating kept in step); the actions here
and the review change form call them. Moderators (accounts.roles) hold the
permissions these actions ask for.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from accounts.admin import ReadOnlyAdminMixin, SoftDeleteAdminMixin
from accounts.audit import AuditedAdminMixin, service_audited
from doctors import services
from doctors.models import ActiveDoctor, DoctorDocument, DoctorProfile, DoctorReview
from doctors.templatetags.doctor_media import photo_url


def _photo_name(obj: DoctorProfile | ActiveDoctor) -> str:
    # The stored name, linked to the photo view, not the file widget: no URL
    # serves MEDIA_ROOT, so its link would be dead, and an upload through it
    # would skip the re-encoding and EXIF stripping every uploaded image gets.
    if not obj.photo.name:
        return ""
    return format_html('<a href="{}">{}</a>', photo_url(obj), obj.photo.name)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class ReasonForm(forms.Form):
    """The reason asked for on an action's intermediate page."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), max_length=1000)

    def __init__(self, *args, label: str, help_text: str, initial_reason: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.label, field.help_text, field.initial = label, help_text, initial_reason


def ask_reason(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet | list,
    *,
    action: str,
    title: str,
    form: ReasonForm,
    button: str,
) -> TemplateResponse:
    opts = model_admin.model._meta
    return TemplateResponse(
        request,
        "admin/doctors/reject_reason.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": opts,
            "queryset": queryset,
            "form": form,
            "action": action,
            "button": button,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


class ModerationListFilter(admin.SimpleListFilter):
    """Reviews with words no member of staff has looked at yet (the dashboard's count)."""

    title = "moderation"
    parameter_name = "moderation"

    def lookups(self, request, model_admin):
        return [("awaiting", "Awaiting moderation"), ("done", "Moderated")]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(AWAITING_MODERATION)
        if self.value() == "done":
            return queryset.filter(moderated_at__isnull=False)
        return queryset


# A review awaits moderation while it is live, has a written comment, and no
# member of staff has hidden or shown it. (Ratings without words need no look.)
AWAITING_MODERATION = Q(moderated_at__isnull=True, deleted_at__isnull=True) & ~Q(comment="")


@admin.register(DoctorProfile)
class DoctorProfileAdmin(AuditedAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
    # A profile goes with its account, whose deletion is undone by no flag.
    restorable = False
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

    actions = ["verify_doctors", "reject_doctors"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # What staff check against: the documents, and what verification still needs.
        return [
            (name, {**options, "fields": (*options["fields"], "documents", "checklist")})
            if name == "Verification"
            else (name, options)
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "documents", "checklist")

    @admin.display(description="photo")
    def photo_file(self, obj: DoctorProfile) -> str:
        return _photo_name(obj)

    @admin.display(description="documents")
    def documents(self, obj: DoctorProfile) -> str:
        rows = DoctorDocument.objects.filter(doctor_id=obj.user_id).order_by("created_at")
        if not rows:
            return "None uploaded."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> ({}, {})</li>',
                (
                    (
                        reverse("doctors:document_download", args=[d.pk]),
                        d.original_filename,
                        d.get_kind_display(),
                        d.content_type,
                    )
                    for d in rows
                ),
            ),
        )

    @admin.display(description="still missing for verification")
    def checklist(self, obj: DoctorProfile) -> str:
        missing = services.verification_missing(obj)
        return "Nothing: complete." if not missing else "; ".join(missing)

    def has_verify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("doctors.verify_doctorprofile")

    @admin.action(description="Verify selected doctors", permissions=["verify"])
    @service_audited
    def verify_doctors(self, request: HttpRequest, queryset: QuerySet[DoctorProfile]) -> None:
        done = 0
        for profile in queryset.select_related("user"):
            try:
                services.doctor_verify(profile=profile, by=request.user, request=request)
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"Verified {_plural(done, 'doctor')}; they are notified.", messages.SUCCESS)

    @admin.action(description="Reject selected doctors", permissions=["verify"])
    @service_audited
    def reject_doctors(self, request: HttpRequest, queryset: QuerySet[DoctorProfile]) -> HttpResponse | None:
        form_kwargs = {
            "label": "Reason",
            "help_text": "The doctor reads this in their notification and on their profile page: "
            "say what to correct (for example, the registration number does not match the council's register).",
        }
        if "apply" not in request.POST:
            form = ReasonForm(**form_kwargs)
        else:
            form = ReasonForm(request.POST, **form_kwargs)
            if form.is_valid():
                done = 0
                for profile in queryset.select_related("user"):
                    try:
                        services.doctor_reject(
                            profile=profile, by=request.user, reason=form.cleaned_data["reason"], request=request
                        )
                    except ValidationError as exc:
                        self.message_user(request, exc.messages[0], messages.ERROR)
                    else:
                        done += 1
                if done:
                    self.message_user(
                        request, f"Rejected {_plural(done, 'doctor')}; they are notified.", messages.SUCCESS
                    )
                return None
        return ask_reason(
            self,
            request,
            queryset,
            action="reject_doctors",
            title=f"Reject {_plural(queryset.count(), 'doctor')}",
            form=form,
            button="Reject and notify",
        )


@admin.register(DoctorReview)
class DoctorReviewAdmin(AuditedAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
    """Reviews are the patient's words: staff can hide one, not write or reword it.

    save_model calls the visibility service, which writes the audit row itself.
    """

    # A removed review is restored by no flag: its removal changed the doctor's rating.
    restorable = False

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
    list_filter = (ModerationListFilter, "is_visible", "is_verified", "rating", "created_at")
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
    actions = ["hide_reviews", "show_reviews", "remove_reviews"]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        # A removed review stays removed: nothing on it is editable.
        if obj is not None and obj.is_deleted:
            return self.fields
        return super().get_readonly_fields(request, obj)

    def save_model(self, request, obj: DoctorReview, form, change: bool) -> None:
        # Visibility decides the doctor's rating: the service changes it, audits
        # it and recomputes the rating in one transaction. Nothing else on a
        # review is editable here, so there is nothing else to save.
        if change and {"is_visible", "hidden_reason"} & set(form.changed_data):
            services.review_set_visibility(
                review=obj, by=request.user, visible=obj.is_visible, reason=obj.hidden_reason, request=request
            )

    @admin.action(description="Hide selected reviews", permissions=["change"])
    @service_audited
    def hide_reviews(self, request: HttpRequest, queryset: QuerySet[DoctorReview]) -> HttpResponse | None:
        form_kwargs = {
            "label": "Why are they hidden?",
            "help_text": "Kept with each review for the record; the patient who wrote it sees it.",
            "initial_reason": services.DEFAULT_HIDDEN_REASON,
        }
        if "apply" not in request.POST:
            form = ReasonForm(**form_kwargs)
        else:
            form = ReasonForm(request.POST, **form_kwargs)
            if form.is_valid():
                count = self._set_visibility(request, queryset, visible=False, reason=form.cleaned_data["reason"])
                self.message_user(request, f"Hid {_plural(count, 'review')}.", messages.SUCCESS)
                return None
        return ask_reason(
            self,
            request,
            queryset,
            action="hide_reviews",
            title=f"Hide {_plural(queryset.count(), 'review')}",
            form=form,
            button="Hide reviews",
        )

    @admin.action(description="Show selected reviews", permissions=["change"])
    @service_audited
    def show_reviews(self, request: HttpRequest, queryset: QuerySet[DoctorReview]) -> None:
        count = self._set_visibility(request, queryset, visible=True, reason="")
        self.message_user(request, f"Showing {_plural(count, 'review')} again.", messages.SUCCESS)

    @admin.action(description="Remove selected reviews", permissions=["change"])
    @service_audited
    def remove_reviews(self, request: HttpRequest, queryset: QuerySet[DoctorReview]) -> None:
        count = 0
        for review in queryset.filter(deleted_at__isnull=True):
            services.review_delete(review=review, by=request.user, request=request)
            count += 1
        self.message_user(request, f"Removed {_plural(count, 'review')}.", messages.SUCCESS)

    def _set_visibility(
        self, request: HttpRequest, queryset: QuerySet[DoctorReview], *, visible: bool, reason: str
    ) -> int:
        count = 0
        for review in queryset:
            try:
                services.review_set_visibility(
                    review=review, by=request.user, visible=visible, reason=reason, request=request
                )
            except ValidationError as exc:
                self.message_user(request, f"{review.pk}: {exc.messages[0]}", messages.ERROR)
            else:
                count += 1
        return count

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


@admin.register(DoctorDocument)
class DoctorDocumentAdmin(AuditedAdminMixin, SoftDeleteAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Doctors' verification documents: staff read and download them, never change them."""

    list_display = ("id", "doctor_name", "kind", "download", "content_type", "size_bytes", "created_at", "deleted")
    list_select_related = ("doctor__doctor_profile",)
    list_filter = ("kind", "content_type", "created_at")
    search_fields = ("=id", "=doctor__id", "doctor__email", "doctor__doctor_profile__full_name", "original_filename")
    fields = (
        "id",
        "doctor",
        "kind",
        "download",
        "content_type",
        "size_bytes",
        "sha256",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    readonly_fields = fields

    @admin.display(description="doctor", ordering="doctor__doctor_profile__full_name")
    def doctor_name(self, obj: DoctorDocument) -> str:
        return obj.doctor.display_name

    @admin.display(description="file", ordering="original_filename")
    def download(self, obj: DoctorDocument) -> str:
        # Through the checked download view (attachment, nosniff, audited), never a MEDIA URL.
        return format_html(
            '<a href="{}">{}</a>', reverse("doctors:document_download", args=[obj.pk]), obj.original_filename
        )


@admin.register(ActiveDoctor)
class ActiveDoctorAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
