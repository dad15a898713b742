from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import ReadOnlyAdminMixin
from accounts.audit import AuditedAdminMixin
from payments.models import PaymentEvent


@admin.register(PaymentEvent)
class PaymentEventAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every provider event and offline record, as stored: for reading, never for editing.

    Payments change only through payments.services (which audits them), so
    nothing here writes.
    """

    list_display = (
        "created_at",
        "provider",
        "event_type",
        "consultation_link",
        "amount_text",
        "outcome",
        "outcome_note",
    )
    list_filter = ("provider", "outcome", "event_type", "created_at")
    # Exact matches on indexed or short columns: staff paste an id from Razorpay's dashboard.
    search_fields = ("=order_id", "=payment_id", "=refund_id", "=event_id", "=consultation__id")
    list_per_page = 50
    show_full_result_count = False
    # The consultation column shows the key only (no join, no query per row).
    fields = (
        "id",
        "provider",
        "event_id",
        "event_type",
        "consultation",
        "order_id",
        "payment_id",
        "refund_id",
        "amount",
        "currency",
        "occurred_at",
        "recorded_by",
        "outcome",
        "outcome_note",
        "payload",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Consultation", ordering="consultation_id")
    def consultation_link(self, obj: PaymentEvent):
        if not obj.consultation_id:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:consultations_consultation_change", args=[obj.consultation_id]),
            obj.consultation_id,
        )

    @admin.display(description="Amount", ordering="amount")
    def amount_text(self, obj: PaymentEvent) -> str:
        return f"{obj.amount} {obj.currency}" if obj.amount is not None else "—"
