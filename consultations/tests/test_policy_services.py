"""The business rules around a booking: follow-up pricing, what a cancellation
refunds (the policy in settings), moving a booking, and waiting-room presence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import AdminLog, Notification
from accounts.tests.factories import PatientUserFactory, StaffUserFactory
from consultations import policies
from consultations.models import Consultation
from consultations.services import (
    FollowUpNotAvailable,
    PaymentChoiceRefused,
    SlotNotOffered,
    SlotTaken,
    WaitingRoomClosed,
    consultation_book,
    consultation_join,
    consultation_reschedule,
    consultation_transition,
    follow_up_options,
    is_present,
)
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db

# Monday 7 January 2030, 05:30 IST. The factory doctor works 10:00–13:00 and
# 17:00–20:00 IST on weekdays, 20-minute slots with 5 minutes between.
NOW = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)
TEN_AM = datetime(2030, 1, 7, 4, 30, tzinfo=UTC)  # Mon 10:00 IST
SLOT = timedelta(minutes=25)
DAY = timedelta(days=1)


@pytest.fixture
def profile():
    return DoctorProfileFactory(
        consultation_fee=Decimal("600.00"),
        follow_up_fee=Decimal("200.00"),
        follow_up_window_days=14,
        follow_up_visits=2,
        consultation_modes=["video", "in_person"],
    )


@pytest.fixture
def patient():
    return PatientUserFactory()


def _book(patient, profile, **overrides) -> Consultation:
    kwargs = {
        "patient": patient,
        "doctor_profile": profile,
        "mode": "video",
        "slot_start": TEN_AM,
        "chief_complaint": "Eczema",
        "now": NOW,
    }
    return consultation_book(**(kwargs | overrides))


def _completed(patient, profile, *, ended: datetime, **kwargs) -> Consultation:
    return ConsultationFactory(
        patient=patient,
        doctor=profile.user,
        status="completed",
        scheduled_at=ended - timedelta(minutes=20),
        started_at=ended - timedelta(minutes=20),
        ended_at=ended,
        payment_status="paid",
        **kwargs,
    )


# --- follow-ups ------------------------------------------------------------------


def test_a_follow_up_inside_the_window_costs_the_follow_up_fee_and_links_the_original(patient, profile):
    original = _completed(patient, profile, ended=NOW - 3 * DAY)

    follow_up = _book(patient, profile, follow_up_of=original)

    follow_up.refresh_from_db()
    assert follow_up.follow_up_of == original
    assert (follow_up.fee_amount, follow_up.payment_status) == (Decimal("200.00"), "pending")
    assert AdminLog.objects.get(record_id=follow_up.pk).new_values["follow_up_of"] == original.pk


def test_a_free_follow_up_needs_no_payment(patient, profile):
    profile.follow_up_fee = Decimal("0")
    profile.save()
    original = _completed(patient, profile, ended=NOW - DAY)

    follow_up = _book(patient, profile, follow_up_of=original)

    assert (follow_up.fee_amount, follow_up.payment_status) == (Decimal("0"), "not_required")
    assert "No payment is needed." in Notification.objects.get(user=patient).body


def test_a_follow_up_after_the_window_is_refused_and_nothing_is_written(patient, profile):
    original = _completed(patient, profile, ended=NOW - 20 * DAY)

    with pytest.raises(FollowUpNotAvailable, match="follow-up period of that consultation ended"):
        _book(patient, profile, follow_up_of=original)

    assert Consultation.objects.count() == 1


def test_the_window_is_judged_at_the_follow_up_slot_not_at_booking_time(patient, profile):
    # Ended 13 days ago: the 14-day window covers today's slot, not next Monday's.
    original = _completed(patient, profile, ended=NOW - timedelta(days=13))

    with pytest.raises(FollowUpNotAvailable):
        _book(patient, profile, follow_up_of=original, slot_start=TEN_AM + 7 * DAY)
    assert _book(patient, profile, follow_up_of=original, slot_start=TEN_AM).follow_up_of == original


def test_follow_up_visits_are_counted_and_a_cancelled_one_gives_its_visit_back(patient, profile):
    original = _completed(patient, profile, ended=NOW - DAY)
    first = _book(patient, profile, follow_up_of=original)
    _book(patient, profile, follow_up_of=original, slot_start=TEN_AM + SLOT)

    with pytest.raises(FollowUpNotAvailable, match="All 2 follow-up visits"):
        _book(patient, profile, follow_up_of=original, slot_start=TEN_AM + 2 * SLOT)

    consultation_transition(consultation=first, to="cancelled", by=patient, reason="Feeling better", now=NOW)
    assert _book(patient, profile, follow_up_of=original, slot_start=TEN_AM + 2 * SLOT).follow_up_of == original


@pytest.mark.parametrize(
    "case",
    ["another_patient", "another_doctor", "not_completed", "a_follow_up_itself", "doctor_offers_none"],
)
def test_only_a_completed_first_consultation_of_the_same_pair_can_be_followed_up(case, patient, profile):
    original = _completed(patient, profile, ended=NOW - DAY)
    if case == "another_patient":
        original.patient = PatientUserFactory()
    elif case == "another_doctor":
        original.doctor = DoctorProfileFactory().user
    elif case == "not_completed":
        original.status, original.ended_at = "cancelled", None
    elif case == "a_follow_up_itself":
        original.follow_up_of = _completed(patient, profile, ended=NOW - 2 * DAY)
    else:
        profile.follow_up_window_days = 0
        profile.save()
    original.save()

    with pytest.raises(FollowUpNotAvailable):
        _book(patient, profile, follow_up_of=original)


def test_follow_up_options_list_what_can_still_be_followed_up(patient, profile):
    recent = _completed(patient, profile, ended=NOW - DAY)
    _completed(patient, profile, ended=NOW - 30 * DAY)  # window over
    used_up = _completed(patient, profile, ended=NOW - 2 * DAY)
    for _ in range(2):
        ConsultationFactory(patient=patient, doctor=profile.user, follow_up_of=used_up, status="scheduled")
    _completed(PatientUserFactory(), profile, ended=NOW - DAY)  # someone else's

    assert follow_up_options(patient=patient, profile=profile, now=NOW) == [recent]


def test_pay_at_clinic_is_only_for_in_person_visits(patient, profile):
    with pytest.raises(PaymentChoiceRefused):
        _book(patient, profile, pay_at_clinic=True)

    in_person = _book(patient, profile, mode="in_person", pay_at_clinic=True)
    assert (in_person.payment_method, in_person.payment_status) == ("pay_at_clinic", "pending")


# --- cancellation and refunds -----------------------------------------------------


def _paid(patient, profile, *, starts: datetime) -> Consultation:
    return ConsultationFactory(
        patient=patient,
        doctor=profile.user,
        scheduled_at=starts,
        fee_amount=Decimal("600.00"),
        payment_status="paid",
        payment_method="offline",
        payment_reference="RCPT-1",
        paid_at=NOW - DAY,
    )


@pytest.mark.parametrize(
    ("hours_before", "refund"),
    [(72, Decimal("600.00")), (24, Decimal("600.00")), (23, Decimal("300.00")), (1, Decimal("300.00"))],
)
def test_a_patient_cancelling_late_gets_the_late_percentage_back(hours_before, refund, patient, profile):
    consultation = _paid(patient, profile, starts=NOW + timedelta(hours=hours_before))

    consultation_transition(consultation=consultation, to="cancelled", by=patient, reason="Travelling", now=NOW)

    consultation.refresh_from_db()
    assert (consultation.payment_status, consultation.refund_amount) == ("refund_pending", refund)
    log = AdminLog.objects.filter(record_id=consultation.pk).latest("created_at")
    assert log.new_values["refund_amount"] == str(refund)


def test_the_policy_numbers_come_from_settings(settings, patient, profile):
    settings.CANCEL_FULL_REFUND_HOURS = 48
    settings.CANCEL_LATE_REFUND_PERCENT = 0
    consultation = _paid(patient, profile, starts=NOW + timedelta(hours=30))

    assert policies.refund_due(consultation, "patient", NOW) == Decimal("0")
    assert "not refunded" in policies.refund_summary(consultation, "patient", NOW)

    consultation_transition(consultation=consultation, to="cancelled", by=patient, reason="Travelling", now=NOW)
    consultation.refresh_from_db()
    # Nothing to give back: the payment stays as paid, the consultation is cancelled.
    assert (consultation.status, consultation.payment_status, consultation.refund_amount) == (
        "cancelled",
        "paid",
        Decimal("0"),
    )


@pytest.mark.parametrize("who", ["doctor", "staff"])
def test_a_doctor_or_staff_cancellation_always_refunds_in_full(who, patient, profile):
    consultation = _paid(patient, profile, starts=NOW + timedelta(hours=1))
    by = profile.user if who == "doctor" else StaffUserFactory()

    consultation_transition(consultation=consultation, to="cancelled", by=by, reason="Doctor unwell", now=NOW)

    consultation.refresh_from_db()
    assert (consultation.payment_status, consultation.refund_amount) == ("refund_pending", Decimal("600.00"))


def test_cancelling_before_paying_leaves_nothing_owed(patient, profile):
    consultation = _book(patient, profile)

    consultation_transition(consultation=consultation, to="cancelled", by=patient, reason="Changed my mind", now=NOW)

    consultation.refresh_from_db()
    assert (consultation.payment_status, consultation.refund_amount) == ("not_required", Decimal("0"))


def test_a_cancellation_frees_the_slot_for_someone_else(patient, profile):
    consultation = _book(patient, profile)
    consultation_transition(consultation=consultation, to="cancelled", by=patient, reason="Busy", now=NOW)

    other = _book(PatientUserFactory(), profile)
    assert other.scheduled_at == TEN_AM


# --- rescheduling ------------------------------------------------------------------


def test_the_patient_moves_a_booking_and_the_doctor_is_told(patient, profile):
    consultation = _book(patient, profile)
    Notification.objects.all().delete()

    consultation_reschedule(consultation=consultation, by=patient, slot_start=TEN_AM + DAY, now=NOW)

    consultation.refresh_from_db()
    assert (consultation.scheduled_at, consultation.reschedule_count) == (TEN_AM + DAY, 1)
    notice = Notification.objects.get(user=profile.user)
    assert (notice.kind, notice.title) == ("consultation_rescheduled", "A consultation has moved to a new time")
    assert Notification.objects.get(user=patient).title == "Your consultation is moved"
    assert "Tue 08 Jan 2030, 10:00 AM" in notice.body
    log = AdminLog.objects.filter(record_id=consultation.pk).latest("created_at")
    assert log.old_values == {"scheduled_at": TEN_AM.isoformat()}
    # The old slot is free again.
    assert _book(PatientUserFactory(), profile).scheduled_at == TEN_AM


def test_moving_clears_the_reminders_and_presence_so_they_are_owed_again(patient, profile):
    consultation = _book(patient, profile)
    Consultation.objects.filter(pk=consultation.pk).update(reminder_24h_sent_at=NOW, patient_joined_at=NOW)

    consultation_reschedule(consultation=consultation, by=patient, slot_start=TEN_AM + DAY, now=NOW)

    consultation.refresh_from_db()
    assert (consultation.reminder_24h_sent_at, consultation.patient_joined_at) == (None, None)


def test_a_taken_slot_is_refused_with_alternatives_and_nothing_changes(patient, profile):
    consultation = _book(patient, profile)
    _book(PatientUserFactory(), profile, slot_start=TEN_AM + SLOT)

    with pytest.raises(SlotTaken) as caught:
        consultation_reschedule(consultation=consultation, by=patient, slot_start=TEN_AM + SLOT, now=NOW)

    assert caught.value.next_slots[0].start == TEN_AM + 2 * SLOT
    consultation.refresh_from_db()
    assert (consultation.scheduled_at, consultation.reschedule_count) == (TEN_AM, 0)


def test_moving_to_the_same_time_or_an_unoffered_time_is_refused(patient, profile):
    consultation = _book(patient, profile)

    with pytest.raises(SlotNotOffered, match="already booked"):
        consultation_reschedule(consultation=consultation, by=patient, slot_start=TEN_AM, now=NOW)
    with pytest.raises(SlotNotOffered):
        consultation_reschedule(
            consultation=consultation, by=patient, slot_start=TEN_AM + timedelta(minutes=7), now=NOW
        )


def test_a_patient_may_move_a_booking_only_so_often_and_not_too_late(settings, patient, profile):
    settings.RESCHEDULE_MAX = 1
    consultation = _book(patient, profile, slot_start=TEN_AM + DAY)
    consultation_reschedule(consultation=consultation, by=patient, slot_start=TEN_AM + 2 * DAY, now=NOW)

    with pytest.raises(policies.RescheduleRefused, match="at most 1 times"):
        consultation_reschedule(consultation=consultation, by=patient, slot_start=TEN_AM + 3 * DAY, now=NOW)
    # The doctor is not held to the patient's limit.
    consultation_reschedule(consultation=consultation, by=profile.user, slot_start=TEN_AM + 3 * DAY, now=NOW)

    soon = _book(patient, profile)  # today 10:00, 5 hours ahead
    with pytest.raises(policies.RescheduleRefused, match="up to 4 hours before"):
        consultation_reschedule(consultation=soon, by=patient, slot_start=TEN_AM + DAY, now=TEN_AM - timedelta(hours=3))


def test_someone_else_cannot_move_a_booking(patient, profile):
    consultation = _book(patient, profile)

    with pytest.raises(policies.RescheduleRefused):
        consultation_reschedule(consultation=consultation, by=PatientUserFactory(), slot_start=TEN_AM + DAY, now=NOW)
    consultation.refresh_from_db()
    assert consultation.scheduled_at == TEN_AM


def test_a_cancelled_booking_cannot_be_moved(patient, profile):
    consultation = _book(patient, profile)
    consultation_transition(consultation=consultation, to="cancelled", by=patient, reason="Busy", now=NOW)

    with pytest.raises(policies.RescheduleRefused, match="Only a scheduled"):
        consultation_reschedule(consultation=consultation, by=patient, slot_start=TEN_AM + DAY, now=NOW)


# --- waiting room presence ----------------------------------------------------------


def test_the_patient_may_join_from_ten_minutes_before_and_the_doctor_any_time(patient, profile):
    consultation = _book(patient, profile)

    with pytest.raises(WaitingRoomClosed, match="opens 10 minutes before"):
        consultation_join(consultation=consultation, user=patient, now=TEN_AM - timedelta(minutes=11))
    assert consultation_join(consultation=consultation, user=profile.user, now=TEN_AM - timedelta(hours=1)) == "doctor"
    assert consultation_join(consultation=consultation, user=patient, now=TEN_AM - timedelta(minutes=10)) == "patient"

    consultation.refresh_from_db()
    assert consultation.patient_joined_at == TEN_AM - timedelta(minutes=10)
    assert is_present(consultation.doctor_joined_at, TEN_AM - timedelta(minutes=59, seconds=20))
    assert not is_present(consultation.doctor_joined_at, TEN_AM - timedelta(minutes=58))


def test_in_person_visits_and_strangers_have_no_waiting_room(patient, profile):
    in_person = _book(patient, profile, mode="in_person")

    with pytest.raises(WaitingRoomClosed):
        consultation_join(consultation=in_person, user=patient, now=TEN_AM)
    with pytest.raises(WaitingRoomClosed, match="Only the consultation's patient and doctor"):
        consultation_join(consultation=in_person, user=PatientUserFactory(), now=TEN_AM)
