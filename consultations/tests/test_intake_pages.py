"""The AI intake's pages without JavaScript: consent, the room's form, hand-off into booking.

Also what an attacker would try: another patient's intake, a doctor it was not
handed to, a POST without a CSRF token, a file sent to the assistant.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import DoctorUserFactory
from consultations.intake import services as intake
from consultations.intake.services import HANDOFF_SESSION_KEY
from consultations.models import Consultation, Message
from consultations.tests.test_intake_services import answer_until_done
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

START = reverse("consultations:intake_start")


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


@pytest.fixture
def signed_in(client, patient):
    client.force_login(patient)
    return client


def room_url(consultation) -> str:
    return reverse("consultations:room", args=[consultation.pk])


def test_the_start_page_says_what_the_assistant_is_not_and_the_emergency_number(signed_in, settings):
    settings.EMERGENCY_NUMBER = "112"

    page = signed_in.get(START).content.decode()

    assert "does not diagnose and does not prescribe" in page
    assert 'href="tel:112"' in page


def test_starting_without_ticking_consent_shows_the_error_by_the_box_and_writes_nothing(signed_in):
    response = signed_in.post(START, {})

    assert response.status_code == 200
    assert "Please tick the box" in response.content.decode()
    assert 'id="id_consent_error"' in response.content.decode()
    assert not Consultation.objects.exists()


def test_starting_with_consent_opens_the_room_with_the_first_question(signed_in, patient):
    response = signed_in.post(START, {"consent": "on"})

    consultation = Consultation.objects.get(patient=patient)
    assert response.status_code == 302 and response.url.startswith(room_url(consultation))
    page = signed_in.get(room_url(consultation)).content.decode()
    assert "AI intake assistant" in page
    assert "does not diagnose or prescribe" in page
    assert 'data-intake="true"' in page
    # The assistant reads no files: no file form in its room.
    assert "data-attach-form" not in page


def test_a_doctor_cannot_start_an_intake(client):
    client.force_login(DoctorUserFactory())

    assert client.post(START, {"consent": "on"}).status_code == 404
    assert not Consultation.objects.exists()


def test_the_room_form_without_javascript_gets_the_next_question_and_its_quick_replies(signed_in, patient):
    consultation = intake.intake_start(patient=patient, consent=True)

    response = signed_in.post(room_url(consultation), {"body": "Pain in my knees when I climb stairs"})

    assert response.status_code == 302
    page = signed_in.get(room_url(consultation)).content.decode()
    assert "Pain in my knees when I climb stairs" in page
    last = Message.objects.filter(consultation=consultation).order_by("-created_at", "-id").first()
    assert last.sender_id == intake.assistant_user().pk
    for chip in last.metadata.get("chips") or []:
        assert f'value="{chip}"' in page


def test_an_emergency_through_the_form_shows_the_guidance_and_closes_the_composer(signed_in, patient, settings):
    settings.EMERGENCY_NUMBER = "112"
    consultation = intake.intake_start(patient=patient, consent=True)

    signed_in.post(room_url(consultation), {"body": "meri beti ko daura pad raha hai, haath pair akad gaye"})

    page = signed_in.get(room_url(consultation)).content.decode()
    assert "data-intake-emergency" in page
    assert 'href="tel:112"' in page
    assert "data-composer-box" not in page


def test_a_file_sent_to_the_assistant_is_refused_and_nothing_is_stored(signed_in, patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    photo = SimpleUploadedFile("rash.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")

    response = signed_in.post(
        reverse("consultations:room_attachment", args=[consultation.pk]),
        {"file": photo},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert "does not read files" in response.json()["error"]
    assert not Message.objects.filter(consultation=consultation, message_type="attachment").exists()


def test_another_patient_cannot_open_or_write_in_someone_elses_intake(client, patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    client.force_login(PatientProfileFactory().user)

    assert client.get(room_url(consultation)).status_code == 404
    assert client.post(room_url(consultation), {"body": "hello"}).status_code == 404
    assert client.get(reverse("consultations:intake_transcript", args=[consultation.pk])).status_code == 404
    assert client.post(reverse("consultations:intake_handoff", args=[consultation.pk])).status_code == 404
    assert not Message.objects.filter(consultation=consultation, body="hello").exists()


def test_a_post_without_a_csrf_token_is_refused(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)

    assert client.post(room_url(consultation), {"body": "Headache"}).status_code == 403
    assert client.post(START, {"consent": "on"}).status_code == 403
    assert not Message.objects.filter(consultation=consultation, sender=patient).exists()


# --- hand-off into booking --------------------------------------------------------------


@pytest.fixture
def finished(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    answer_until_done(consultation, patient, "Itchy eczema on both hands")
    consultation.refresh_from_db()
    return consultation


NOW = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)
TEN_AM = datetime(2030, 1, 7, 4, 30, tzinfo=UTC)


def test_the_finished_case_offers_the_hand_off_which_opens_the_directory_filtered(signed_in, finished):
    page = signed_in.get(room_url(finished)).content.decode()
    assert "data-intake-done" in page

    response = signed_in.post(reverse("consultations:intake_handoff", args=[finished.pk]))

    assert response.status_code == 302
    assert response.url == reverse("doctors:directory") + "?specialization=dermatology"
    assert signed_in.session[HANDOFF_SESSION_KEY] == finished.pk


@pytest.fixture
def monday_morning():
    """Before the session is made, so it does not expire at the jump."""
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_booking_page_prefills_the_case_and_the_booking_carries_it(monday_morning, signed_in, finished, patient):
    profile = DoctorProfileFactory(consultation_modes=["video"])
    signed_in.post(reverse("consultations:intake_handoff", args=[finished.pk]))
    book = reverse("consultations:book", args=[profile.pk])

    page = signed_in.get(book).content.decode()
    assert "data-handed-intake" in page
    assert 'value="Itchy eczema on both hands"' in page

    response = signed_in.post(
        book,
        {
            "mode": "video",
            "slot": TEN_AM.isoformat(),
            "follow_up_of": "",
            "chief_complaint": "Itchy eczema on both hands",
            "attach_intake": "1",
            "confirm_fee": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    booking = Consultation.objects.get(patient=patient, consultation_type="doctor")
    assert booking.intake_id == finished.pk
    assert booking.ai_summary == finished.ai_summary
    assert HANDOFF_SESSION_KEY not in signed_in.session
    # The doctor sees the summary and can read the conversation.
    doctor = Client()
    doctor.force_login(profile.user)
    detail = doctor.get(reverse("consultations:detail", args=[booking.pk])).content.decode()
    assert "data-ai-summary" in detail
    assert reverse("consultations:intake_transcript", args=[finished.pk]) in detail
    transcript = doctor.get(reverse("consultations:intake_transcript", args=[finished.pk]))
    assert transcript.status_code == 200
    assert "Itchy eczema on both hands" in transcript.content.decode()


def test_a_doctor_it_was_not_handed_to_cannot_read_the_transcript(client, finished):
    client.force_login(DoctorProfileFactory().user)

    assert client.get(reverse("consultations:intake_transcript", args=[finished.pk])).status_code == 404


def test_the_dashboard_offers_the_assistant_and_then_the_case_in_progress(signed_in, patient):
    page = signed_in.get(reverse("consultations:dashboard")).content.decode()
    assert "data-start-intake" in page

    consultation = intake.intake_start(patient=patient, consent=True)

    page = signed_in.get(reverse("consultations:dashboard")).content.decode()
    assert "data-continue-intake" in page
    assert room_url(consultation) in page


def test_a_doctor_reading_the_transcript_is_in_the_audit_trail_and_the_patient_is_not(
    monday_morning, signed_in, finished, patient
):
    from accounts.models import AdminLog

    profile = DoctorProfileFactory(consultation_modes=["video"])
    from consultations.services import consultation_book

    consultation_book(
        patient=patient,
        doctor_profile=profile,
        mode="video",
        slot_start=TEN_AM,
        chief_complaint="Eczema",
        intake=finished,
        now=NOW,
    )
    url = reverse("consultations:intake_transcript", args=[finished.pk])
    signed_in.get(url)
    doctor = Client()
    doctor.force_login(profile.user)
    doctor.get(url)

    reads = AdminLog.objects.filter(record_id=finished.pk, action="view")
    assert [row.user_id for row in reads] == [profile.user_id]
