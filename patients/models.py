"""Table: patient_profiles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Round
from django.utils import timezone

from dhanwantari.crypto import EncryptedTextField
from dhanwantari.db_functions import RealArithmetic
from dhanwantari.jsonfield import SchemaJSONField
from dhanwantari.models import SoftDeleteModel, TimeStampedModel, id_field
from dhanwantari.validators import validate_e164_phone
from patients import schemas


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNDISCLOSED = "undisclosed", "Prefer not to say"


class BloodGroup(models.TextChoices):
    A_POS = "A+", "A+"
    A_NEG = "A-", "A−"
    B_POS = "B+", "B+"
    B_NEG = "B-", "B−"
    AB_POS = "AB+", "AB+"
    AB_NEG = "AB-", "AB−"
    O_POS = "O+", "O+"
    O_NEG = "O-", "O−"


def age_on(date_of_birth: date | None, today: date) -> int | None:
    if date_of_birth is None:
        return None
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    # Never negative: a baby born "today" in India before 05:30 is born
    # tomorrow by the UTC date that age is reckoned on.
    return max(0, today.year - date_of_birth.year - before_birthday)


class PatientProfile(SoftDeleteModel, TimeStampedModel):
    """A patient's demographics and medical background; one per patient user."""

    id = id_field("pp")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_column="user_id",
        related_name="patient_profile",
        limit_choices_to={"role": "patient"},
    )
    full_name = models.CharField(max_length=150)
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=12, choices=Gender.choices, blank=True)
    blood_group = models.CharField(max_length=3, choices=BloodGroup.choices, blank=True)
    height_cm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    # Stored generated column (spec "Computed Columns"): the database keeps it
    # right for every writer. RealArithmetic keeps SQLite out of integer
    # division; MySQL computes it in exact DECIMAL arithmetic.
    bmi = models.GeneratedField(
        expression=Case(
            When(
                Q(height_cm__gt=0) & Q(weight_kg__gt=0),
                then=Round(
                    RealArithmetic(F("weight_kg"))
                    * Value(10000)
                    / (RealArithmetic(F("height_cm")) * RealArithmetic(F("height_cm"))),
                    2,
                ),
            ),
            default=None,
        ),
        output_field=models.DecimalField(max_digits=6, decimal_places=2),
        db_persist=True,
    )
    # Age is NOT a generated column: MySQL forbids non-deterministic functions
    # such as CURDATE() in generated columns, so age is computed when read
    # (the `age` property, and the patient_consultation_history view).

    allergies = SchemaJSONField(default=list, blank=True, schema=schemas.ALLERGIES)
    medications = SchemaJSONField(default=list, blank=True, schema=schemas.MEDICATIONS)
    chronic_conditions = SchemaJSONField(default=list, blank=True, schema=schemas.CHRONIC_CONDITIONS)
    # Free-text medical background: encrypted at rest (dhanwantari.crypto). The
    # JSON lists above stay plain: the UI edits them as structured data.
    medical_history = EncryptedTextField(blank=True)
    family_history = EncryptedTextField(blank=True)

    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_phone = models.CharField(max_length=16, blank=True, validators=[validate_e164_phone])
    emergency_contact_relation = models.CharField(max_length=50, blank=True)

    preferred_language = models.CharField(max_length=10, default="en")
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    country = models.CharField(max_length=2, default="IN", help_text="ISO 3166-1 alpha-2.")

    class Meta:
        db_table = "patient_profiles"
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(height_cm__isnull=True) | Q(height_cm__gte=30, height_cm__lte=272),
                name="pp_height_range",
                violation_error_message="Height must be between 30 and 272 cm.",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gte=Decimal("0.5"), weight_kg__lte=500),
                name="pp_weight_range",
                violation_error_message="Weight must be between 0.5 and 500 kg.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def age(self) -> int | None:
        # Reckoned on the UTC date, the date CURDATE() gives the views (the MySQL
        # session runs in UTC), so the profile and the history view never
        # disagree; in India a birthday's new age shows from 05:30.
        return age_on(self.date_of_birth, timezone.now().date())
