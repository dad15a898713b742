"""Reminders 24 hours and 1 hour before a consultation: who gets what, when, and only once.

The cast: Asha (patient, in New York) books Dr Meera (in Kolkata) for
Tuesday 8 January 2030, 10:00 in Kolkata (04:30 UTC), three days ahead.
The concurrent test at the end needs MariaDB/MySQL row locks.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import sms
from accounts.models import Notification, NotificationPreference
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory
from consultations import reminders
from consultations.models import Consultation
from consultations.reminders import reminders_send
from consultations.services import consultation_reschedule
from consultations.tasks import send_reminders
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

START = datetime(2030, 1, 8, 4, 30, tzinfo=UTC)  # Tuesday 10:00 in Kolkata, Monday 23:30 in New York
BOOKED = START - timedelta(days=3)
DAY_BEFORE = START - timedelta(hours=24)
HOUR_BEFORE = START - timedelta(hours=1)


@pytest.fixture
def doctor():
    return DoctorProfileFactory(full_name="Meera Deshpande", user__timezone="Asia/Kolkata").user


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Asha Rao", user__timezone="America/New_York").user


@pytest.fixture
def consultation(patient, doctor):
    return ConsultationFactory(patient=patient, doctor=doctor, mode="video", scheduled_at=START, created_at=BOOKED)


def reminders_of(consultation: Consultation) -> list[Notification]:
    return list(
        Notification.objects.filter(kind="consultation_reminder", data__consultation_id=consultation.pk).order_by(
            "created_at", "user_id"
        )
    )


def who_got(consultation: Consultation) -> list[tuple[str, str]]:
    """(user id, which reminder) for every reminder notification of the consultation, sorted."""
    return sorted((n.user_id, n.data["reminder"]) for n in reminders_of(consultation))


# --- when each reminder goes ---------------------------------------------------------


@pytest.mark.django_db
def test_the_day_before_reminder_goes_to_the_patient_and_the_doctor(consultation, patient, doctor):
    sent = reminders_send(now=DAY_BEFORE)

    assert sent == 1
    assert who_got(consultation) == sorted([(patient.pk, "24h"), (doctor.pk, "24h")])
    consultation.refresh_from_db()
    assert consultation.reminder_24h_sent_at == DAY_BEFORE
    assert consultation.reminder_1h_sent_at is None


@pytest.mark.django_db
def test_nothing_is_sent_before_the_day_before(consultation):
    assert reminders_send(now=DAY_BEFORE - timedelta(minutes=1)) == 0
    assert reminders_of(consultation) == []


@pytest.mark.django_db
def test_the_hour_before_reminder_goes_after_the_day_before_one(consultation, patient, doctor):
    reminders_send(now=DAY_BEFORE)
    assert reminders_send(now=HOUR_BEFORE - timedelta(minutes=1)) == 0

    assert reminders_send(now=HOUR_BEFORE) == 1

    assert who_got(consultation) == sorted(
        [(patient.pk, "24h"), (doctor.pk, "24h"), (patient.pk, "1h"), (doctor.pk, "1h")]
    )
    consultation.refresh_from_db()
    assert (consultation.reminder_24h_sent_at, consultation.reminder_1h_sent_at) == (DAY_BEFORE, HOUR_BEFORE)


@pytest.mark.django_db
def test_running_the_job_again_sends_nothing_again(consultation):
    for minutes in (0, 0, 5, 10):
        reminders_send(now=DAY_BEFORE + timedelta(minutes=minutes))
    for minutes in (0, 0, 5):
        reminders_send(now=HOUR_BEFORE + timedelta(minutes=minutes))

    assert len(reminders_of(consultation)) == 4  # 2 reminders x 2 people


@pytest.mark.django_db
def test_a_booking_made_3_hours_ahead_gets_no_day_before_reminder_only_the_hour_before(patient, doctor):
    late = ConsultationFactory(
        patient=patient, doctor=doctor, scheduled_at=START, created_at=START - timedelta(hours=3)
    )

    assert reminders_send(now=START - timedelta(hours=3) + timedelta(minutes=5)) == 0
    late.refresh_from_db()
    assert late.reminder_24h_sent_at is not None  # settled: never to be sent
    assert reminders_of(late) == []

    assert reminders_send(now=HOUR_BEFORE) == 1
    assert who_got(late) == sorted([(patient.pk, "1h"), (doctor.pk, "1h")])


@pytest.mark.django_db
def test_a_booking_made_20_hours_ahead_gets_no_day_before_reminder_either(patient, doctor):
    booking = ConsultationFactory(
        patient=patient, doctor=doctor, scheduled_at=START, created_at=START - timedelta(hours=20)
    )

    assert reminders_send(now=START - timedelta(hours=20)) == 0
    assert reminders_of(booking) == []


@pytest.mark.django_db
def test_when_both_are_due_only_the_nearer_one_goes(consultation, patient, doctor):
    # The job was down all day: at 50 minutes to go, neither reminder went.
    now = START - timedelta(minutes=50)

    assert reminders_send(now=now) == 1

    assert who_got(consultation) == sorted([(patient.pk, "1h"), (doctor.pk, "1h")])
    consultation.refresh_from_db()
    assert consultation.reminder_24h_sent_at == now
    assert consultation.reminder_1h_sent_at == now
    assert reminders_send(now=now + timedelta(minutes=5)) == 0


@pytest.mark.django_db
def test_a_day_before_reminder_found_with_under_12_hours_left_is_dropped(consultation):
    assert reminders_send(now=START - timedelta(hours=10)) == 0

    consultation.refresh_from_db()
    assert consultation.reminder_24h_sent_at is not None
    assert reminders_of(consultation) == []
    assert reminders_send(now=HOUR_BEFORE) == 1


@pytest.mark.django_db
def test_a_consultation_that_has_started_gets_no_reminder(consultation):
    assert reminders_send(now=START) == 0
    assert reminders_send(now=START + timedelta(minutes=5)) == 0
    assert reminders_of(consultation) == []


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["cancelled", "requested", "in_progress", "completed", "no_show"])
def test_only_scheduled_consultations_get_reminders(status, patient, doctor):
    other = ConsultationFactory(patient=patient, doctor=doctor, scheduled_at=START, created_at=BOOKED, status=status)

    assert reminders_send(now=DAY_BEFORE) == 0
    assert reminders_send(now=HOUR_BEFORE) == 0
    assert reminders_of(other) == []


@pytest.mark.django_db
def test_a_deleted_consultation_or_an_ai_intake_gets_no_reminder(consultation):
    consultation.soft_delete()
    AIConsultationFactory()

    assert reminders_send(now=DAY_BEFORE) == 0
    assert Notification.objects.filter(kind="consultation_reminder").count() == 0


@pytest.mark.django_db
def test_a_consultation_cancelled_after_it_was_selected_is_not_reminded(consultation, monkeypatch):
    due = reminders.reminders_due

    def due_then_cancelled(*, now):
        listed = list(due(now=now))
        Consultation.objects.filter(pk=consultation.pk).update(status="cancelled")
        return listed

    monkeypatch.setattr(reminders, "reminders_due", due_then_cancelled)

    assert reminders_send(now=DAY_BEFORE) == 0
    assert reminders_of(consultation) == []
    consultation.refresh_from_db()
    assert consultation.reminder_24h_sent_at is None


@pytest.mark.django_db
def test_a_consultation_moved_after_it_was_selected_is_not_reminded_of_the_old_time(consultation, monkeypatch):
    due = reminders.reminders_due

    def due_then_moved(*, now):
        listed = list(due(now=now))
        Consultation.objects.filter(pk=consultation.pk).update(scheduled_at=START + timedelta(days=2))
        return listed

    monkeypatch.setattr(reminders, "reminders_due", due_then_moved)

    assert reminders_send(now=DAY_BEFORE) == 0
    assert reminders_of(consultation) == []


@pytest.mark.django_db
def test_a_failing_reminder_is_rolled_back_and_logged_and_the_others_still_go(
    consultation, patient, monkeypatch, caplog
):
    other = ConsultationFactory(patient=patient, scheduled_at=START + timedelta(minutes=30), created_at=BOOKED)
    real_send = reminders.notification_send

    def broken_for_the_first(**kwargs):
        # The patient's notification is written, then the doctor's fails.
        if kwargs["data"]["consultation_id"] == consultation.pk and kwargs["user"] == consultation.doctor:
            raise RuntimeError("notification store is down")
        return real_send(**kwargs)

    monkeypatch.setattr(reminders, "notification_send", broken_for_the_first)

    assert reminders_send(now=DAY_BEFORE + timedelta(minutes=30)) == 1

    assert f"The 24h reminder of consultation {consultation.pk} failed" in caplog.text
    consultation.refresh_from_db()
    assert consultation.reminder_24h_sent_at is None  # no claim without its notifications
    assert reminders_of(consultation) == []
    assert len(reminders_of(other)) == 2
    monkeypatch.undo()
    assert reminders_send(now=DAY_BEFORE + timedelta(minutes=35)) == 1  # the next run sends it
    assert len(reminders_of(consultation)) == 2


# --- rescheduling ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rescheduled_consultation_is_reminded_again_for_its_new_time(consultation, patient, doctor):
    reminders_send(now=DAY_BEFORE)
    new_start = START + timedelta(days=1)  # Wednesday 10:00 in Kolkata, one of the doctor's slots

    consultation_reschedule(consultation=consultation, by=doctor, slot_start=new_start, now=DAY_BEFORE)
    consultation.refresh_from_db()
    assert consultation.reminder_24h_sent_at is None

    assert reminders_send(now=HOUR_BEFORE) == 0  # the old time reminds nobody
    assert reminders_send(now=new_start - timedelta(hours=24)) == 1
    assert reminders_send(now=new_start - timedelta(hours=1)) == 1
    assert [n.data["reminder"] for n in reminders_of(consultation) if n.user_id == patient.pk] == ["24h", "24h", "1h"]
    last = {n.user_id: n.title for n in reminders_of(consultation) if n.data["reminder"] == "1h"}
    assert last[patient.pk].endswith("today at 11:30 PM (America/New_York)")  # Tuesday evening there
    assert last[doctor.pk].endswith("today at 10:00 AM (Asia/Kolkata)")  # Wednesday morning here


# --- what the reminder says ----------------------------------------------------------


@pytest.mark.django_db
def test_each_person_reads_the_time_in_their_own_zone(consultation, patient, doctor):
    reminders_send(now=DAY_BEFORE)

    sent = {n.user_id: n for n in reminders_of(consultation)}
    # 04:30 UTC is 23:30 the evening before in New York, 10:00 in Kolkata.
    assert sent[patient.pk].title == (
        "Reminder: your video call with Dr Meera Deshpande is tomorrow at 11:30 PM (America/New_York)"
    )
    assert sent[doctor.pk].title == "Reminder: your video call with Asha Rao is tomorrow at 10:00 AM (Asia/Kolkata)"


@pytest.mark.django_db
def test_the_hour_before_reminder_says_how_soon_and_how_to_join(consultation, patient):
    reminders_send(now=HOUR_BEFORE)

    reminder = next(n for n in reminders_of(consultation) if n.user_id == patient.pk)
    assert reminder.title.startswith("Starting in 1 hour: your video call with Dr Meera Deshpande")
    assert "waiting room opens 10 minutes before" in reminder.body
    assert reminder.deeplink == f"/consultations/{consultation.pk}/"


@pytest.mark.django_db
def test_a_clinic_visit_reminder_gives_the_clinic_address(patient):
    doctor = DoctorProfileFactory(
        full_name="Dr. Vikram Kulkarni", clinic_name="Arogya Clinic", clinic_address="12 MG Road", city="Pune"
    ).user
    visit = ConsultationFactory(patient=patient, doctor=doctor, mode="in_person", scheduled_at=START, created_at=BOOKED)

    reminders_send(now=DAY_BEFORE)

    reminder = next(n for n in reminders_of(visit) if n.user_id == patient.pk)
    assert "clinic visit with Dr. Vikram Kulkarni" in reminder.title  # no second "Dr"
    assert "In person at Arogya Clinic, 12 MG Road, Pune." in reminder.body


@pytest.mark.django_db
def test_the_doctors_reminder_never_shows_the_patients_login(doctor):
    nameless = PatientUserFactory(email="asha.private@example.test")  # no profile, so no name
    booking = ConsultationFactory(patient=nameless, doctor=doctor, scheduled_at=START, created_at=BOOKED)

    reminders_send(now=DAY_BEFORE)

    reminder = next(n for n in reminders_of(booking) if n.user_id == doctor.pk)
    assert "asha.private" not in reminder.title + reminder.body
    assert "with a patient" in reminder.title


# --- channels: in-app, email, SMS where opted in -----------------------------------------


class Texts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, *, to: str, message: str) -> None:
        self.sent.append((to, message))


@pytest.fixture
def texts(monkeypatch) -> Texts:
    gateway = Texts()
    monkeypatch.setattr(sms, "get_sms_backend", lambda: gateway)
    return gateway


@pytest.mark.django_db
def test_reminders_are_emailed_and_texted_only_to_who_opted_in(texts, mailoutbox, django_capture_on_commit_callbacks):
    texter = PatientProfileFactory(user__phone="+919812345678", user__phone_verified=True).user
    quiet_doctor = DoctorProfileFactory(user__phone="+919800000001", user__phone_verified=True).user
    NotificationPreference.objects.create(user=quiet_doctor, kind="consultation_reminder", email=True, sms=False)
    unverified = PatientProfileFactory(user__phone="+919800000002", user__phone_verified=False).user
    ConsultationFactory(patient=texter, doctor=quiet_doctor, scheduled_at=START, created_at=BOOKED)
    ConsultationFactory(patient=unverified, doctor=quiet_doctor, scheduled_at=START, created_at=BOOKED)

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send(now=DAY_BEFORE) == 2

    assert [to for to, _ in texts.sent] == ["+919812345678"]
    assert texts.sent[0][1].startswith("Dhanwantari: Reminder: your chat consultation with Dr ")
    assert sorted(m.to[0] for m in mailoutbox) == sorted([texter.email, unverified.email, *[quiet_doctor.email] * 2])
    assert all("Reminder: your chat consultation" in m.subject for m in mailoutbox)


# --- the command and the task -----------------------------------------------------------


@pytest.mark.django_db
def test_the_command_sends_what_is_due_and_says_how_many(consultation):
    out = StringIO()
    with time_machine.travel(DAY_BEFORE, tick=False):
        call_command("send_reminders", stdout=out)
        call_command("send_reminders", stdout=out)

    assert out.getvalue().splitlines() == ["Sent 1 reminder.", "Sent 0 reminders."]
    assert len(reminders_of(consultation)) == 2


@pytest.mark.django_db
def test_the_dry_run_lists_what_is_due_and_changes_nothing(consultation):
    out = StringIO()
    with time_machine.travel(DAY_BEFORE, tick=False):
        call_command("send_reminders", "--dry-run", stdout=out)

    assert out.getvalue().splitlines() == [
        f"24h reminder: {consultation.pk} at 2030-01-08 04:30 UTC",
        "Would send 1 reminder.",
    ]
    consultation.refresh_from_db()
    assert consultation.reminder_24h_sent_at is None
    assert reminders_of(consultation) == []


@pytest.mark.django_db
def test_the_task_does_the_same_work(consultation):
    with time_machine.travel(HOUR_BEFORE, tick=False):
        result = send_reminders.enqueue()
        again = send_reminders.enqueue()

    assert result.return_value == 1
    assert again.return_value == 0
    assert len(reminders_of(consultation)) == 2


# --- cost ---------------------------------------------------------------------------------


def _queries_for(count: int, monkeypatch, chunk_size: int = 200) -> int:
    monkeypatch.setattr(reminders, "CHUNK_SIZE", chunk_size)
    for _ in range(count):
        ConsultationFactory(
            patient=PatientProfileFactory().user,
            doctor=DoctorProfileFactory().user,
            scheduled_at=START,
            created_at=BOOKED,
        )
    with CaptureQueriesContext(connection) as queries:
        assert reminders_send(now=DAY_BEFORE) == count
    Consultation.objects.all().delete()
    return len(queries)


# Each reminder: SAVEPOINT and RELEASE (the test's transaction; in production
# BEGIN/COMMIT), the claim UPDATE, and for each of the two people what
# notification_send costs: full_clean's user check and id check, and the INSERT.
PER_REMINDER = 2 + 1 + 2 * 3
# The due ids, then one SELECT per chunk with patients, doctors and profiles joined.
SELECTION = 2


@pytest.mark.django_db
def test_the_query_count_is_a_fixed_cost_per_reminder_whatever_the_number_of_consultations(monkeypatch):
    assert _queries_for(2, monkeypatch) == SELECTION + 2 * PER_REMINDER
    assert _queries_for(12, monkeypatch) == SELECTION + 12 * PER_REMINDER


@pytest.mark.django_db
def test_consultations_are_read_in_chunks(monkeypatch):
    # 12 consultations, chunks of 5: the ids, then 3 chunk reads.
    assert _queries_for(12, monkeypatch, chunk_size=5) == 1 + 3 + 12 * PER_REMINDER


# --- two jobs at once (MariaDB/MySQL) ------------------------------------------------------


@pytest.mark.mysql
@pytest.mark.skipif(connection.vendor != "mysql", reason="the race needs MySQL/MariaDB row locks")
@pytest.mark.django_db(transaction=True)
def test_two_jobs_running_at_the_same_moment_send_each_reminder_once(monkeypatch):
    """Both jobs read the same due consultations before either claims one, as two
    cron runs overlapping would. Only the conditional UPDATE stands between them
    and a double reminder: each row's claim succeeds in exactly one job, the
    other's UPDATE waits on the row lock and then matches nothing. (Checked by
    hand: with the `IS NULL` condition dropped from the claim, this test fails.)
    """
    bookings = [
        ConsultationFactory(
            patient=PatientProfileFactory().user, doctor=DoctorUserFactory(), scheduled_at=START, created_at=BOOKED
        )
        for _ in range(6)
    ]
    both_have_read = threading.Barrier(2)
    due = reminders.reminders_due

    def read_then_wait(*, now):
        listed = list(due(now=now))
        both_have_read.wait(timeout=10)
        return listed

    monkeypatch.setattr(reminders, "reminders_due", read_then_wait)
    results: list[object] = [None, None]

    def job(index: int) -> None:
        try:
            results[index] = reminders_send(now=DAY_BEFORE)
        except Exception as error:  # asserted below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=job, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == len(bookings)
    for booking in bookings:
        assert len(reminders_of(booking)) == 2, booking.pk
