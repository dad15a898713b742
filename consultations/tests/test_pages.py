"""A consultation's page and its quick actions: what each party sees, who may
see it at all, and status changes by POST only."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminLog
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory, StaffUserFactory
from consultations.models import Consultation
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory, MessageFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory
from prescriptions.tests.factories import IssuedPrescriptionFactory, PrescriptionItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor():
    return DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


def detail_url(consultation: Consultation) -> str:
    return reverse("consultations:detail", args=[consultation.pk])


def status_url(consultation: Consultation) -> str:
    return reverse("consultations:transition", args=[consultation.pk])


def signed_in(client, user):
    """Sign in and make a first request (it writes the session's idle clock)."""
    client.force_login(user)
    client.get(reverse("consultations:dashboard"))
    return client


def text(response) -> str:
    return response.content.decode()


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- what the page shows ------------------------------------------------------------


def test_the_patient_sees_who_when_in_their_zone_mode_status_and_the_case(client, patient, doctor):
    at = timezone.now().replace(microsecond=0) + timedelta(days=2)
    consultation = ConsultationFactory(
        patient=patient,
        doctor=doctor,
        mode="video",
        scheduled_at=at,
        duration_minutes=20,
        chief_complaint="Headache for three weeks",
        symptoms={
            "complaints": [
                {
                    "description": "Headache",
                    "location": "right temple",
                    "severity": "moderate",
                    "modalities": {"better": ["pressure"], "worse": ["sun", "noise"]},
                }
            ],
            "generals": {"thirst": "thirstless", "thermal": "chilly"},
            "mentals": "irritable, wants company",
        },
    )
    patient.timezone = "Europe/London"
    patient.save(update_fields=["timezone"])

    html = text(signed_in(client, patient).get(detail_url(consultation)))

    assert "Dr. Asha Kulkarni" in html
    assert f'datetime="{at.astimezone(ZoneInfo("Europe/London")).isoformat()}"' in html
    assert "(Europe/London)" in html
    assert "Video call" in html
    assert 'data-status="scheduled"' in html
    assert "Headache for three weeks" in html
    for fact in ("right temple", "Moderate", "pressure", "sun, noise", "thirstless", "Chilly", "irritable"):
        assert fact in html


def test_the_doctor_sees_the_patients_name_and_age(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor)
    html = text(signed_in(client, doctor).get(detail_url(consultation)))
    assert "Meera Iyer" in html
    assert re.search(r"Age \d+", html)


def test_an_in_progress_online_consultation_has_the_room_placeholder(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, mode="video", status="in_progress")
    MessageFactory(consultation=consultation, sender=doctor)
    html = text(signed_in(client, patient).get(detail_url(consultation)))
    assert 'id="room"' in html
    assert "The consultation room opens here" in html
    assert "1 unread message" in html


def test_a_scheduled_consultation_has_no_room_yet(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, mode="video")
    assert 'id="room"' not in text(signed_in(client, patient).get(detail_url(consultation)))


def test_a_pending_fee_offers_the_patient_to_pay_and_the_doctor_to_record_it(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, fee_amount=Decimal("600.00"))
    patient_html = text(signed_in(client, patient).get(detail_url(consultation)))
    assert reverse("payments:pay", args=[consultation.pk]) in patient_html
    assert "please pay before your consultation" in patient_html
    doctor_html = text(signed_in(Client(), doctor).get(detail_url(consultation)))
    assert reverse("payments:record_payment", args=[consultation.pk]) in doctor_html
    assert reverse("payments:pay", args=[consultation.pk]) not in doctor_html


def test_pay_at_clinic_tells_the_patient_to_pay_there(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, mode="in_person", payment_method="pay_at_clinic")
    html = text(signed_in(client, patient).get(detail_url(consultation)))
    assert "Please pay at the clinic" in html
    assert reverse("payments:pay", args=[consultation.pk]) not in html


def test_a_cancelled_consultation_shows_who_cancelled_why_and_the_refund(client, patient, doctor):
    consultation = ConsultationFactory(
        patient=patient,
        doctor=doctor,
        status="cancelled",
        cancelled_by=doctor,
        cancelled_at=timezone.now(),
        cancellation_reason="Doctor unwell",
        payment_status="refund_pending",
        payment_method="offline",
        paid_at=timezone.now(),
        refund_amount=Decimal("500.00"),
    )
    patient_html = text(signed_in(client, patient).get(detail_url(consultation)))
    assert "The doctor cancelled" in patient_html
    assert "Doctor unwell" in patient_html
    assert "Refund pending" in patient_html
    assert "not yet returned" in patient_html
    assert "Your refund is on its way." in patient_html

    doctor_html = text(signed_in(Client(), doctor).get(detail_url(consultation)))
    assert "You cancelled" in doctor_html
    assert reverse("payments:record_refund", args=[consultation.pk]) in doctor_html


def test_a_refunded_consultation_says_when_the_money_went_back(client, patient, doctor):
    consultation = ConsultationFactory(
        patient=patient,
        doctor=doctor,
        status="cancelled",
        cancelled_by=patient,
        cancellation_reason="Travelling",
        payment_status="refunded",
        paid_at=timezone.now() - timedelta(days=3),
        refund_amount=Decimal("250.00"),
        refunded_at=timezone.now(),
    )
    html = text(signed_in(client, patient).get(detail_url(consultation)))
    assert "&#8377;250, returned" in html
    assert "The refund has been made." in html


def test_a_follow_up_links_to_the_consultation_it_follows(client, patient, doctor):
    original = ConsultationFactory(patient=patient, doctor=doctor, status="completed")
    follow_up = ConsultationFactory(patient=patient, doctor=doctor, follow_up_of=original)
    html = text(signed_in(client, patient).get(detail_url(follow_up)))
    assert re.search(rf'data-follow-up>A follow-up of <a href="{detail_url(original)}"', html)


def test_issued_prescriptions_are_listed_with_their_remedies(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, status="completed")
    rx = IssuedPrescriptionFactory(consultation=consultation)
    PrescriptionItemFactory(prescription=rx, remedy_name="Belladonna", potency_value=30, potency_scale="C")
    draft = IssuedPrescriptionFactory(consultation=consultation, status="draft", issued_at=None)
    PrescriptionItemFactory(prescription=draft, remedy_name="Secret draft remedy")
    html = text(signed_in(client, patient).get(detail_url(consultation)))
    assert "Belladonna 30C" in html
    assert "Secret draft remedy" not in html
    assert reverse("doctors:review_write", args=[consultation.pk]) in html


def test_the_doctor_gets_the_lifecycle_actions_and_the_patient_the_links(client, patient, doctor):
    consultation = ConsultationFactory(
        patient=patient, doctor=doctor, mode="video", scheduled_at=timezone.now() + timedelta(minutes=5)
    )
    doctor_html = text(signed_in(client, doctor).get(detail_url(consultation)))
    assert 'data-action="in_progress"' in doctor_html
    assert reverse("consultations:waiting_room", args=[consultation.pk]) in doctor_html
    patient_html = text(signed_in(Client(), patient).get(detail_url(consultation)))
    assert 'data-action="in_progress"' not in patient_html
    assert 'data-action="join"' in patient_html


def test_the_consultation_page_costs_the_same_for_1_prescription_as_for_8(
    client, patient, doctor, django_assert_num_queries
):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, status="completed")
    PrescriptionItemFactory(prescription=IssuedPrescriptionFactory(consultation=consultation))
    MessageFactory(consultation=consultation, sender=doctor)
    client = signed_in(client, patient)
    # session, user; the consultation (with both profiles, the review and the
    # unread count), its prescriptions, their remedies; the header's unread
    # count and the patient's name.
    with django_assert_num_queries(7):
        small = client.get(detail_url(consultation))

    for _ in range(7):
        PrescriptionItemFactory.create_batch(6, prescription=IssuedPrescriptionFactory(consultation=consultation))
    MessageFactory.create_batch(30, consultation=consultation, sender=doctor)
    with django_assert_num_queries(7):
        large = client.get(detail_url(consultation))

    assert len(small.context["page"].prescriptions) == 1
    assert len(large.context["page"].prescriptions) == 8
    assert large.context["c"].unread == 31


