"""The booking, cancel and reschedule pages: thin adapters around the services,
errors next to the field, nothing written on a refusal, nobody else's ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Notification
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory
from consultations.forms import FEE_CONFIRM_REQUIRED, slot_value
from consultations.models import Consultation
from consultations.services import SLOT_TAKEN, consultation_book
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db

# Monday 7 January 2030, 05:30 IST; the factory doctor works weekdays 10–13 and 17–20 IST.
NOW = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)
TEN_AM = datetime(2030, 1, 7, 4, 30, tzinfo=UTC)
SLOT = timedelta(minutes=25)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _frozen_clock():
    # Before the other fixtures, so sessions start at NOW (the idle timeout).
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def profile():
    return DoctorProfileFactory(
        full_name="Dr. Asha Kulkarni",
        consultation_fee=Decimal("600.00"),
        follow_up_fee=Decimal("0"),
        follow_up_window_days=14,
        consultation_modes=["video", "in_person"],
    )


@pytest.fixture
def patient():
    return PatientUserFactory(timezone="Asia/Kolkata")


@pytest.fixture
def patient_client(client: Client, patient) -> Client:
    client.force_login(patient)
    return client


def _url(profile) -> str:
    return reverse("consultations:book", args=[profile.pk])


def _form(**overrides) -> dict:
    data = {
        "mode": "video",
        "slot": slot_value(TEN_AM),
        "follow_up_of": "",
        "chief_complaint": "Eczema on both hands",
        "duration": "two months",
        "severity": "moderate",
        "better": "cold water, open air",
        "worse": "wool; night",
        "thermal": "hot",
        "other": "Irritable when hungry",
        "confirm_fee": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- booking ---------------------------------------------------------------------------


def test_the_booking_page_shows_the_doctors_free_times_in_the_patients_zone(patient_client, profile):
    response = patient_client.get(_url(profile) + "?slot=2030-01-07T10:00:00%2B05:30")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Dr. Asha Kulkarni" in page
    assert "Monday 7 January" in page and "10:00 AM" in page
    # The slot from the doctor's page arrives chosen.
    assert f'value="{slot_value(TEN_AM)}" id="slot-0" checked' in page
    assert "Cancel at least 24 hours before: full refund. Later: 50% back." in page


def test_booking_writes_the_structured_case_and_goes_on_to_payment(patient_client, patient, profile):
    response = patient_client.post(_url(profile), _form())

    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:pay", args=[consultation.pk])
    assert (consultation.patient, consultation.doctor, consultation.scheduled_at) == (patient, profile.user, TEN_AM)
    assert consultation.symptoms == {
        "chief_complaint": "Eczema on both hands",
        "complaints": [
            {
                "description": "Eczema on both hands",
                "duration": "two months",
                "severity": "moderate",
                "modalities": {"better": ["cold water", "open air"], "worse": ["wool", "night"]},
            }
        ],
        "generals": {"thermal": "hot"},
        "mentals": "Irritable when hungry",
        "source": "patient",
    }
    assert (consultation.fee_amount, consultation.payment_status) == (Decimal("600.00"), "pending")


def test_paying_at_the_clinic_goes_to_the_consultation_page(patient_client, profile):
    response = patient_client.post(_url(profile), _form(mode="in_person", pay_at_clinic="on"))

    consultation = Consultation.objects.get()
    assert response["Location"] == reverse("consultations:detail", args=[consultation.pk])
    assert consultation.payment_method == "pay_at_clinic"


def test_paying_at_the_clinic_for_a_video_call_is_refused_next_to_the_choice(patient_client, profile):
    response = patient_client.post(_url(profile), _form(pay_at_clinic="on"))

    assert response.status_code == 200
    assert "only for an in-person consultation" in response.context["form"].errors["pay_at_clinic"][0]
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("chief_complaint", "", "Please tell the doctor what the consultation is about."),
        ("confirm_fee", None, FEE_CONFIRM_REQUIRED),
        ("slot", "", "Please pick a time."),
        ("slot", "10 am", "That time is not one of the free slots shown."),
        ("slot", slot_value(TEN_AM + timedelta(minutes=7)), "That time is not one of the doctor's bookable slots."),
        ("mode", "chat", "Select a valid choice."),
        ("severity", "agonising", "Select a valid choice."),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_written(patient_client, profile, field, value, message):
    response = patient_client.post(_url(profile), _form(**{field: value}))

    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert 'class="field__error' in response.content.decode()
    assert not Consultation.objects.exists()


def test_a_slot_taken_between_seeing_and_booking_says_so_and_offers_the_next_times(patient_client, profile):
    rival = PatientUserFactory()
    consultation_book(
        patient=rival, doctor_profile=profile, mode="video", slot_start=TEN_AM, chief_complaint="Cough", now=NOW
    )
    # The form was filled in before the rival booked: the slot was still offered.
    response = patient_client.post(_url(profile), _form())

    page = response.content.decode()
    assert response.status_code == 200
    assert SLOT_TAKEN in response.context["form"].errors["slot"]
    assert "data-next-slots" in page and "10:25 AM" in page
    assert Consultation.objects.count() == 1


def test_an_unverified_email_stops_the_booking_with_a_way_to_verify(client, profile):
    patient = PatientUserFactory(email_verified=False)
    client.force_login(patient)

    assert "Please verify your email address before booking." in client.get(_url(profile)).content.decode()
    response = client.post(_url(profile), _form())
    assert "verify your email address" in response.context["form"].non_field_errors()[0]
    assert not Consultation.objects.exists()


def test_a_follow_up_can_be_chosen_and_is_free_here(patient_client, patient, profile):
    original = ConsultationFactory(
        patient=patient,
        doctor=profile.user,
        status="completed",
        scheduled_at=NOW - 2 * DAY,
        started_at=NOW - 2 * DAY,
        ended_at=NOW - 2 * DAY + timedelta(minutes=20),
    )

    page = patient_client.get(_url(profile)).content.decode()
    assert "Yes, after my consultation of 05 Jan 2030" in page
    response = patient_client.post(_url(profile), _form(follow_up_of=original.pk))

    follow_up = Consultation.objects.get(follow_up_of=original)
    assert response["Location"] == reverse("consultations:detail", args=[follow_up.pk])
    assert follow_up.payment_status == "not_required"


def test_someone_elses_consultation_cannot_be_named_as_the_original(patient_client, profile):
    stranger_visit = ConsultationFactory(doctor=profile.user, status="completed", ended_at=NOW - DAY)

    response = patient_client.post(_url(profile), _form(follow_up_of=stranger_visit.pk))

    assert "Select a valid choice" in response.context["form"].errors["follow_up_of"][0]
    assert not Consultation.objects.filter(follow_up_of=stranger_visit).exists()


def test_only_signed_in_patients_book_and_only_listed_doctors(client, profile):
    assert client.get(_url(profile))["Location"].startswith(reverse("account_login"))
    client.force_login(DoctorUserFactory())
    assert client.get(_url(profile)).status_code == 403
    client.force_login(PatientUserFactory())
    unlisted = DoctorProfileFactory(verification_status="pending")
    assert client.get(_url(unlisted)).status_code == 404


def test_booking_without_the_csrf_token_is_refused(patient, profile):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)

    assert client.post(_url(profile), _form()).status_code == 403
    assert not Consultation.objects.exists()


def test_the_booking_page_costs_the_same_queries_however_many_bookings_the_doctor_has(
    patient_client, patient, profile, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    patient_client.get(_url(profile))  # warm-up: the session is written once
    with CaptureQueriesContext(connection) as few:
        patient_client.get(_url(profile))
    for n in range(30):
        ConsultationFactory(doctor=profile.user, scheduled_at=TEN_AM + n * SLOT)
        ConsultationFactory(patient=patient, doctor=profile.user, status="completed", ended_at=NOW - DAY)
    with CaptureQueriesContext(connection) as many:
        patient_client.get(_url(profile))

    assert len(many) == len(few)


# --- cancel ------------------------------------------------------------------------------


def _paid(patient, profile, starts) -> Consultation:
    return ConsultationFactory(
        patient=patient,
        doctor=profile.user,
        scheduled_at=starts,
        fee_amount=Decimal("600.00"),
        payment_status="paid",
        payment_method="offline",
        paid_at=NOW - DAY,
    )


def test_the_cancel_page_says_what_happens_to_the_money_before_anything_happens(patient_client, patient, profile):
    consultation = _paid(patient, profile, NOW + timedelta(hours=5))

    page = patient_client.get(reverse("consultations:cancel", args=[consultation.pk])).content.decode()

    assert "so 50% of the fee (INR 300.00) is refunded." in page
    consultation.refresh_from_db()
    assert consultation.status == "scheduled"


def test_cancelling_needs_a_reason_and_then_shows_the_refund(patient_client, patient, profile):
    consultation = _paid(patient, profile, NOW + 3 * DAY)
    url = reverse("consultations:cancel", args=[consultation.pk])

    response = patient_client.post(url, {"reason": "  "})
    assert "Please give a reason" in response.context["form"].errors["reason"][0]

    response = patient_client.post(url, {"reason": "Travelling"}, follow=True)
    consultation.refresh_from_db()
    assert (consultation.status, consultation.payment_status) == ("cancelled", "refund_pending")
    assert "A refund of INR 600.00 is on its way." in [str(m) for m in response.context["messages"]][0]
    assert Notification.objects.filter(user=profile.user, kind="consultation_cancelled").exists()


def test_a_finished_consultation_cannot_be_cancelled(patient_client, patient, profile):
    done = ConsultationFactory(patient=patient, doctor=profile.user, status="completed", ended_at=NOW)

    response = patient_client.post(reverse("consultations:cancel", args=[done.pk]), {"reason": "x"})

    assert response["Location"] == reverse("consultations:detail", args=[done.pk])
    done.refresh_from_db()
    assert done.status == "completed"


# --- reschedule ----------------------------------------------------------------------------


def test_the_patient_moves_a_booking_to_another_free_time(patient_client, patient, profile):
    consultation = consultation_book(
        patient=patient, doctor_profile=profile, mode="video", slot_start=TEN_AM, chief_complaint="Cough", now=NOW
    )
    url = reverse("consultations:reschedule", args=[consultation.pk])

    assert "You can move this booking 2 more times." in patient_client.get(url).content.decode()
    response = patient_client.post(url, {"slot": slot_value(TEN_AM + DAY)})

    assert response["Location"] == reverse("consultations:detail", args=[consultation.pk])
    consultation.refresh_from_db()
    assert consultation.scheduled_at == TEN_AM + DAY


def test_moving_too_late_is_refused_with_the_reason(patient_client, patient, profile):
    soon = ConsultationFactory(patient=patient, doctor=profile.user, scheduled_at=NOW + timedelta(hours=2))

    response = patient_client.get(reverse("consultations:reschedule", args=[soon.pk]), follow=True)

    assert "up to 4 hours before it starts" in [str(m) for m in response.context["messages"]][0]


def test_a_bad_new_time_is_shown_next_to_the_field(patient_client, patient, profile):
    consultation = ConsultationFactory(patient=patient, doctor=profile.user, scheduled_at=TEN_AM + 2 * DAY)

    response = patient_client.post(reverse("consultations:reschedule", args=[consultation.pk]), {"slot": "tomorrow"})

    assert "That time is not one of the free slots shown" in response.context["form"].errors["slot"][0]
    consultation.refresh_from_db()
    assert consultation.scheduled_at == TEN_AM + 2 * DAY


@pytest.mark.parametrize("name", ["cancel", "reschedule"])
def test_another_users_consultation_is_not_found(client, profile, name):
    consultation = ConsultationFactory(doctor=profile.user, scheduled_at=NOW + 3 * DAY)
    client.force_login(PatientUserFactory())

    url = reverse(f"consultations:{name}", args=[consultation.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x", "slot": slot_value(TEN_AM + DAY)}).status_code == 404
    consultation.refresh_from_db()
    assert (consultation.status, consultation.scheduled_at) == ("scheduled", NOW + 3 * DAY)
