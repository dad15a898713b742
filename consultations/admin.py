"""Staff console for consultations and their messages.

Clinical fields (the case, the notes, the AI summary, message bodies) are
shown only to staff with consultations.view_clinical; every opening of a
consultation's or a message's page is written to the audit trail
(accounts.audit). Staff cancel and move consultations through consultations.services (which
checks the lifecycle and the doctor's slots, audits, notifies, and settles
the refund through payments.services).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from accounts.admin import ReadOnlyAdminMixin, SoftDeleteAdminMixin
from accounts.audit import AuditedAdminMixin, service_audited
from consultations import lifecycle, policies, services
from consultations.models import Consultation, Message, PatientConsultationHistory, PaymentStatus, Status
from doctors.admin import ReasonForm, ask_reason

CANCEL_REASON_HELP = (
    "The patient and the doctor read this in their notification. "
    "A staff cancellation refunds everything paid (Razorpay payments are refunded automatically)."
)
# What a cancellation can still apply to (consultations.lifecycle decides for each one).
CANCELLABLE = (Status.REQUESTED, Status.SCHEDULED)


def _fee(obj: Consultation | PatientConsultationHistory) -> str:
    return f"{obj.fee_amount} {obj.currency}"


@admin.register(Consultation)
class ConsultationAdmin(AuditedAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
    # doctor_notes and the AI summary stay off the list: clinical free text is
    # read on a consultation's own page, not skimmed for every row.
    list_display = (
        "id",
        "patient_name",
        "doctor_name",
        "consultation_type",
        "mode",
        "status",
        "scheduled_at",
        "payment_status",
        "fee",
        "created_at",
        "deleted",
    )
    list_select_related = ("patient__patient_profile", "doctor__doctor_profile")
    # A large table: the filtered count is enough, COUNT(*) of all of it is waste.
    show_full_result_count = False
    clinical_fields = ("chief_complaint", "symptoms", "ai_summary", "doctor_notes")
    audit_reads = True
    actions = ["cancel_consultations", "move_consultation"]
    list_filter = (
        "consultation_type",
        "mode",
        "status",
        "payment_status",
        "triage_level",
        "scheduled_at",
        "created_at",
    )
    search_fields = (
        "=id",
        "=patient__id",
        "patient__email",
        "patient__phone",
        "patient__patient_profile__full_name",
        "=doctor__id",
        "doctor__email",
        "doctor__doctor_profile__full_name",
        "=payment_order_id",
        "=payment_reference",
    )
    autocomplete_fields = ("doctor", "follow_up_of")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "consultation_type",
                    "patient",
                    "doctor",
                    "mode",
                    "status",
                    "follow_up_of",
                    "intake",
                    "messages_link",
                )
            },
        ),
        (
            "Schedule",
            {
                "fields": (
                    "scheduled_at",
                    "duration_minutes",
                    "started_at",
                    "ended_at",
                    "cancelled_at",
                    "cancelled_by",
                    "cancellation_reason",
                    "reschedule_count",
                    "reminder_24h_sent_at",
                    "reminder_1h_sent_at",
                    "patient_joined_at",
                    "doctor_joined_at",
                )
            },
        ),
        ("Case", {"fields": ("chief_complaint", "symptoms", "triage_level", "ai_summary", "doctor_notes")}),
        (
            "Payment",
            {
                "fields": (
                    "fee_amount",
                    "currency",
                    "payment_status",
                    "payment_method",
                    "payment_order_id",
                    "payment_reference",
                    "paid_at",
                    "refund_amount",
                    "refunded_at",
                    "refund_reference",
                )
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at", "deleted_at")}),
    )
    # Status, time and payment move only through consultations.services and
    # payments.services (the model says so), which lock, audit and notify;
    # here they are shown, not edited. Whose consultation it is, and of which
    # kind, never changes.
    readonly_fields = (
        "id",
        "consultation_type",
        "intake",
        "patient",
        "status",
        "messages_link",
        "scheduled_at",
        "duration_minutes",
        "reschedule_count",
        "reminder_24h_sent_at",
        "reminder_1h_sent_at",
        "patient_joined_at",
        "doctor_joined_at",
        "fee_amount",
        "currency",
        "refund_reference",
        "started_at",
        "ended_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
        "payment_status",
        "payment_method",
        "payment_order_id",
        "payment_reference",
        "paid_at",
        "refund_amount",
        "refunded_at",
        "created_at",
        "updated_at",
        "deleted_at",
    )

    def has_add_permission(self, request):
        # Booking goes through consultation_book, which checks the slot, the
        # doctor's verification and the fee.
        return False

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("consultations.cancel_consultation")

    def has_move_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("consultations.move_consultation")

    @admin.action(description="Move the selected consultation to another slot", permissions=["move"])
    @service_audited
    def move_consultation(self, request: HttpRequest, queryset: QuerySet[Consultation]) -> HttpResponse | None:
        """One at a time, through consultation_reschedule: the slot must be one the doctor offers and is free."""
        rows = list(queryset[:2])
        if len(rows) != 1:
            self.message_user(request, MOVE_ONE_AT_A_TIME, messages.ERROR)
            return None
        consultation = rows[0]
        form = MoveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                services.consultation_reschedule(
                    consultation=consultation, by=request.user, slot_start=form.cleaned_data["slot_start"]
                )
            except ValidationError as exc:
                form.add_error("slot_start", exc.messages[0])
            else:
                when = timezone.localtime(consultation.scheduled_at).strftime("%d %b %Y, %H:%M %Z")
                self.message_user(request, f"Moved {consultation.pk} to {when}; both parties are notified.")
                return None
        return ask_reason(
            self,
            request,
            rows,
            action="move_consultation",
            title=f"Move consultation {consultation.pk}",
            form=form,
            button="Move and notify",
        )

    @admin.action(description="Cancel selected consultations (with refund)", permissions=["cancel"])
    @service_audited
    def cancel_consultations(self, request: HttpRequest, queryset: QuerySet[Consultation]) -> HttpResponse | None:
        """Each through consultation_transition (audited, notified); the refund is the policy's, shown first."""
        now = timezone.now()
        rows = list(queryset.select_related("patient__patient_profile", "doctor__doctor_profile"))
        for consultation in rows:
            consultation.refund_text = _refund_text(consultation, now)
        form_kwargs = {"label": "Reason", "help_text": CANCEL_REASON_HELP}
        form = ReasonForm(request.POST if "apply" in request.POST else None, **form_kwargs)
        if form.is_bound and form.is_valid():
            done = 0
            for consultation in rows:
                try:
                    services.consultation_transition(
                        consultation=consultation,
                        to=Status.CANCELLED,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except ValidationError as exc:
                    self.message_user(request, f"{consultation.pk}: {exc.messages[0]}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(
                    request,
                    f"Cancelled {done} consultation{'' if done == 1 else 's'}; both parties are notified.",
                    messages.SUCCESS,
                )
            return None
        return ask_reason(
            self,
            request,
            rows,
            action="cancel_consultations",
            title=f"Cancel {len(rows)} consultation{'' if len(rows) == 1 else 's'}",
            form=form,
            button="Cancel and refund",
        )

    @admin.display(description="patient", ordering="patient__patient_profile__full_name")
    def patient_name(self, obj: Consultation) -> str:
        return obj.patient.display_name

    @admin.display(description="doctor", ordering="doctor__doctor_profile__full_name")
    def doctor_name(self, obj: Consultation) -> str:
        return obj.doctor.display_name if obj.doctor_id else "AI assistant"

    @admin.display(description="fee", ordering="fee_amount")
    def fee(self, obj: Consultation) -> str:
        return _fee(obj)

    @admin.display(description="messages")
    def messages_link(self, obj: Consultation) -> str:
        # A link to the filtered message list rather than an inline: a
        # consultation can hold thousands of messages.
        if obj.pk is None:
            return "—"
        count = Message.all_objects.filter(consultation=obj).count()
        url = reverse("admin:consultations_message_changelist") + "?" + urlencode({"consultation": obj.pk})
        return format_html('<a href="{}">{} message{}</a>', url, count, "" if count == 1 else "s")


MOVE_ONE_AT_A_TIME = "Select exactly one consultation to move."


class MoveForm(forms.Form):
    slot_start = forms.DateTimeField(
        label="New start",
        help_text="In your time zone, e.g. 2026-12-01 10:40. It must be a free slot in the doctor's working hours.",
    )


def _refund_text(consultation: Consultation, now) -> str:
    if consultation.status not in CANCELLABLE:
        return f"{consultation.get_status_display()}: cannot be cancelled"
    if consultation.payment_status != PaymentStatus.PAID:
        return "nothing paid, nothing to refund"
    due = policies.refund_due(consultation, lifecycle.STAFF, now)
    return f"refund {consultation.currency} {due} of {consultation.fee_amount}"


@admin.register(Message)
class MessageAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
    """Chat history is the parties' record of what was said: staff read it, never edit it.

    Bodies stay off the list; open a message to read it.
    """

    list_display = (
        "id",
        "consultation_ref",
        "sender",
        "message_type",
        "has_attachment",
        "created_at",
        "delivered_at",
        "read_at",
        "deleted",
    )
    list_select_related = ("sender",)
    list_filter = ("message_type", ("read_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("=id", "=consultation__id", "=sender__id", "sender__email")
    # Messages are the largest table; COUNT(*) over all of it on every page is waste.
    show_full_result_count = False
    clinical_fields = ("body", "metadata", "attachment")
    audit_reads = True
    fields = (
        "id",
        "consultation",
        "sender",
        "message_type",
        "body",
        "attachment",
        "metadata",
        "delivered_at",
        "read_at",
        "edited_at",
        "created_at",
        "updated_at",
        "deleted_at",
    )

    def audit_patient_id(self, obj: Message) -> str:
        # The consultation is already loaded for the page's read-only field.
        return obj.consultation.patient_id

    @admin.display(description="consultation", ordering="consultation_id")
    def consultation_ref(self, obj: Message) -> str:
        return obj.consultation_id

    @admin.display(boolean=True, description="attachment")
    def has_attachment(self, obj: Message) -> bool:
        return obj.attachment_id is not None


@admin.register(PatientConsultationHistory)
class PatientConsultationHistoryAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The `patient_consultation_history` view: names come from the view itself, no joins."""

    clinical_fields = ("chief_complaint",)
    show_full_result_count = False

    list_display = (
        "id",
        "patient_name",
        "patient_age",
        "doctor_name",
        "consultation_type",
        "mode",
        "status",
        "scheduled_at",
        "payment_status",
        "fee",
        "created_at",
    )
    list_filter = ("consultation_type", "mode", "status", "payment_status", "triage_level", "created_at")
    search_fields = ("=id", "patient_name", "doctor_name", "=patient__id", "=doctor__id")

    @admin.display(description="fee", ordering="fee_amount")
    def fee(self, obj: PatientConsultationHistory) -> str:
        return _fee(obj)
