"""Table: payment_events (an extension of the spec; payment tracking itself is
the `consultations` table's payment columns).

Every event a payment provider reports (a webhook, a verified checkout return,
a refund answer) and every payment or refund staff record offline is kept here
once: (provider, event_id) is unique, so a provider repeating a webhook is
recognised and not applied twice.
"""

from __future__ import annotations

from django.db import models

from dhanwantari.db_functions import one_of
from dhanwantari.models import TimeStampedModel, id_field, ref


class Provider(models.TextChoices):
    OFFLINE = "offline", "Offline (recorded by the clinic)"
    RAZORPAY = "razorpay", "Razorpay"


class Outcome(models.TextChoices):
    APPLIED = "applied", "Applied"
    IGNORED = "ignored", "Ignored (already reflected or superseded)"
    REJECTED = "rejected", "Rejected (did not match the consultation)"


class PaymentEvent(TimeStampedModel):
    """One provider event, stored once, with what it did to the consultation."""

    id = id_field("pev")
    provider = models.CharField(max_length=12, choices=Provider.choices)
    event_id = models.CharField(max_length=100, help_text="The provider's id for this event (unique per provider).")
    event_type = models.CharField(max_length=50, help_text="e.g. payment.captured, refund.processed, offline.payment.")
    consultation = ref(
        "consultations.Consultation",
        "consultation_id",
        null=True,
        blank=True,
        related_name="payment_events",
        help_text="Empty when the event could not be matched to a consultation.",
    )
    order_id = models.CharField(max_length=100, blank=True)
    payment_id = models.CharField(max_length=100, blank=True)
    refund_id = models.CharField(max_length=100, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="When the provider says it happened.")
    recorded_by = ref("accounts.User", "recorded_by", null=True, blank=True, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.APPLIED)
    outcome_note = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "payment_events"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["consultation", "created_at"], name="pev_consultation_created_idx"),
            models.Index(fields=["order_id"], name="pev_order_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="pev_provider_event_unique"),
            one_of("provider", Provider.values, name="pev_provider_valid"),
            one_of("outcome", Outcome.values, name="pev_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
