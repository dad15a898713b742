"""The .ics of a consultation: what it says, that a reschedule updates the same
calendar entry, and who may download it.

The cast: Asha (patient) and Dr Meera (doctor) of a video consultation on
Tuesday 8 January 2030, 10:00 in Kolkata; another patient and another doctor
who have nothing to do with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from accounts.tests.factories import DoctorUserFactory, PatientUserFactory
from consultations.calendar import consultation_ics
from consultations.services import consultation_reschedule, consultation_transition
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

SITE_URL = "https://dhanwantari.example"
START = datetime(2030, 1, 8, 4, 30, tzinfo=UTC)  # Tuesday 10:00 in Kolkata
NOW = START - timedelta(days=1)


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


@pytest.fixture
def doctor():
    return DoctorProfileFactory(
        full_name="Meera Deshpande",
        clinic_name="Arogya Clinic",
        clinic_address="12 MG Road, Camp",
        city="Pune",
    ).user


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Asha Rao").user


@pytest.fixture
def consultation(patient, doctor):
    return ConsultationFactory(
        patient=patient,
        doctor=doctor,
        mode="video",
        scheduled_at=START,
        duration_minutes=20,
        chief_complaint="Recurring migraine, worse in the sun",
    )


def event_of(ics: bytes):
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def ics_url(consultation) -> str:
    return reverse("consultations:ics", args=[consultation.pk])


# --- the file --------------------------------------------------------------------------


def test_it_parses_back_as_one_published_event_in_utc(consultation):
    ics = consultation_ics(consultation)
    calendar, event = event_of(ics)

    assert str(calendar["PRODID"]) == "-//Dhanwantari//Consultations//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == START + timedelta(minutes=20)
    assert b"DTSTART:20300108T043000Z" in ics
    assert b"DTEND:20300108T045000Z" in ics
    assert b"VTIMEZONE" not in ics
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")


def test_the_uid_is_the_consultation_id_at_the_site_domain(consultation):
    _, event = event_of(consultation_ics(consultation))

    assert str(event["UID"]) == f"{consultation.pk}@dhanwantari.example"
    assert event["SEQUENCE"] == 0


def test_the_patient_sees_the_doctor_and_the_doctor_sees_the_patient(consultation, patient, doctor):
    _, for_patient = event_of(consultation_ics(consultation, recipient=patient))
    _, for_doctor = event_of(consultation_ics(consultation, recipient=doctor))

    assert str(for_patient["SUMMARY"]) == "Homeopathy consultation with Dr Meera Deshpande"
    assert str(for_doctor["SUMMARY"]) == "Consultation with Asha Rao"
    assert str(for_patient["UID"]) == str(for_doctor["UID"])


def test_a_doctor_whose_name_has_the_title_does_not_get_it_twice(patient):
    doctor = DoctorProfileFactory(full_name="Dr. Vikram Kulkarni").user
    _, event = event_of(consultation_ics(ConsultationFactory(patient=patient, doctor=doctor, scheduled_at=START)))

    assert str(event["SUMMARY"]) == "Homeopathy consultation with Dr. Vikram Kulkarni"


def test_an_online_consultation_is_located_at_its_page_and_says_how_to_join(consultation):
    _, event = event_of(consultation_ics(consultation))
    page = f"{SITE_URL}/consultations/{consultation.pk}/"

    assert str(event["LOCATION"]) == page
    assert str(event["URL"]) == page
    assert str(event["DESCRIPTION"]) == (
        f"Online video call on Dhanwantari. Join from the consultation page: {page} "
        "(the waiting room opens 10 minutes before the start)."
    )


def test_a_clinic_visit_is_located_at_the_clinic(patient, doctor):
    visit = ConsultationFactory(patient=patient, doctor=doctor, mode="in_person", scheduled_at=START)
    ics = consultation_ics(visit)
    _, event = event_of(ics)

    # Commas in the address are escaped on the way out and come back intact.
    assert b"LOCATION:Arogya Clinic\\, 12 MG Road\\, Camp\\, Pune" in ics
    assert str(event["LOCATION"]) == "Arogya Clinic, 12 MG Road, Camp, Pune"
    assert str(event["DESCRIPTION"]).startswith("In person at Arogya Clinic, 12 MG Road, Camp, Pune.")
    assert f"/consultations/{visit.pk}/" in str(event["DESCRIPTION"])


def test_names_with_special_characters_survive_the_round_trip(doctor):
    patient = PatientProfileFactory(full_name='Asha "Ash" Rao; Jr., née Iyer').user
    consultation = ConsultationFactory(patient=patient, doctor=doctor, scheduled_at=START)

    _, event = event_of(consultation_ics(consultation, recipient=doctor))

    assert str(event["SUMMARY"]) == 'Consultation with Asha "Ash" Rao; Jr., née Iyer'


def test_it_reminds_an_hour_before(consultation):
    _, event = event_of(consultation_ics(consultation))
    (alarm,) = event.walk("VALARM")

    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -timedelta(hours=1)


def test_it_is_confirmed_and_names_a_no_reply_organizer(consultation):
    _, event = event_of(consultation_ics(consultation))

    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert consultation.patient.email not in str(event["ORGANIZER"])


def test_it_holds_no_clinical_details(consultation):
    ics = consultation_ics(consultation).decode()

    assert "migraine" not in ics.lower()
    assert "headache" not in ics.lower()


def test_a_rescheduled_consultation_keeps_its_uid_and_raises_its_sequence(consultation, doctor):
    _, before = event_of(consultation_ics(consultation))
    new_start = START + timedelta(days=1)  # Wednesday 10:00 in Kolkata, one of the doctor's slots

    consultation_reschedule(consultation=consultation, by=doctor, slot_start=new_start, now=NOW)
    consultation.refresh_from_db()
    _, after = event_of(consultation_ics(consultation))

    assert str(after["UID"]) == str(before["UID"])
    assert after["SEQUENCE"] == 1 > before["SEQUENCE"]
    assert after.decoded("DTSTART") == new_start


def test_a_cancelled_consultation_is_cancelled_in_the_calendar_too(consultation, patient):
    consultation_reschedule(
        consultation=consultation, by=consultation.doctor, slot_start=START + timedelta(days=1), now=NOW
    )
    consultation_transition(consultation=consultation, to="cancelled", by=patient, reason="Feeling better", now=NOW)
    consultation.refresh_from_db()

    _, event = event_of(consultation_ics(consultation))

    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 2  # after the one reschedule: clients must take it as newer
    assert event.walk("VALARM") == []


def test_a_consultation_without_a_time_has_no_calendar_entry():
    with pytest.raises(ValueError):
        consultation_ics(AIConsultationFactory())


# --- the download ------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_patient_downloads_it_as_an_attachment(consultation, patient):
    response = signed_in(patient).get(ics_url(consultation))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; method=PUBLISH; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="dhanwantari-{consultation.pk}.ics"'
    assert "no-store" in response["Cache-Control"]
    _, event = event_of(response.content)
    assert str(event["SUMMARY"]) == "Homeopathy consultation with Dr Meera Deshpande"


def test_the_doctor_downloads_their_own_wording(consultation, doctor):
    response = signed_in(doctor).get(ics_url(consultation))

    assert response.status_code == 200
    _, event = event_of(response.content)
    assert str(event["SUMMARY"]) == "Consultation with Asha Rao"


@pytest.mark.parametrize("outsider_factory", [PatientUserFactory, DoctorUserFactory], ids=["patient", "doctor"])
def test_anyone_else_gets_not_found(consultation, outsider_factory):
    response = signed_in(outsider_factory()).get(ics_url(consultation))

    assert response.status_code == 404


def test_an_unknown_consultation_is_not_found(patient):
    response = signed_in(patient).get(reverse("consultations:ics", args=["cons_01NOSUCHCONSULTATION00000"]))

    assert response.status_code == 404


def test_an_ai_intake_has_nothing_to_download(patient):
    intake = AIConsultationFactory(patient=patient)

    assert signed_in(patient).get(ics_url(intake)).status_code == 404


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, consultation):
    response = client.get(ics_url(consultation))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "BEGIN:VCALENDAR" not in response.content.decode()


def test_the_download_needs_a_get(consultation, patient):
    assert signed_in(patient).post(ics_url(consultation)).status_code == 405


def test_the_download_runs_a_fixed_number_of_queries(consultation, patient, django_assert_max_num_queries):
    client = signed_in(patient)
    # Session and user; the access check; the consultation with both names and
    # the clinic in one join; the idle-timeout middleware saving the session
    # (an UPDATE between SAVEPOINT and RELEASE).
    with django_assert_max_num_queries(7):
        assert client.get(ics_url(consultation)).status_code == 200
