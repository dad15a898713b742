"""The waiting room: the page each party sees, and the presence heartbeat its
script sends (POST, CSRF, JSON)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consultations.models import Consultation
from consultations.services import PRESENCE_WINDOW, WAITING_ROOM_CLOSED
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def doctor():
    return DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


def booking(doctor, patient, starts_in=timedelta(minutes=5), **fields) -> Consultation:
    fields.setdefault("mode", "video")
    return ConsultationFactory(doctor=doctor, patient=patient, scheduled_at=timezone.now() + starts_in, **fields)


def room_url(consultation: Consultation) -> str:
    return reverse("consultations:waiting_room", args=[consultation.pk])


def presence_url(consultation: Consultation) -> str:
    return reverse("consultations:presence", args=[consultation.pk])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the page -------------------------------------------------------------------------------


def test_the_patient_waits_for_the_doctor(patient, doctor):
    consultation = booking(doctor, patient)
    response = signed_in(patient).get(room_url(consultation))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-live="polite" data-presence>Dr. Asha Kulkarni has not joined yet.' in html
    assert 'data-role="patient"' in html
    assert f'data-presence-url="{presence_url(consultation)}"' in html
    assert "Let the doctor know I'm here" in html
    assert "Admit and start" not in html
    assert 'src="/static/js/waiting-room.js"' in html


def test_the_patient_sees_when_the_doctor_has_joined(patient, doctor):
    consultation = booking(doctor, patient, doctor_joined_at=timezone.now() - timedelta(seconds=10))
    html = signed_in(patient).get(room_url(consultation)).content.decode()
    assert "Dr. Asha Kulkarni has joined and will admit you shortly." in html


def test_before_the_room_opens_the_patient_is_told_when_it_will(patient, doctor):
    consultation = booking(doctor, patient, starts_in=timedelta(minutes=30))
    html = signed_in(patient).get(room_url(consultation)).content.decode()
    assert "data-not-open" in html
    assert f"{settings.WAITING_ROOM_OPENS_MINUTES} minutes before your consultation" in html


def test_the_doctor_sees_whether_the_patient_is_waiting_and_can_admit(patient, doctor):
    consultation = booking(doctor, patient, patient_joined_at=timezone.now() - timedelta(seconds=5))
    html = signed_in(doctor).get(room_url(consultation)).content.decode()
    assert "Meera Iyer is waiting." in html
    assert "Admit and start" in html
    assert f'action="{reverse("consultations:transition", args=[consultation.pk])}"' in html
    assert 'name="to" value="in_progress"' in html
    assert "disabled" not in html.split("data-admit")[1].split(">")[0]


def test_too_early_the_doctors_admit_button_waits_with_the_time(patient, doctor):
    consultation = booking(doctor, patient, starts_in=timedelta(hours=1))
    html = signed_in(doctor).get(room_url(consultation)).content.decode()
    assert "Meera Iyer has not arrived yet." in html
    assert 'data-admit disabled aria-describedby="admit-hint"' in html
    assert "You can start from" in html


def test_once_started_the_patient_is_told_they_are_admitted(patient, doctor):
    consultation = booking(doctor, patient, status="in_progress", started_at=timezone.now())
    html = signed_in(patient).get(room_url(consultation)).content.decode()
    assert "Dr. Asha Kulkarni has admitted you." in html
    assert "data-admitted hidden" not in html
    assert reverse("consultations:detail", args=[consultation.pk]) + "#room" in html


def test_an_in_person_consultation_has_no_waiting_room(patient, doctor):
    consultation = booking(doctor, patient, mode="in_person")
    assert signed_in(patient).get(room_url(consultation)).status_code == 404
    assert signed_in(patient).post(presence_url(consultation), **JSON).status_code == 404


def test_a_finished_consultations_waiting_room_sends_to_its_page(patient, doctor):
    consultation = booking(doctor, patient, status="completed", started_at=timezone.now(), ended_at=timezone.now())
    response = signed_in(patient).get(room_url(consultation), follow=True)
    assert response.redirect_chain[-1][0] == reverse("consultations:detail", args=[consultation.pk])
    assert "This consultation is completed: the waiting room is closed." in [
        str(m) for m in response.context["messages"]
    ]


def test_the_waiting_room_page_costs_a_fixed_number_of_queries(patient, doctor, django_assert_num_queries):
    consultation = booking(doctor, patient)
    client = signed_in(patient)
    client.get(room_url(consultation))
    # session, user, the consultation with both profiles; the header's unread count and name.
    with django_assert_num_queries(5):
        client.get(room_url(consultation))


# --- presence --------------------------------------------------------------------------------


def test_the_patient_cannot_join_before_the_window_and_is_told_why(patient, doctor):
    consultation = booking(doctor, patient, starts_in=timedelta(minutes=30))
    response = signed_in(patient).post(presence_url(consultation), **JSON)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == WAITING_ROOM_CLOSED.format(minutes=settings.WAITING_ROOM_OPENS_MINUTES)
    assert body["opens_at"] == (consultation.scheduled_at - timedelta(minutes=10)).isoformat()
    assert Consultation.objects.get(pk=consultation.pk).patient_joined_at is None


def test_the_patient_joins_in_the_window_and_sees_the_doctor_absent(patient, doctor):
    consultation = booking(doctor, patient)
    response = signed_in(patient).post(presence_url(consultation), **JSON)
    assert response.status_code == 200
    assert response.json() == {
        "status": "scheduled",
        "status_label": "Scheduled",
        "doctor_present": False,
        "patient_present": True,
        "detail_url": reverse("consultations:detail", args=[consultation.pk]),
    }
    assert Consultation.objects.get(pk=consultation.pk).patient_joined_at is not None


@pytest.mark.parametrize(
    ("seconds_ago", "present"),
    [(10, True), (PRESENCE_WINDOW.total_seconds() - 5, True), (PRESENCE_WINDOW.total_seconds() + 1, False)],
    ids=["just-now", "within-45s", "after-45s"],
)
def test_the_doctor_is_present_for_45_seconds_after_their_last_heartbeat(patient, doctor, seconds_ago, present):
    consultation = booking(doctor, patient, doctor_joined_at=timezone.now() - timedelta(seconds=seconds_ago))
    body = signed_in(patient).post(presence_url(consultation), **JSON).json()
    assert body["doctor_present"] is present


def test_the_doctor_can_wait_before_the_patients_window_and_sees_them_arrive(patient, doctor):
    consultation = booking(doctor, patient, starts_in=timedelta(minutes=30))
    client = signed_in(doctor)
    assert client.post(presence_url(consultation), **JSON).json()["patient_present"] is False
    Consultation.objects.filter(pk=consultation.pk).update(patient_joined_at=timezone.now())
    body = client.post(presence_url(consultation), **JSON).json()
    assert (body["patient_present"], body["doctor_present"]) == (True, True)


def test_once_admitted_the_answer_points_to_the_room(patient, doctor):
    consultation = booking(doctor, patient, status="in_progress", started_at=timezone.now())
    body = signed_in(patient).post(presence_url(consultation), **JSON).json()
    assert body["status"] == "in_progress"
    assert body["room_url"] == reverse("consultations:detail", args=[consultation.pk]) + "#room"


def test_a_cancelled_consultation_is_reported_without_joining(patient, doctor):
    consultation = booking(doctor, patient, status="cancelled", cancellation_reason="Unwell")
    response = signed_in(patient).post(presence_url(consultation), **JSON)
    assert response.status_code == 200
    assert response.json()["message"] == "This consultation is cancelled."
    assert Consultation.objects.get(pk=consultation.pk).patient_joined_at is None


def test_presence_answers_only_post(patient, doctor):
    consultation = booking(doctor, patient)
    assert signed_in(patient).get(presence_url(consultation)).status_code == 405


def test_presence_without_the_csrf_token_is_refused(patient, doctor):
    consultation = booking(doctor, patient)
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)
    assert client.post(presence_url(consultation), **JSON).status_code == 403
    assert Consultation.objects.get(pk=consultation.pk).patient_joined_at is None


def test_without_javascript_the_button_records_presence_and_returns_to_the_room(patient, doctor):
    consultation = booking(doctor, patient)
    response = signed_in(patient).post(presence_url(consultation), follow=True)
    assert response.redirect_chain[-1][0] == room_url(consultation)
    assert "Your doctor can see that you are here." in [str(m) for m in response.context["messages"]]
    assert Consultation.objects.get(pk=consultation.pk).patient_joined_at is not None


def test_admit_and_start_from_the_waiting_room(patient, doctor):
    consultation = booking(doctor, patient, patient_joined_at=timezone.now())
    response = signed_in(doctor).post(
        reverse("consultations:transition", args=[consultation.pk]),
        {"to": "in_progress", "next": room_url(consultation)},
    )
    assert response["Location"] == reverse("consultations:detail", args=[consultation.pk]) + "#room"
    assert Consultation.objects.get(pk=consultation.pk).status == "in_progress"
    # The patient's next heartbeat hears of it.
    assert signed_in(patient).post(presence_url(consultation), **JSON).json()["status"] == "in_progress"
