from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from accounts.admin import ReadOnlyAdminMixin, SoftDeleteAdminMixin
from consultations.models import Consultation, Message, PatientConsultationHistory


def _fee(obj: Consultation | PatientConsultationHistory) -> str:
    return f"{obj.fee_amount} {obj.currency}"


@admin.register(Consultation)
class ConsultationAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
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


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, SoftDeleteAdminMixin, admin.ModelAdmin):
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

    @admin.display(description="consultation", ordering="consultation_id")
    def consultation_ref(self, obj: Message) -> str:
        return obj.consultation_id

    @admin.display(boolean=True, description="attachment")
    def has_attachment(self, obj: Message) -> bool:
        return obj.attachment_id is not None


@admin.register(PatientConsultationHistory)
class PatientConsultationHistoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The `patient_consultation_history` view: names come from the view itself, no joins."""

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
