"""consultation_book: who may book what, the slot rules, and what a booking writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AdminLog, Notification
from accounts.tests.factories import PatientUserFactory
from consultations.models import Consultation
from consultations.services import (
    DOCTOR_UNAVAILABLE,
    FORM_FILLING_GRACE,
    PATIENT_EMAIL_UNVERIFIED,
    PATIENT_ROLE_REQUIRED,
    SLOT_NOT_OFFERED,
    SLOT_TAKEN,
    BookingError,
    DoctorUnavailable,
    ModeNotOffered,
    PatientNotEligible,
    SlotNotOffered,
    SlotTaken,
    consultation_book,
    consultation_transition,
)
from consultations.tests.factories import ConsultationFactory
from doctors.models import DoctorProfile
from doctors.tests.factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db

# Monday 7 January 2030, 05:30 in Kolkata. The factory doctor works 10:00–13:00
# and 17:00–20:00 IST on weekdays in 20-minute slots with 5 minutes between.
NOW = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)
TEN_AM = datetime(2030, 1, 7, 4, 30, tzinfo=UTC)  # 10:00 IST
SLOT = timedelta(minutes=25)


@pytest.fixture
def profile() -> DoctorProfile:
    return DoctorProfileFactory(consultation_fee=Decimal("650.00"))


@pytest.fixture
def patient():
    return PatientUserFactory()


def _book(patient, profile, **overrides) -> Consultation:
    kwargs = {
        "patient": patient,
        "doctor_profile": profile,
        "mode": "video",
        "slot_start": TEN_AM,
        "chief_complaint": "Eczema on both hands",
        "now": NOW,
    }
    return consultation_book(**(kwargs | overrides))


def _nothing_written() -> bool:
    return not (Consultation.objects.exists() or AdminLog.objects.exists() or Notification.objects.exists())


def test_booking_a_free_slot_schedules_a_consultation_with_payment_pending(patient, profile):
    consultation = _book(patient, profile, symptoms={"chief_complaint": "Eczema", "source": "patient"})

    consultation.refresh_from_db()
    assert consultation.patient == patient
    assert consultation.doctor == profile.user
    assert (consultation.status, consultation.mode) == ("scheduled", "video")
    assert consultation.scheduled_at == TEN_AM
    assert consultation.duration_minutes == 20
    assert (consultation.fee_amount, consultation.currency) == (Decimal("650.00"), "INR")
    assert consultation.payment_status == "pending"
    assert consultation.symptoms == {"chief_complaint": "Eczema", "source": "patient"}


def test_booking_writes_an_audit_row_and_notifies_doctor_and_patient(patient, profile):
    consultation = _book(patient, profile)

    log = AdminLog.objects.get()
    assert (log.user, log.action, log.table_name) == (patient, "create", "consultations")
    assert log.record_id == consultation.pk
    assert set(Notification.objects.values_list("user", "kind")) == {
        (profile.user_id, "consultation_booked"),
        (patient.pk, "consultation_booked"),
    }


def test_booking_moves_the_doctors_next_available_slot_past_the_booked_one(patient, profile):
    _book(patient, profile)
    profile.refresh_from_db()
    assert profile.next_available_at == TEN_AM + SLOT


def test_a_patient_with_an_unverified_email_cannot_book(profile):
    with pytest.raises(PatientNotEligible, match=PATIENT_EMAIL_UNVERIFIED):
        _book(PatientUserFactory(email_verified=False), profile)
    assert _nothing_written()


def test_a_doctor_account_cannot_book_as_a_patient(profile):
    with pytest.raises(PatientNotEligible, match=PATIENT_ROLE_REQUIRED):
        _book(DoctorProfileFactory().user, profile)
    assert _nothing_written()


@pytest.mark.parametrize("status", ["draft", "pending", "rejected"])
def test_a_doctor_who_is_not_verified_cannot_be_booked(patient, status):
    profile = DoctorProfileFactory(verification_status=status)
    with pytest.raises(DoctorUnavailable, match=DOCTOR_UNAVAILABLE):
        _book(patient, profile)
    assert _nothing_written()


def test_an_inactive_doctor_cannot_be_booked(patient, profile):
    profile.user.is_active = False
    profile.user.save(update_fields=["is_active"])
    with pytest.raises(DoctorUnavailable):
        _book(patient, profile)
    assert _nothing_written()


def test_a_deleted_doctor_profile_cannot_be_booked(patient, profile):
    profile.soft_delete()
    with pytest.raises(DoctorUnavailable):
        _book(patient, profile)
    assert _nothing_written()


def test_a_mode_the_doctor_does_not_offer_is_refused(patient, profile):
    with pytest.raises(ModeNotOffered, match="does not offer audio consultations"):
        _book(patient, profile, mode="audio")
    assert _nothing_written()


@pytest.mark.parametrize(
    "slot_start",
    [
        TEN_AM + timedelta(minutes=5),  # between slot starts
        TEN_AM + timedelta(hours=4),  # 14:00 IST, the lunch break
        TEN_AM - timedelta(days=2),  # Saturday, a day off
        TEN_AM - timedelta(days=7),  # last week
    ],
    ids=["between-slots", "lunch-break", "day-off", "in-the-past"],
)
def test_a_time_that_is_not_a_bookable_slot_is_refused(patient, profile, slot_start):
    with pytest.raises(SlotNotOffered, match=SLOT_NOT_OFFERED):
        _book(patient, profile, slot_start=slot_start)
    assert _nothing_written()


def test_a_slot_inside_the_minimum_notice_is_refused_as_too_soon(patient, profile):
    with pytest.raises(SlotNotOffered, match="60 minutes' notice") as error:
        _book(patient, profile, now=TEN_AM - timedelta(minutes=30))
    assert error.value.code == "slot_too_soon"
    assert _nothing_written()


def test_a_slot_shown_on_the_page_stays_bookable_while_the_form_is_filled_in(patient, profile):
    # Shown at 08:59 IST with 61 minutes' notice, submitted at 09:10 with 50:
    # inside the form-filling grace, so it is kept.
    submitted = TEN_AM - timedelta(minutes=60) + FORM_FILLING_GRACE - timedelta(minutes=5)
    booking = _book(patient, profile, now=submitted)
    assert booking.scheduled_at == TEN_AM


def test_booking_a_taken_slot_raises_slot_taken_with_the_next_three_free_slots(patient, profile):
    ConsultationFactory(doctor=profile.user, scheduled_at=TEN_AM, duration_minutes=20, status="scheduled")
    # 10:25 is taken too, so it is skipped.
    ConsultationFactory(doctor=profile.user, scheduled_at=TEN_AM + SLOT, duration_minutes=20, status="requested")

    with pytest.raises(SlotTaken, match=SLOT_TAKEN) as error:
        _book(patient, profile)

    assert [slot.start for slot in error.value.next_slots] == [TEN_AM + SLOT * n for n in (2, 3, 4)]
    assert isinstance(error.value, BookingError)
    assert Consultation.objects.filter(patient=patient).count() == 0


def test_a_longer_booking_that_runs_into_the_slot_takes_it(patient, profile):
    ConsultationFactory(
        doctor=profile.user, scheduled_at=TEN_AM - timedelta(minutes=30), duration_minutes=40, status="in_progress"
    )
    with pytest.raises(SlotTaken):
        _book(patient, profile)


def test_a_cancelled_or_finished_consultation_does_not_hold_its_slot(patient, profile):
    for status in ("cancelled", "completed", "no_show"):
        ConsultationFactory(doctor=profile.user, scheduled_at=TEN_AM, status=status)
    assert _book(patient, profile).scheduled_at == TEN_AM


def test_cancelling_a_booking_frees_its_slot_for_someone_else(patient, profile):
    first = _book(patient, profile)
    with pytest.raises(SlotTaken):
        _book(PatientUserFactory(), profile)

    consultation_transition(consultation=first, to="cancelled", by=patient, reason="Feeling better", now=NOW)
    second = _book(PatientUserFactory(), profile)

    assert second.scheduled_at == TEN_AM
    assert Consultation.objects.filter(scheduled_at=TEN_AM, status="scheduled").get() == second
    profile.refresh_from_db()
    assert profile.next_available_at == TEN_AM + SLOT


def test_another_doctors_booking_at_the_same_time_does_not_matter(patient, profile):
    ConsultationFactory(scheduled_at=TEN_AM, status="scheduled")
    assert _book(patient, profile).status == "scheduled"


def test_symptoms_that_break_the_schema_are_refused_and_nothing_is_written(patient, profile):
    with pytest.raises(ValidationError):
        _book(patient, profile, symptoms={"favourite_colour": "blue"})
    assert _nothing_written()
