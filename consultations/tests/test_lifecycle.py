"""The consultation state machine: every status × status × role, and the time rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AdminLog, Notification
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory, StaffUserFactory
from consultations import lifecycle
from consultations.lifecycle import IllegalTransition, NotAllowed, NotYet, ReasonRequired
from consultations.models import Consultation, Status
from consultations.services import consultation_transition
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db

ROLES = ["patient", "doctor", "staff", "outsider_patient", "outsider_doctor"]
# The table, written out again by hand: a change to lifecycle.TRANSITIONS must
# be a deliberate change here too.
LEGAL = {
    ("requested", "scheduled"): {"doctor"},
    ("requested", "cancelled"): {"patient", "doctor", "staff"},
    ("scheduled", "in_progress"): {"doctor"},
    ("scheduled", "cancelled"): {"patient", "doctor", "staff"},
    ("scheduled", "no_show"): {"doctor"},
    ("in_progress", "completed"): {"doctor"},
}
STAMPS = {
    "scheduled": (),
    "cancelled": ("cancelled_at",),
    "in_progress": ("started_at",),
    "no_show": ("ended_at",),
    "completed": ("ended_at",),
}
TIME_FIELDS = ("started_at", "ended_at", "cancelled_at")

SCHEDULED_AT = timezone.now().replace(microsecond=0) + timedelta(days=2)
# Late enough for every time rule (start from -10 min, no-show from +15 min).
NOW = SCHEDULED_AT + timedelta(minutes=20)


def _consultation(status: str) -> Consultation:
    extra = {}
    if status in ("in_progress", "completed"):
        extra["started_at"] = SCHEDULED_AT
    if status == "completed":
        extra["ended_at"] = SCHEDULED_AT + timedelta(minutes=15)
    return ConsultationFactory(status=status, scheduled_at=SCHEDULED_AT, **extra)


def _person(role: str, consultation: Consultation):
    return {
        "patient": lambda: consultation.patient,
        "doctor": lambda: consultation.doctor,
        "staff": StaffUserFactory,
        "outsider_patient": PatientUserFactory,
        "outsider_doctor": DoctorUserFactory,
    }[role]()


def _snapshot(consultation: Consultation) -> dict:
    row = Consultation.objects.values("status", *TIME_FIELDS, "cancelled_by", "cancellation_reason", "updated_at").get(
        pk=consultation.pk
    )
    return row


def test_the_table_in_the_code_is_the_table_in_the_spec():
    assert {key: set(t.by) for key, t in lifecycle.TRANSITIONS.items()} == LEGAL
    assert {key: t.stamps for key, t in lifecycle.TRANSITIONS.items()} == {key: STAMPS[key[1]] for key in LEGAL}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", Status.values)
@pytest.mark.parametrize("source", Status.values)
def test_each_transition_succeeds_only_for_its_people_and_otherwise_changes_nothing(source, target, role):
    consultation = _consultation(source)
    person = _person(role, consultation)
    before = _snapshot(consultation)
    logs, notes = AdminLog.objects.count(), Notification.objects.count()
    allowed = LEGAL.get((source, target))

    if allowed is None or role not in allowed:
        expected = IllegalTransition if allowed is None else NotAllowed
        with pytest.raises(expected) as error:
            consultation_transition(consultation=consultation, to=target, by=person, reason="Travelling", now=NOW)
        if expected is IllegalTransition:
            assert (error.value.source, error.value.target) == (source, target)
            assert f"A consultation that is {Status(source).label.lower()} cannot" in error.value.messages[0]
        assert _snapshot(consultation) == before
        assert (AdminLog.objects.count(), Notification.objects.count()) == (logs, notes)
        return

    consultation_transition(consultation=consultation, to=target, by=person, reason="Travelling", now=NOW)
    after = _snapshot(consultation)
    assert after["status"] == target
    for field in TIME_FIELDS:
        if field in STAMPS[target]:
            assert after[field] == NOW
        else:
            assert after[field] == before[field]
    if target == "cancelled":
        assert after["cancelled_by"] == person.pk
        assert after["cancellation_reason"] == "Travelling"
    assert consultation.status == target  # the caller's object is updated too
    log = AdminLog.objects.latest("created_at")
    assert (log.user, log.record_id, log.old_values, log.new_values["status"]) == (
        person,
        consultation.pk,
        {"status": source},
        target,
    )


def test_the_doctor_can_start_ten_minutes_early_but_not_eleven():
    consultation = _consultation("scheduled")
    with pytest.raises(NotYet):
        consultation_transition(
            consultation=consultation,
            to="in_progress",
            by=consultation.doctor,
            now=SCHEDULED_AT - timedelta(minutes=11),
        )
    assert Consultation.objects.get(pk=consultation.pk).started_at is None

    early = SCHEDULED_AT - timedelta(minutes=10)
    consultation_transition(consultation=consultation, to="in_progress", by=consultation.doctor, now=early)
    assert Consultation.objects.get(pk=consultation.pk).started_at == early


def test_a_no_show_can_be_marked_only_fifteen_minutes_after_the_start():
    consultation = _consultation("scheduled")
    with pytest.raises(NotYet):
        consultation_transition(
            consultation=consultation,
            to="no_show",
            by=consultation.doctor,
            now=SCHEDULED_AT + timedelta(minutes=14),
        )
    assert Consultation.objects.get(pk=consultation.pk).status == "scheduled"

    consultation_transition(
        consultation=consultation, to="no_show", by=consultation.doctor, now=SCHEDULED_AT + timedelta(minutes=15)
    )
    assert Consultation.objects.get(pk=consultation.pk).status == "no_show"


def test_cancelling_a_scheduled_consultation_needs_a_reason():
    consultation = _consultation("scheduled")
    with pytest.raises(ReasonRequired):
        consultation_transition(consultation=consultation, to="cancelled", by=consultation.patient, reason="  ")
    assert Consultation.objects.get(pk=consultation.pk).status == "scheduled"


def test_cancelling_a_request_needs_no_reason():
    consultation = _consultation("requested")
    consultation_transition(consultation=consultation, to="cancelled", by=consultation.patient)
    assert Consultation.objects.get(pk=consultation.pk).status == "cancelled"


def test_a_cancellation_by_the_patient_notifies_the_doctor_only():
    consultation = _consultation("scheduled")
    consultation_transition(consultation=consultation, to="cancelled", by=consultation.patient, reason="Fever gone")
    notes = list(Notification.objects.values_list("user", "kind", "body"))
    assert notes == [(consultation.doctor_id, "consultation_cancelled", "Fever gone")]


def test_a_cancellation_by_staff_notifies_both_patient_and_doctor():
    consultation = _consultation("scheduled")
    consultation_transition(consultation=consultation, to="cancelled", by=StaffUserFactory(), reason="Doctor ill")
    assert set(Notification.objects.values_list("user", "kind")) == {
        (consultation.patient_id, "consultation_cancelled"),
        (consultation.doctor_id, "consultation_cancelled"),
    }


def test_accepting_a_request_tells_the_patient_it_is_booked():
    consultation = _consultation("requested")
    consultation_transition(consultation=consultation, to="scheduled", by=consultation.doctor)
    assert list(Notification.objects.values_list("user", "kind")) == [(consultation.patient_id, "consultation_booked")]


@pytest.mark.parametrize(
    ("source", "target", "title"),
    [
        ("scheduled", "in_progress", "Your doctor has started the consultation"),
        ("in_progress", "completed", "Your consultation is complete"),
        ("scheduled", "no_show", "You missed your consultation"),
    ],
)
def test_starting_completing_and_no_shows_tell_the_patient(source, target, title):
    consultation = _consultation(source)
    consultation_transition(
        consultation=consultation, to=target, by=consultation.doctor, now=consultation.scheduled_at + timedelta(hours=1)
    )
    notice = Notification.objects.get()
    assert (notice.user_id, notice.kind, notice.title) == (consultation.patient_id, "consultation_progress", title)
    assert notice.deeplink == f"/consultations/{consultation.pk}/"


def test_a_cancellation_moves_the_doctors_next_available_slot_earlier():
    profile = DoctorProfileFactory()
    consultation = ConsultationFactory(doctor=profile.user, status="scheduled", scheduled_at=SCHEDULED_AT)
    profile.next_available_at = SCHEDULED_AT + timedelta(days=5)
    profile.save(update_fields=["next_available_at"])

    consultation_transition(consultation=consultation, to="cancelled", by=consultation.patient, reason="Better")

    profile.refresh_from_db()
    assert profile.next_available_at is not None
    assert profile.next_available_at < SCHEDULED_AT + timedelta(days=5)
