"""Tables: doctor_profiles, doctor_reviews; view: active_doctors."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from dhanwantari.db_functions import one_of
from dhanwantari.jsonfield import SchemaJSONField
from dhanwantari.models import SoftDeleteModel, TimeStampedModel, doctor_ref, id_field, patient_ref, ref
from doctors import schemas
from patients.models import Gender


class VerificationStatus(models.TextChoices):
    DRAFT = "draft", "Profile incomplete"
    PENDING = "pending", "Awaiting verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


def default_availability() -> dict:
    return {"timezone": "Asia/Kolkata", "slot_minutes": 20, "buffer_minutes": 5, "weekly": {}, "overrides": []}


class DoctorProfile(SoftDeleteModel, TimeStampedModel):
    """A doctor's credentials, fees, clinic and working hours; one per doctor user.

    Listed and bookable only once staff set `verification_status` to verified.
    """

    id = id_field("dp")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_column="user_id",
        related_name="doctor_profile",
        limit_choices_to={"role": "doctor"},
    )
    full_name = models.CharField(max_length=150)
    gender = models.CharField(max_length=12, choices=Gender.choices, blank=True)
    registration_number = models.CharField(max_length=50, blank=True, db_index=True)
    registration_council = models.CharField(max_length=120, blank=True)
    qualifications = SchemaJSONField(default=list, blank=True, schema=schemas.QUALIFICATIONS)
    specializations = SchemaJSONField(default=list, blank=True, schema=schemas.SPECIALIZATION_LIST)
    languages = SchemaJSONField(default=list, blank=True, schema=schemas.LANGUAGES)
    experience_years = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(70)])
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to="doctors/photos/", blank=True)
    # Printed on the doctor's prescriptions (page and PDF); private like every upload.
    signature = models.ImageField(upload_to="doctors/signatures/", blank=True)

    consultation_fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    follow_up_fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="INR")
    # Follow-ups: within this many days of a completed consultation the patient
    # may book up to `follow_up_visits` follow-ups at `follow_up_fee` (0: free).
    # A window of 0 days means this doctor does not offer follow-up pricing.
    follow_up_window_days = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(365)])
    follow_up_visits = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(20)])
    consultation_modes = SchemaJSONField(default=list, blank=True, schema=schemas.MODE_LIST)

    clinic_name = models.CharField(max_length=150, blank=True)
    clinic_address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True, db_index=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    country = models.CharField(max_length=2, default="IN")
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )

    availability = SchemaJSONField(
        default=default_availability,
        blank=True,
        schema=schemas.AVAILABILITY,
        check=schemas.check_availability,
    )
    timezone = models.CharField(max_length=64, default="Asia/Kolkata")

    verification_status = models.CharField(
        max_length=10, choices=VerificationStatus.choices, default=VerificationStatus.DRAFT, db_index=True
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = ref("accounts.User", "verified_by", null=True, blank=True, related_name="+")
    rejection_reason = models.TextField(blank=True)

    # The first free slot from now, kept by doctors.services whenever the
    # schedule or a booking changes, so the directory can sort by "earliest
    # available" with an index instead of computing every doctor's slots.
    next_available_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # Kept equal to the spec's "Calculate doctor rating" query by the review
    # services, in the same transaction as every review change.
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0"))
    rating_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "doctor_profiles"
        ordering = ["full_name"]
        indexes = [
            # Bounding-box prefilter for "near me".
            models.Index(fields=["latitude", "longitude"], name="dp_geo_idx"),
            models.Index(fields=["verification_status", "rating_avg"], name="dp_status_rating_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(consultation_fee__gte=0), name="dp_fee_not_negative"),
            models.CheckConstraint(condition=Q(follow_up_fee__gte=0), name="dp_follow_up_fee_not_negative"),
            models.CheckConstraint(condition=Q(rating_avg__gte=0, rating_avg__lte=5), name="dp_rating_avg_range"),
            one_of("verification_status", VerificationStatus.values, name="dp_verification_status_valid"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_verified(self) -> bool:
        return self.verification_status == VerificationStatus.VERIFIED

    @property
    def specialization_labels(self) -> list[str]:
        return [schemas.SPECIALIZATIONS.get(slug, slug) for slug in self.specializations]


class DoctorReview(SoftDeleteModel, TimeStampedModel):
    """A patient's rating of a doctor, one per completed consultation."""

    id = id_field("rev")
    doctor = doctor_ref("doctor_id", related_name="reviews_received")
    patient = patient_ref("patient_id", related_name="reviews_written")
    consultation = models.OneToOneField(
        "consultations.Consultation",
        on_delete=models.PROTECT,
        db_column="consultation_id",
        related_name="review",
    )
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True, max_length=2000)
    is_visible = models.BooleanField(default=True)
    is_verified = models.BooleanField(default=True, help_text="Written after a completed consultation.")
    hidden_reason = models.CharField(max_length=300, blank=True)
    moderated_by = ref("accounts.User", "moderated_by", null=True, blank=True, related_name="+")
    moderated_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "doctor_reviews"
        ordering = ["-created_at"]
        indexes = [
            # "Calculate doctor rating" and a doctor's page: doctor_id + is_visible.
            models.Index(fields=["doctor", "is_visible", "created_at"], name="rev_doctor_visible_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="rev_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ for {self.doctor_id}"


class DocumentKind(models.TextChoices):
    REGISTRATION = "registration", "Registration certificate"
    DEGREE = "degree", "Degree certificate"
    IDENTITY = "identity", "Proof of identity"
    OTHER = "other", "Other"


def document_path(instance: DoctorDocument, filename: str) -> str:
    # A random name under the doctor's folder; the name they gave is kept in a column.
    return f"doctors/documents/{instance.doctor_id}/{instance.id}"


class DoctorDocument(SoftDeleteModel, TimeStampedModel):
    """A document a doctor uploads for verification. Private: staff and the doctor only."""

    id = id_field("ddoc")
    doctor = doctor_ref("doctor_id", related_name="verification_documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices, default=DocumentKind.REGISTRATION)
    file = models.FileField(upload_to=document_path, max_length=255)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, help_text="Sniffed from the bytes, not the name.")
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        db_table = "doctor_documents"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["doctor", "created_at"], name="ddoc_doctor_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_filename}"


class ActiveDoctor(models.Model):
    """Read-only model over the `active_doctors` view: verified, active, not deleted."""

    id = models.CharField(primary_key=True, max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_column="user_id", related_name="+"
    )
    full_name = models.CharField(max_length=150)
    gender = models.CharField(max_length=12)
    qualifications = models.JSONField()
    specializations = models.JSONField()
    languages = models.JSONField()
    experience_years = models.PositiveSmallIntegerField()
    photo = models.ImageField()
    consultation_fee = models.DecimalField(max_digits=10, decimal_places=2)
    follow_up_fee = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    consultation_modes = models.JSONField()
    clinic_name = models.CharField(max_length=150)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    timezone = models.CharField(max_length=64)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2)
    rating_count = models.PositiveIntegerField()
    verified_at = models.DateTimeField(null=True)
    postal_code = models.CharField(max_length=12)
    next_available_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "active_doctors"
        ordering = ["-rating_avg", "full_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def specialization_labels(self) -> list[str]:
        return [schemas.SPECIALIZATIONS.get(slug, slug) for slug in self.specializations]
