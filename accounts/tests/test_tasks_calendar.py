"""deliver_notification attaches the consultation's .ics to booking and
reschedule confirmations, and to nothing else; delivery stays at most once.

The cast: Asha (patient) books Dr Meera (doctor) for a video consultation on
Monday 7 January 2030, 10:00 in Kolkata, through the real booking service.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
from icalendar import Calendar

from accounts import services
from accounts.models import Notification
from accounts.tasks import deliver_notification
from consultations.services import consultation_book, consultation_reschedule, consultation_transition
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

SITE_URL = "https://dhanwantari.example"
NOW = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)  # Monday, 05:30 in Kolkata
TEN_AM = datetime(2030, 1, 7, 4, 30, tzinfo=UTC)  # 10:00 in Kolkata, the doctor's first slot


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


@pytest.fixture
def profile():
    return DoctorProfileFactory(full_name="Meera Deshpande")


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Asha Rao").user


def book(profile, patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return consultation_book(
            patient=patient,
            doctor_profile=profile,
            mode="video",
            slot_start=TEN_AM,
            chief_complaint="Migraine",
            now=NOW,
        )


def calendar_parts(email) -> list:
    """The text/calendar parts of a sent email, as the recipient's client sees them."""
    parsed = message_from_bytes(email.message().as_bytes())
    return [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]


def event_in(part):
    (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return event


def test_both_booking_confirmations_carry_the_calendar_file(
    profile, patient, mailoutbox, django_capture_on_commit_callbacks
):
    consultation = book(profile, patient, django_capture_on_commit_callbacks)

    emails = {email.to[0]: email for email in mailoutbox}
    assert set(emails) == {patient.email, profile.user.email}
    for email in emails.values():
        (part,) = calendar_parts(email)
        assert part.get_param("method") == "PUBLISH"
        assert part.get_content_disposition() == "attachment"
        assert part.get_filename() == f"dhanwantari-{consultation.pk}.ics"
        event = event_in(part)
        assert str(event["UID"]) == f"{consultation.pk}@dhanwantari.example"
        assert event.decoded("DTSTART") == TEN_AM
    assert str(event_in(calendar_parts(emails[patient.email])[0])["SUMMARY"]) == (
        "Homeopathy consultation with Dr Meera Deshpande"
    )
    assert str(event_in(calendar_parts(emails[profile.user.email])[0])["SUMMARY"]) == "Consultation with Asha Rao"


def test_the_email_keeps_its_text_and_html_bodies(profile, patient, mailoutbox, django_capture_on_commit_callbacks):
    book(profile, patient, django_capture_on_commit_callbacks)

    email = next(m for m in mailoutbox if m.to == [patient.email])
    assert "is booked" in email.body
    assert email.alternatives[0].mimetype == "text/html"


def test_the_reschedule_notice_carries_the_moved_entry(
    profile, patient, mailoutbox, django_capture_on_commit_callbacks
):
    consultation = book(profile, patient, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    new_start = TEN_AM + timedelta(days=1)

    with django_capture_on_commit_callbacks(execute=True):
        consultation_reschedule(consultation=consultation, by=profile.user, slot_start=new_start, now=NOW)

    # Both are told (the doctor moved it: theirs is the confirmation), both get the moved entry.
    assert sorted(email.to[0] for email in mailoutbox) == sorted([patient.email, profile.user.email])
    for email in mailoutbox:
        event = event_in(calendar_parts(email)[0])
        assert str(event["UID"]) == f"{consultation.pk}@dhanwantari.example"
        assert event["SEQUENCE"] == 1
        assert event.decoded("DTSTART") == new_start


def test_the_cancellation_notice_marks_the_calendar_entry_cancelled(
    profile, patient, mailoutbox, django_capture_on_commit_callbacks
):
    consultation = book(profile, patient, django_capture_on_commit_callbacks)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(consultation=consultation, to="cancelled", by=patient, reason="Better", now=NOW)

    (email,) = mailoutbox  # the patient cancelled: the doctor is told
    event = event_in(calendar_parts(email)[0])
    assert str(event["UID"]) == f"{consultation.pk}@dhanwantari.example"
    assert str(event["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize("kind", ["consultation_reminder", "payment_received"])
def test_other_notifications_about_a_consultation_have_no_calendar_file(
    kind, patient, mailoutbox, django_capture_on_commit_callbacks
):
    consultation = ConsultationFactory(patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(
            user=patient, kind=kind, title="About your consultation", data={"consultation_id": consultation.pk}
        )

    (email,) = mailoutbox
    assert calendar_parts(email) == []


def test_a_confirmation_naming_someone_elses_consultation_has_no_calendar_file(
    patient, mailoutbox, django_capture_on_commit_callbacks
):
    theirs = ConsultationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(
            user=patient, kind="consultation_booked", title="Booked", data={"consultation_id": theirs.pk}
        )

    (email,) = mailoutbox
    assert calendar_parts(email) == []


@pytest.mark.parametrize("data", [{}, {"consultation_id": "cons_01NOSUCHCONSULTATION00000"}])
def test_a_confirmation_without_a_consultation_is_still_emailed(
    data, patient, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notification_send(user=patient, kind="consultation_booked", title="Booked", data=data)

    (email,) = mailoutbox
    assert calendar_parts(email) == []
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_a_calendar_file_that_cannot_be_built_does_not_stop_the_confirmation(
    profile, patient, mailoutbox, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("icalendar exploded")

    monkeypatch.setattr("consultations.calendar.consultation_ics", broken)

    with caplog.at_level(logging.ERROR, logger="accounts.tasks"):
        book(profile, patient, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 2
    assert all(calendar_parts(email) == [] for email in mailoutbox)
    assert "Calendar file for notification" in caplog.text
    assert not Notification.objects.filter(kind="consultation_booked", emailed_at__isnull=True).exists()


def test_delivering_a_confirmation_twice_sends_one_email_with_one_calendar_file(
    profile, patient, mailoutbox, django_capture_on_commit_callbacks
):
    book(profile, patient, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=patient, kind="consultation_booked")

    deliver_notification.call(notification.pk)
    deliver_notification.enqueue(notification.pk)

    mine = [email for email in mailoutbox if email.to == [patient.email]]
    assert len(mine) == 1
    assert len(calendar_parts(mine[0])) == 1
