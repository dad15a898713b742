"""Tables: prescriptions, prescription_items; the remedy catalogue (`remedies`, ours).

An issued prescription is a clinical document: it never changes. The model
enforces that for every writer, not only the services:

- `Prescription.save()` refuses a change to a row that was loaded issued or
  cancelled, except issued -> cancelled (with its time and reason) and soft
  deletion; `Prescription.objects....update()` refuses any change to such rows;
- `PrescriptionItem.save()`, `.update()` and `.delete()` refuse to touch the
  items of a prescription that is not a draft.

`PrescriptionItem.objects.bulk_create` is the one raw path: the prescribing
service uses it to write a draft's item list after checking the draft under
its row lock, and the test factories to build issued fixtures. A correction
is a new version (`supersedes`), never an edit.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from dhanwantari.crypto import EncryptedTextField
from dhanwantari.db_functions import one_of
from dhanwantari.jsonfield import SchemaJSONField
from dhanwantari.models import (
    AllObjectsManager,
    SoftDeleteManager,
    SoftDeleteModel,
    SoftDeleteQuerySet,
    TimeStampedModel,
    doctor_ref,
    id_field,
    patient_ref,
    ref,
)
from prescriptions import potency as potency_text
from prescriptions import schemas

LOCKED = (
    "This prescription has been issued and can no longer be changed. "
    "To change it, correct it: that withdraws it and starts a new version."
)
ITEMS_LOCKED = "The remedies of an issued prescription can no longer be changed. Correct the prescription instead."


class PrescriptionLocked(ValidationError):
    """A write to an issued (or cancelled) prescription or to its items."""

    def __init__(self, message: str = LOCKED) -> None:
        super().__init__(message, code="locked")


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


# Once issued, only these may change: the cancellation (a correction or a
# withdrawal) and soft deletion by staff. Once cancelled, only soft deletion.
_CHANGEABLE_WHEN_ISSUED = frozenset({"status", "cancelled_at", "cancellation_reason", "updated_at", "deleted_at"})
_CHANGEABLE_WHEN_CANCELLED = frozenset({"updated_at", "deleted_at"})


class PrescriptionQuerySet(SoftDeleteQuerySet):
    def update(self, **kwargs: Any) -> int:
        if set(kwargs) - _CHANGEABLE_WHEN_CANCELLED and self.exclude(status=PrescriptionStatus.DRAFT).exists():
            raise PrescriptionLocked()
        return super().update(**kwargs)


class PrescriptionManager(SoftDeleteManager.from_queryset(PrescriptionQuerySet)):
    pass


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
    # Clinical free text, encrypted at rest (dhanwantari.crypto).
    diagnosis = EncryptedTextField(blank=True, help_text="Diagnosis or case notes.")
    general_advice = EncryptedTextField(blank=True, help_text="Diet and lifestyle advice.")
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

    objects = PrescriptionManager()
    all_objects = AllObjectsManager.from_queryset(PrescriptionQuerySet)()

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

    @property
    def is_issued(self) -> bool:
        return self.status == PrescriptionStatus.ISSUED

    @property
    def is_cancelled(self) -> bool:
        return self.status == PrescriptionStatus.CANCELLED

    # --- immutability ---------------------------------------------------------------

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._remember_stored()
        return instance

    def _remember_stored(self) -> None:
        deferred = self.get_deferred_fields()
        self._stored = {
            f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields if f.attname not in deferred
        }

    def changed_fields(self) -> set[str]:
        """Columns whose value differs from what was loaded (all of them for a new row)."""
        stored = getattr(self, "_stored", None)
        if stored is None:
            return {f.attname for f in self._meta.concrete_fields}
        return {name for name, old in stored.items() if getattr(self, name) != old}

    def check_writable(self) -> None:
        """Raise PrescriptionLocked if this save would change an issued or cancelled prescription."""
        stored = getattr(self, "_stored", None)
        was = stored.get("status") if stored else None
        if was not in (PrescriptionStatus.ISSUED, PrescriptionStatus.CANCELLED):
            return
        changed = self.changed_fields()
        if was == PrescriptionStatus.ISSUED:
            allowed = (
                _CHANGEABLE_WHEN_ISSUED if self.status == PrescriptionStatus.CANCELLED else _CHANGEABLE_WHEN_CANCELLED
            )
        else:
            allowed = _CHANGEABLE_WHEN_CANCELLED
        if changed - allowed:
            raise PrescriptionLocked()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.check_writable()
        super().save(*args, **kwargs)
        self._remember_stored()

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._remember_stored()

    @property
    def item_list(self) -> list[PrescriptionItem]:
        """The remedies in order (prefetched by the queries that show them)."""
        return sorted(self.items.all(), key=lambda item: (item.position, item.created_at))


class Remedy(TimeStampedModel):
    """One remedy of the catalogue the editor suggests from (loaded by a data migration).

    Doctors may still write a remedy that is not here; an item then has only
    its `remedy_name`. Entries are deactivated, never deleted: old
    prescriptions point at them.
    """

    id = id_field("rem")
    name = models.CharField(max_length=120, unique=True, help_text="The full Latin name, e.g. Arsenicum album.")
    abbreviation = models.CharField(max_length=30, help_text="The standard repertory abbreviation, e.g. Ars.")
    also_known_as = models.CharField(
        max_length=300, blank=True, help_text="Other names doctors write, comma-separated, e.g. Ars alb, Arsenic."
    )
    is_tissue_salt = models.BooleanField(default=False, help_text="One of Schuessler's twelve biochemic salts.")
    active = models.BooleanField(default=True, help_text="Offered in the editor's suggestions.")

    class Meta:
        db_table = "remedies"
        ordering = ["name"]
        verbose_name_plural = "remedies"
        indexes = [
            # Prefix search by abbreviation ("Nux-" -> Nux-m., Nux-v.); the name's
            # unique index serves prefix search by name.
            models.Index(fields=["abbreviation"], name="rem_abbreviation_idx"),
            models.Index(fields=["active", "name"], name="rem_active_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.abbreviation})"

    @property
    def other_names(self) -> list[str]:
        return [name.strip() for name in self.also_known_as.split(",") if name.strip()]


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


class Repetition(models.TextChoices):
    """How often a dose is repeated, as doctors say it. Anything else goes in `frequency`."""

    FOUR_TIMES = "qds", "Four times a day"
    THREE_TIMES = "tds", "Three times a day"
    TWICE = "bd", "Twice a day"
    ONCE = "od", "Once a day"
    BEDTIME = "hs", "At bedtime"
    EVERY_15_MIN = "every_15_min", "Every 15 minutes until better"
    EVERY_HOUR = "every_hour", "Every hour until better"
    EVERY_2_HOURS = "every_2_hours", "Every 2 hours until better"
    EVERY_4_HOURS = "every_4_hours", "Every 4 hours until better"
    SINGLE = "single", "Single dose"
    ALTERNATE_DAYS = "alternate_days", "On alternate days"
    TWICE_WEEKLY = "twice_weekly", "Twice a week"
    WEEKLY = "weekly", "Once a week"
    FORTNIGHTLY = "fortnightly", "Once a fortnight"
    MONTHLY = "monthly", "Once a month"
    SOS = "sos", "Only when needed (SOS)"


# Globule sizes as pharmacies sell them: No. 10 (smallest) to No. 60.
PILL_SIZES = (10, 20, 30, 40, 50, 60)


class PrescriptionItemQuerySet(models.QuerySet):
    def _touches_locked(self) -> bool:
        return self.exclude(prescription__status=PrescriptionStatus.DRAFT).exists()

    def update(self, **kwargs: Any) -> int:
        if self._touches_locked():
            raise PrescriptionLocked(ITEMS_LOCKED)
        return super().update(**kwargs)

    def delete(self):
        if self._touches_locked():
            raise PrescriptionLocked(ITEMS_LOCKED)
        return super().delete()


class PrescriptionItem(TimeStampedModel):
    """One remedy on a prescription, with its potency and how to take it."""

    id = id_field("rxi")
    prescription = ref("prescriptions.Prescription", "prescription_id", related_name="items", on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)
    remedy_name = models.CharField(max_length=150)
    # The catalogue entry when the name is one of ours; free text otherwise.
    remedy = ref("prescriptions.Remedy", "remedy_id", null=True, blank=True, related_name="+")
    # Potency as number + scale: 30C is (30, C); 1M is (1000, C); LM1 is (1, LM);
    # mother tincture is (NULL, Q).
    potency_value = models.PositiveIntegerField(null=True, blank=True)
    potency_scale = models.CharField(max_length=2, choices=PotencyScale.choices, blank=True)
    dosage_form = models.CharField(max_length=20, choices=DosageForm.choices, default=DosageForm.GLOBULES)
    pill_size = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(size, f"No. {size}") for size in PILL_SIZES], help_text="Globules only."
    )
    dose = models.CharField(max_length=100, blank=True, help_text="e.g. 4 globules, 2 drops in water.")
    repetition = models.CharField(max_length=20, choices=Repetition.choices, blank=True)
    # Free text beside (or instead of) the repetition choice: "after food", "during a fit".
    frequency = models.CharField(max_length=100, blank=True, help_text="e.g. three times a day.")
    duration = models.CharField(max_length=100, blank=True, help_text="e.g. 7 days.")
    quantity = models.CharField(max_length=50, blank=True)
    lm_plan = SchemaJSONField(null=True, blank=True, schema=schemas.LM_PLAN, check=schemas.check_lm_plan)
    instruction_codes = SchemaJSONField(default=list, blank=True, schema=schemas.INSTRUCTION_CODES)
    instructions = models.TextField(blank=True)
    is_placebo = models.BooleanField(default=False)

    objects = PrescriptionItemQuerySet.as_manager()

    class Meta:
        db_table = "prescription_items"
        ordering = ["prescription", "position"]
        indexes = [models.Index(fields=["prescription", "position"], name="rxi_prescription_pos_idx")]
        constraints = [
            one_of("potency_scale", [*PotencyScale.values, ""], name="rxi_potency_scale_valid"),
            one_of("dosage_form", DosageForm.values, name="rxi_dosage_form_valid"),
            one_of("repetition", [*Repetition.values, ""], name="rxi_repetition_valid"),
            models.CheckConstraint(
                condition=Q(pill_size__isnull=True) | Q(pill_size__in=PILL_SIZES), name="rxi_pill_size_valid"
            ),
            # 30C has a number; mother tincture (Q) and "no potency" (a placebo) have none.
            models.CheckConstraint(
                condition=Q(potency_scale__in=["X", "C", "LM"], potency_value__isnull=False, potency_value__gte=1)
                | Q(potency_scale__in=["Q", ""], potency_value__isnull=True),
                name="rxi_potency_value_fits_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remedy_name} {self.potency}".strip()

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.pill_size is not None and self.dosage_form != DosageForm.GLOBULES:
            errors["pill_size"] = "A pill size goes with globules only."
        if self.lm_plan is not None and self.potency_scale != PotencyScale.LM:
            errors["lm_plan"] = "An LM plan goes with an LM potency only."
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        status = (
            Prescription.all_objects.filter(pk=self.prescription_id).values_list("status", flat=True).first()
            if self.prescription_id
            else None
        )
        if status not in (None, PrescriptionStatus.DRAFT):
            raise PrescriptionLocked(ITEMS_LOCKED)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        if Prescription.all_objects.filter(pk=self.prescription_id).exclude(status=PrescriptionStatus.DRAFT).exists():
            raise PrescriptionLocked(ITEMS_LOCKED)
        return super().delete(*args, **kwargs)

    @property
    def potency(self) -> str:
        return potency_text.display(self.potency_value, self.potency_scale)

    @property
    def repetition_text(self) -> str:
        """The repetition as printed: the choice, then the doctor's own words."""
        parts = [self.get_repetition_display() if self.repetition else "", self.frequency]
        return "; ".join(part for part in parts if part)

    @property
    def form_text(self) -> str:
        """The form as printed: "Globules No. 30", "Liquid dilution"."""
        label = self.get_dosage_form_display()
        return f"{label} No. {self.pill_size}" if self.pill_size else label

    @property
    def instruction_lines(self) -> list[str]:
        """The preset instructions in words, then the doctor's own."""
        lines = [schemas.INSTRUCTIONS[code] for code in self.instruction_codes or [] if code in schemas.INSTRUCTIONS]
        if self.instructions.strip():
            lines.append(self.instructions.strip())
        return lines

    @property
    def lm_plan_lines(self) -> list[str]:
        """The LM plan in words, one line per step and one for the method."""
        plan = self.lm_plan
        if not plan:
            return []
        method = []
        if plan.get("bottle_ml"):
            method.append(f"dissolve in a {plan['bottle_ml']} ml bottle of water")
        if plan.get("succussions"):
            method.append(f"succuss the bottle {plan['succussions']} times before each dose")
        if plan.get("dilution_cups"):
            cups = plan["dilution_cups"]
            method.append(f"one spoonful into {cups} cup{'s' if cups > 1 else ''} of water, then a spoonful of that")
        lines = [("; ".join(method) + ".").capitalize()] if method else []
        steps = [f"LM{step['level']} for {step['days']} day{'s' if step['days'] > 1 else ''}" for step in plan["steps"]]
        lines.append(", then ".join(steps) + ".")
        if plan.get("notes"):
            lines.append(plan["notes"])
        return lines