# --- who may see it -------------------------------------------------------------------------


OUTSIDERS = {
    "another patient": PatientUserFactory,
    "another doctor": DoctorUserFactory,
    "staff": StaffUserFactory,
}


def every_url(consultation_id: str) -> list[tuple[str, str]]:
    return [
        ("get", reverse("consultations:detail", args=[consultation_id])),
        ("get", reverse("consultations:waiting_room", args=[consultation_id])),
        ("post", reverse("consultations:presence", args=[consultation_id])),
        ("post", reverse("consultations:transition", args=[consultation_id])),
    ]


@pytest.mark.parametrize("outsider", OUTSIDERS, ids=list(OUTSIDERS))
def test_someone_elses_consultation_is_not_found_on_every_url(client, outsider):
    consultation = ConsultationFactory(mode="video", scheduled_at=timezone.now() + timedelta(minutes=5))
    before = Consultation.objects.values().get(pk=consultation.pk)
    client.force_login(OUTSIDERS[outsider]())
    for method, url in every_url(consultation.pk):
        response = getattr(client, method)(url, {"to": "in_progress"} if method == "post" else None)
        assert response.status_code == 404, (outsider, url)
    assert Consultation.objects.values().get(pk=consultation.pk) == before


def test_a_missing_consultation_gets_the_same_answer(client, patient):
    client.force_login(patient)
    for method, url in every_url("cons_00000000000000000000000000"):
        assert getattr(client, method)(url).status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in_from_every_url(client):
    consultation = ConsultationFactory(mode="video")
    for method, url in every_url(consultation.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


# --- quick actions -------------------------------------------------------------------------


def test_the_status_url_answers_only_post(client, doctor):
    consultation = ConsultationFactory(doctor=doctor)
    assert signed_in(client, doctor).get(status_url(consultation)).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(doctor):
    consultation = ConsultationFactory(doctor=doctor, status="requested")
    client = Client(enforce_csrf_checks=True)
    client.force_login(doctor)
    assert client.post(status_url(consultation), {"to": "scheduled"}).status_code == 403
    assert Consultation.objects.get(pk=consultation.pk).status == "requested"


def test_the_doctor_accepts_a_request(client, doctor, patient):
    consultation = ConsultationFactory(doctor=doctor, patient=patient, status="requested")
    response = signed_in(client, doctor).post(
        status_url(consultation), {"to": "scheduled", "next": "/dashboard/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/dashboard/"
    assert Consultation.objects.get(pk=consultation.pk).status == "scheduled"
    assert "Request accepted. The patient is told it is booked." in flashed(response)


def test_the_doctor_declines_a_request_with_a_reason(client, doctor, patient):
    consultation = ConsultationFactory(doctor=doctor, patient=patient, status="requested")
    response = signed_in(client, doctor).post(
        status_url(consultation), {"to": "cancelled", "reason": "Outside my speciality"}, follow=True
    )
    saved = Consultation.objects.get(pk=consultation.pk)
    assert (saved.status, saved.cancellation_reason, saved.cancelled_by_id) == (
        "cancelled",
        "Outside my speciality",
        doctor.pk,
    )
    assert "The request is declined. The patient is told." in flashed(response)


def test_the_doctor_starts_and_lands_in_the_room(client, doctor, patient):
    consultation = ConsultationFactory(
        doctor=doctor, patient=patient, mode="video", scheduled_at=timezone.now() + timedelta(minutes=5)
    )
    response = signed_in(client, doctor).post(status_url(consultation), {"to": "in_progress", "next": "/dashboard/"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(consultation) + "#room"
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.status == "in_progress"
    assert saved.started_at is not None


def test_the_doctor_marks_a_no_show_after_fifteen_minutes(client, doctor, patient):
    consultation = ConsultationFactory(
        doctor=doctor, patient=patient, scheduled_at=timezone.now() - timedelta(minutes=16)
    )
    response = signed_in(client, doctor).post(status_url(consultation), {"to": "no_show"}, follow=True)
    assert Consultation.objects.get(pk=consultation.pk).status == "no_show"
    assert "Marked as a no-show." in flashed(response)


def test_the_doctor_completes_a_running_consultation(client, doctor, patient):
    consultation = ConsultationFactory(
        doctor=doctor, patient=patient, status="in_progress", started_at=timezone.now() - timedelta(minutes=20)
    )
    response = signed_in(client, doctor).post(status_url(consultation), {"to": "completed"}, follow=True)
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.status == "completed"
    assert saved.ended_at is not None
    assert "The consultation is complete." in flashed(response)
    assert response.redirect_chain[-1][0] == detail_url(consultation)


ILLEGAL = [
    # (who, status, starts in, to, the lifecycle's message)
    ("doctor", "scheduled", timedelta(hours=2), "in_progress", "It is too early to start this consultation"),
    ("doctor", "scheduled", timedelta(minutes=5), "no_show", "It is too early to mark this consultation as missed"),
    ("doctor", "scheduled", timedelta(minutes=5), "completed", "is scheduled cannot be moved on like that"),
    ("doctor", "completed", -timedelta(hours=1), "in_progress", "you cannot start it now"),
    ("patient", "scheduled", timedelta(minutes=5), "in_progress", "Only the consultation's doctor can start"),
    ("patient", "requested", timedelta(days=1), "scheduled", "Only the consultation's doctor can accept"),
    ("doctor", "scheduled", timedelta(days=1), "cancelled", "Please give a reason for cancelling"),
]


@pytest.mark.parametrize(("who", "status", "starts_in", "to", "message"), ILLEGAL)
def test_a_refused_action_shows_the_lifecycles_message_and_changes_nothing(
    client, doctor, patient, who, status, starts_in, to, message
):
    consultation = ConsultationFactory(
        doctor=doctor, patient=patient, status=status, scheduled_at=timezone.now() + starts_in
    )
    before = Consultation.objects.values().get(pk=consultation.pk)
    logs = AdminLog.objects.count()
    person = doctor if who == "doctor" else patient

    response = signed_in(client, person).post(status_url(consultation), {"to": to, "next": "/dashboard/"}, follow=True)

    assert response.redirect_chain[0] == ("/dashboard/", 302)
    assert any(message in m for m in flashed(response)), flashed(response)
    assert Consultation.objects.values().get(pk=consultation.pk) == before
    assert AdminLog.objects.count() == logs


def test_an_unknown_target_is_refused_without_a_change(client, doctor):
    consultation = ConsultationFactory(doctor=doctor)
    response = signed_in(client, doctor).post(status_url(consultation), {"to": "teleported"}, follow=True)
    assert "That action is not one this page offers." in flashed(response)
    assert Consultation.objects.get(pk=consultation.pk).status == "scheduled"


def test_next_must_be_a_path_on_this_site(client, doctor):
    consultation = ConsultationFactory(doctor=doctor, status="requested")
    response = signed_in(client, doctor).post(
        status_url(consultation), {"to": "scheduled", "next": "https://evil.example/"}
    )
    assert response["Location"] == detail_url(consultation)
    response = client.post(status_url(consultation), {"to": "completed", "next": "//evil.example/"})
    assert response["Location"] == detail_url(consultation)


def test_a_running_consultation_takes_the_patient_to_the_room_not_the_waiting_room(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, mode="video", status="in_progress")
    client = signed_in(client, patient)
    dashboard = client.get(reverse("consultations:dashboard")).content.decode()
    assert f'href="{detail_url(consultation)}#room" data-action="room"' in dashboard
    page = client.get(detail_url(consultation)).content.decode()
    assert reverse("consultations:waiting_room", args=[consultation.pk]) not in page


def test_an_ai_intake_consultation_has_a_page_for_its_patient(client, patient):
    consultation = AIConsultationFactory(patient=patient)
    response = signed_in(client, patient).get(detail_url(consultation))
    assert response.status_code == 200
    assert "AI intake assistant" in response.content.decode()
    assert 'data-section="payment"' not in response.content.decode()
