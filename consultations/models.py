"""Tables: consultations (with payment tracking), messages; view: patient_consultation_history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from consultations import schemas
from dhanwantari.crypto import EncryptedTextField
from dhanwantari.db_functions import one_of
from dhanwantari.jsonfield import SchemaJSONField
from dhanwantari.models import SoftDeleteModel, TimeStampedModel, doctor_ref, id_field, patient_ref, ref


class ConsultationType(models.TextChoices):
    DOCTOR = "doctor", "With a doctor"
    AI = "ai", "AI intake"


class Mode(models.TextChoices):
    CHAT = "chat", "Chat"
    AUDIO = "audio", "Audio call"
    VIDEO = "video", "Video call"
    IN_PERSON = "in_person", "In person"


class Status(models.TextChoices):
    REQUESTED = "requested", "Requested"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


class TriageLevel(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent: see a doctor today"
    ROUTINE = "routine", "Routine"


class PaymentStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required"
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    REFUND_PENDING = "refund_pending", "Refund pending"
    REFUNDED = "refunded", "Refunded"
    DISPUTED = "disputed", "Disputed"


class PaymentMethod(models.TextChoices):
    OFFLINE = "offline", "Recorded by clinic"
    PAY_AT_CLINIC = "pay_at_clinic", "Pay at clinic"
    RAZORPAY = "razorpay", "Razorpay"


class Consultation(SoftDeleteModel, TimeStampedModel):
    """One consultation between a patient and a doctor (or the AI assistant).

    Status strings are the spec's (`status = 'scheduled'`). Transitions happen
    only through consultations.services.
    """

    id = id_field("cons")
    patient = patient_ref("patient_id", related_name="consultations_as_patient")
    doctor = doctor_ref(
        "doctor_id",
        null=True,
        blank=True,
        related_name="consultations_as_doctor",
        help_text="Empty for an AI intake consultation.",
    )
    consultation_type = models.CharField(
        max_length=10, choices=ConsultationType.choices, default=ConsultationType.DOCTOR
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.CHAT)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    follow_up_of = ref(
        "self", "follow_up_of", null=True, blank=True, related_name="follow_ups", on_delete=models.SET_NULL
    )
    # The AI intake whose case this consultation was booked with (the doctor
    # reads its transcript); set only by consultation_book.
    intake = ref(
        "self",
        "intake_id",
        null=True,
        blank=True,
        related_name="handoffs",
        on_delete=models.SET_NULL,
        limit_choices_to={"consultation_type": "ai"},
    )

    scheduled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(default=20)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = ref("accounts.User", "cancelled_by", null=True, blank=True, related_name="+")
    cancellation_reason = models.CharField(max_length=500, blank=True)
    # How many times the booking was moved (consultations.policy caps it).
    reschedule_count = models.PositiveSmallIntegerField(default=0)
    # Reminders are claimed by setting these (UPDATE ... WHERE ... IS NULL), so
    # each is sent once however many reminder jobs run; a reschedule clears them.
    reminder_24h_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_1h_sent_at = models.DateTimeField(null=True, blank=True)
    # Waiting room: when each party last opened it (the patient sees whether
    # the doctor is there; the doctor admits the patient by starting).
    patient_joined_at = models.DateTimeField(null=True, blank=True)
    doctor_joined_at = models.DateTimeField(null=True, blank=True)

    chief_complaint = models.CharField(max_length=500, blank=True)
    symptoms = SchemaJSONField(default=dict, blank=True, schema=schemas.SYMPTOMS)
    triage_level = models.CharField(max_length=10, choices=TriageLevel.choices, blank=True, db_index=True)
    # Clinical free text, encrypted at rest (dhanwantari.crypto); `symptoms`
    # stays plain JSON: structured, schema-checked and read by the intake engine.
    ai_summary = EncryptedTextField(blank=True)
    doctor_notes = EncryptedTextField(blank=True, help_text="Clinical notes, seen only by the treating doctor.")

    # Payment tracking (spec: "Multi-mode, payment tracking").
    fee_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="INR")
    payment_status = models.CharField(
        max_length=15, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True
    )
    payment_method = models.CharField(max_length=15, choices=PaymentMethod.choices, blank=True)
    payment_order_id = models.CharField(max_length=100, blank=True, db_index=True)
    payment_reference = models.CharField(max_length=100, blank=True, help_text="Provider payment id or receipt number.")
    paid_at = models.DateTimeField(null=True, blank=True)
    refund_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_reference = models.CharField(max_length=100, blank=True, help_text="Provider refund id or refund receipt.")

    class Meta:
        db_table = "consultations"
        ordering = ["-created_at"]
        indexes = [
            # "Get doctor's upcoming appointments": doctor_id, status, scheduled_at.
            models.Index(fields=["doctor", "status", "scheduled_at"], name="cons_doctor_status_sched_idx"),
            # A patient's history, newest first.
            models.Index(fields=["patient", "created_at"], name="cons_patient_created_idx"),
            models.Index(fields=["patient", "status", "scheduled_at"], name="cons_patient_status_sched_idx"),
            # Earnings: a doctor's paid consultations in a date range.
            models.Index(fields=["doctor", "payment_status", "paid_at"], name="cons_doctor_paid_idx"),
            # Earnings for a month: paid OR refunded in it. With both ranges
            # right after doctor_id MySQL unions two short ranges instead of
            # reading the doctor's whole history (EXPLAIN in test_explain.py).
            models.Index(fields=["doctor", "paid_at"], name="cons_doctor_paid_at_idx"),
            models.Index(fields=["doctor", "refunded_at"], name="cons_doctor_refunded_at_idx"),
        ]
        constraints = [
            one_of("status", Status.values, name="cons_status_valid"),
            one_of("mode", Mode.values, name="cons_mode_valid"),
            one_of("payment_status", PaymentStatus.values, name="cons_payment_status_valid"),
            models.CheckConstraint(
                condition=Q(consultation_type=ConsultationType.AI) | Q(doctor__isnull=False),
                name="cons_doctor_required",
                violation_error_message="A consultation with a doctor needs a doctor.",
            ),
            models.CheckConstraint(condition=Q(fee_amount__gte=0), name="cons_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0) & Q(refund_amount__lte=F("fee_amount")),
                name="cons_refund_within_fee",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(started_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="cons_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_consultation_type_display()} consultation {self.id}"

    @property
    def is_ai(self) -> bool:
        return self.consultation_type == ConsultationType.AI

    @property
    def is_online(self) -> bool:
        return self.mode != Mode.IN_PERSON


class MessageType(models.TextChoices):
    TEXT = "text", "Text"
    ATTACHMENT = "attachment", "Attachment"
    SYSTEM = "system", "System"
    CALL = "call", "Call event"


class Message(SoftDeleteModel, TimeStampedModel):
    """One chat message in a consultation; `read_at` set when the other party read it."""

    id = id_field("msg")
    consultation = ref("consultations.Consultation", "consultation_id", related_name="messages")
    sender = ref(
        "accounts.User",
        "sender_id",
        null=True,
        blank=True,
        related_name="messages_sent",
        help_text="Empty for system messages.",
    )
    message_type = models.CharField(max_length=12, choices=MessageType.choices, default=MessageType.TEXT)
    body = models.TextField(blank=True, max_length=5000)
    attachment = ref("records.FileUpload", "file_upload_id", null=True, blank=True, related_name="messages")
    metadata = models.JSONField(default=dict, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "messages"
        ordering = ["created_at", "id"]
        indexes = [
            # A room's history and resync: consultation_id, created_at.
            models.Index(fields=["consultation", "created_at"], name="msg_consultation_created_idx"),
            # Unread counts on the dashboards (read_at IS NULL per consultation):
            # without it, every message of a long chat is read to count the few unread.
            models.Index(fields=["consultation", "read_at"], name="msg_consultation_read_idx"),
        ]
        constraints = [
            one_of("message_type", MessageType.values, name="msg_type_valid"),
            models.CheckConstraint(
                condition=~Q(message_type=MessageType.ATTACHMENT) | Q(attachment__isnull=False),
                name="msg_attachment_present",
                violation_error_message="An attachment message needs a file.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_message_type_display()} {self.id}"


class PatientConsultationHistory(models.Model):
    """Read-only model over the `patient_consultation_history` view."""

    id = models.CharField(primary_key=True, max_length=40)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_column="patient_id", related_name="+"
    )
    patient_name = models.CharField(max_length=150, null=True)
    patient_age = models.IntegerField(null=True)
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_column="doctor_id", null=True, related_name="+"
    )
    doctor_name = models.CharField(max_length=150, null=True)
    consultation_type = models.CharField(max_length=10, choices=ConsultationType.choices)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    status = models.CharField(max_length=12, choices=Status.choices)
    scheduled_at = models.DateTimeField(null=True)
    started_at = models.DateTimeField(null=True)
    ended_at = models.DateTimeField(null=True)
    chief_complaint = models.CharField(max_length=500)
    triage_level = models.CharField(max_length=10, choices=TriageLevel.choices)
    fee_amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    payment_status = models.CharField(max_length=15, choices=PaymentStatus.choices)
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "patient_consultation_history"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.patient_name} / {self.doctor_name} ({self.status})"
