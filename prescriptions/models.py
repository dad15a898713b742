"""Tables: prescriptions, prescription_items."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from dhanwantari.db_functions import one_of
from dhanwantari.models import SoftDeleteModel, TimeStampedModel, doctor_ref, id_field, patient_ref, ref


class PrescriptionType(models.TextChoices):
    ACUTE = "acute", "Acute"
    CHRONIC = "chronic", "Chronic"
    CONSTITUTIONAL = "constitutional", "Constitutional"
    INTERCURRENT = "intercurrent", "Intercurrent"
    FOLLOW_UP = "follow_up", "Follow-up"


class PrescriptionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    CANCELLED = "cancelled", "Cancelled"


def new_verification_code() -> str:
    # 10 characters from `secrets`: the public verification page looks a
    # prescription up by this code, so it must not be guessable.
    return secrets.token_urlsafe(8)[:10]


class Prescription(SoftDeleteModel, TimeStampedModel):
    """A prescription header. Immutable once issued; a correction cancels it and
    issues a new version that `supersedes` it."""

    id = id_field("rx")
    consultation = ref("consultations.Consultation", "consultation_id", related_name="prescriptions")
    # Denormalised from the consultation for the patient's and doctor's lists;
    # the prescribing service keeps them equal to the consultation's parties.
    patient = patient_ref("patient_id", related_name="prescriptions_received")
    doctor = doctor_ref("doctor_id", related_name="prescriptions_written")
    prescription_type = models.CharField(
        max_length=15, choices=PrescriptionType.choices, default=PrescriptionType.ACUTE
    )
    status = models.CharField(
        max_length=10, choices=PrescriptionStatus.choices, default=PrescriptionStatus.DRAFT, db_index=True
    )
    diagnosis = models.TextField(blank=True, help_text="Diagnosis or case notes.")
    general_advice = models.TextField(blank=True, help_text="Diet and lifestyle advice.")
    follow_up_date = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=300, blank=True)
    version = models.PositiveSmallIntegerField(default=1)
    supersedes = ref(
        "self", "supersedes_id", null=True, blank=True, related_name="superseded_by", on_delete=models.PROTECT
    )
    verification_code = models.CharField(max_length=16, unique=True, default=new_verification_code, editable=False)

    class Meta:
        db_table = "prescriptions"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["patient", "status", "created_at"], name="rx_patient_status_created_idx"),
            models.Index(fields=["doctor", "created_at"], name="rx_doctor_created_idx"),
        ]
        constraints = [
            one_of("prescription_type", PrescriptionType.values, name="rx_type_valid"),
            one_of("status", PrescriptionStatus.values, name="rx_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=PrescriptionStatus.ISSUED) | Q(issued_at__isnull=False),
                name="rx_issued_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_prescription_type_display()} prescription {self.id} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == PrescriptionStatus.DRAFT


class PotencyScale(models.TextChoices):
    DECIMAL = "X", "X (decimal)"
    CENTESIMAL = "C", "C (centesimal)"
    LM = "LM", "LM (fifty-millesimal)"
    MOTHER_TINCTURE = "Q", "Q (mother tincture)"


class DosageForm(models.TextChoices):
    GLOBULES = "globules", "Globules"
    DILUTION = "dilution", "Liquid dilution"
    TABLETS = "tablets", "Tablets"
    BIOCHEMIC = "biochemic", "Biochemic tablets"
    MOTHER_TINCTURE = "mother_tincture", "Mother tincture"
    OINTMENT = "ointment", "Ointment"
    POWDER = "powder", "Powders"


class PrescriptionItem(TimeStampedModel):
    """One remedy on a prescription, with its potency and how to take it."""

    id = id_field("rxi")
    prescription = ref("prescriptions.Prescription", "prescription_id", related_name="items", on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)
    remedy_name = models.CharField(max_length=150)
    # Potency as number + scale: 30C is (30, C); 1M is (1000, C); LM1 is (1, LM);
    # mother tincture is (NULL, Q).
    potency_value = models.PositiveIntegerField(null=True, blank=True)
    potency_scale = models.CharField(max_length=2, choices=PotencyScale.choices, blank=True)
    dosage_form = models.CharField(max_length=20, choices=DosageForm.choices, default=DosageForm.GLOBULES)
    dose = models.CharField(max_length=100, blank=True, help_text="e.g. 4 globules, 2 drops in water.")
    frequency = models.CharField(max_length=100, blank=True, help_text="e.g. three times a day.")
    duration = models.CharField(max_length=100, blank=True, help_text="e.g. 7 days.")
    quantity = models.CharField(max_length=50, blank=True)
    instructions = models.TextField(blank=True)
    is_placebo = models.BooleanField(default=False)

    class Meta:
        db_table = "prescription_items"
        ordering = ["prescription", "position"]
        indexes = [models.Index(fields=["prescription", "position"], name="rxi_prescription_pos_idx")]

    def __str__(self) -> str:
        return f"{self.remedy_name} {self.potency}".strip()

    @property
    def potency(self) -> str:
        if self.potency_scale == PotencyScale.MOTHER_TINCTURE:
            return "Q"
        if self.potency_value is None:
            return ""
        if self.potency_scale == PotencyScale.LM:
            return f"LM{self.potency_value}"
        if self.potency_scale == PotencyScale.CENTESIMAL and self.potency_value >= 1000:
            if self.potency_value == 100_000:
                return "CM"
            if self.potency_value % 1000 == 0:
                return f"{self.potency_value // 1000}M"
        return f"{self.potency_value}{self.potency_scale}"
