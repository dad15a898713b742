"""consultations.messaging: sending, receipts, resync and history of a room's messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification
from accounts.tests.factories import PatientUserFactory
from consultations import messaging
from consultations.models import Message, MessageType
from consultations.tests.factories import ConsultationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def consultation():
    return ConsultationFactory()


def test_a_participant_sends_a_trimmed_message(consultation):
    message = messaging.message_send(consultation=consultation, sender=consultation.patient, body="  Namaste  ")

    saved = Message.objects.get(pk=message.pk)
    assert saved.body == "Namaste"
    assert saved.sender == consultation.patient
    assert saved.message_type == MessageType.TEXT
    assert saved.pk.startswith("msg_")


def test_the_doctor_sends_too_while_in_progress(consultation):
    consultation.status = "in_progress"
    consultation.save()

    message = messaging.message_send(consultation=consultation, sender=consultation.doctor, body="How is the pain?")

    assert message.sender == consultation.doctor


def test_an_outsider_cannot_send(consultation):
    with pytest.raises(messaging.NotParticipant, match=messaging.NOT_A_PARTICIPANT):
        messaging.message_send(consultation=consultation, sender=PatientUserFactory(), body="Hello")

    assert not Message.objects.exists()


@pytest.mark.parametrize("status", ["completed", "cancelled", "no_show", "requested"])
def test_a_closed_consultation_is_read_only(consultation, status):
    consultation.status = status
    consultation.save()

    with pytest.raises(messaging.RoomReadOnly) as error:
        messaging.message_send(consultation=consultation, sender=consultation.patient, body="Hello")

    assert error.value.status == status
    assert not Message.objects.exists()


def test_the_status_is_read_from_the_database_not_the_callers_copy(consultation):
    stale = ConsultationFactory._meta.model.objects.get(pk=consultation.pk)
    consultation.status = "cancelled"
    consultation.save()

    with pytest.raises(messaging.RoomReadOnly):
        messaging.message_send(consultation=stale, sender=stale.patient, body="Hello")


@pytest.mark.parametrize("body", ["", "   \n\t "])
def test_an_empty_message_is_refused(consultation, body):
    with pytest.raises(messaging.InvalidMessage, match=messaging.MESSAGE_EMPTY):
        messaging.message_send(consultation=consultation, sender=consultation.patient, body=body)


def test_a_message_longer_than_5000_characters_is_refused(consultation):
    messaging.message_send(consultation=consultation, sender=consultation.patient, body="a" * 5000)

    with pytest.raises(messaging.InvalidMessage, match=messaging.MESSAGE_TOO_LONG):
        messaging.message_send(consultation=consultation, sender=consultation.patient, body="a" * 5001)
    assert Message.objects.count() == 1


def test_the_other_party_is_notified_once_per_unread_burst_without_the_text(consultation):
    for body in ("The pain is back", "It is worse at night"):
        messaging.message_send(consultation=consultation, sender=consultation.patient, body=body)

    notes = Notification.objects.filter(user=consultation.doctor, kind="message_received")
    assert notes.count() == 1
    assert "pain" not in notes.get().body
    assert not Notification.objects.filter(user=consultation.patient, kind="message_received").exists()

    notes.update(read_at=timezone.now())
    messaging.message_send(consultation=consultation, sender=consultation.patient, body="Still there?")
    assert notes.count() == 2


def test_a_system_message_has_no_sender_and_is_written_in_a_closed_room(consultation):
    consultation.status = "completed"
    consultation.save()

    message = messaging.system_message(
        consultation=consultation, body="Video call ended", message_type="call", metadata={"duration_seconds": 720}
    )

    assert message.sender is None
    assert message.metadata == {"duration_seconds": 720}


# --- receipts --------------------------------------------------------------------------


def test_read_marks_only_the_other_partys_messages_up_to_the_cursor(consultation):
    first = MessageFactory(consultation=consultation, sender=consultation.doctor)
    second = MessageFactory(consultation=consultation, sender=consultation.doctor)
    mine = MessageFactory(consultation=consultation, sender=consultation.patient)
    later = MessageFactory(consultation=consultation, sender=consultation.doctor)
    system = MessageFactory(consultation=consultation, sender=None, message_type="system")

    receipt = messaging.messages_mark_read(consultation=consultation, reader=consultation.patient, up_to_id=mine.pk)

    assert receipt.ids == [first.pk, second.pk]
    read = set(Message.objects.filter(read_at__isnull=False).values_list("pk", flat=True))
    assert read == {first.pk, second.pk}
    assert set(Message.objects.filter(delivered_at__isnull=False).values_list("pk", flat=True)) == read
    assert later.pk not in read and system.pk not in read


def test_a_receipt_is_given_once(consultation):
    message = MessageFactory(consultation=consultation, sender=consultation.doctor)
    first = messaging.messages_mark_read(consultation=consultation, reader=consultation.patient, up_to_id=message.pk)

    again = messaging.messages_mark_read(consultation=consultation, reader=consultation.patient, up_to_id=message.pk)

    assert first.ids == [message.pk]
    assert again.ids == []
    assert Message.objects.get().read_at == first.at


def test_delivered_does_not_mark_read(consultation):
    message = MessageFactory(consultation=consultation, sender=consultation.doctor)

    messaging.messages_mark_delivered(consultation=consultation, reader=consultation.patient, up_to_id=message.pk)

    message.refresh_from_db()
    assert message.delivered_at is not None
    assert message.read_at is None


def test_a_cursor_from_another_consultation_is_refused(consultation):
    elsewhere = MessageFactory()

    with pytest.raises(messaging.UnknownCursor, match=messaging.CURSOR_UNKNOWN):
        messaging.messages_mark_read(consultation=consultation, reader=consultation.patient, up_to_id=elsewhere.pk)


def test_an_outsider_cannot_mark_messages_read(consultation):
    message = MessageFactory(consultation=consultation, sender=consultation.doctor)

    with pytest.raises(messaging.NotParticipant):
        messaging.messages_mark_read(consultation=consultation, reader=PatientUserFactory(), up_to_id=message.pk)


# --- resync and history ----------------------------------------------------------------


def _same_millisecond(consultation, count):
    # Rows sharing created_at: the id breaks the tie, so nothing is skipped or repeated.
    at = timezone.now()
    rows = [MessageFactory(consultation=consultation, body=f"m{i}") for i in range(count)]
    Message.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=at)
    return list(Message.objects.filter(consultation=consultation).order_by("created_at", "id"))


def test_resync_returns_exactly_what_follows_the_cursor_in_order(consultation):
    rows = [MessageFactory(consultation=consultation, body=f"m{i}") for i in range(5)]
    MessageFactory()  # another room

    after, complete = messaging.messages_after(consultation=consultation, after_id=rows[1].pk, limit=50)

    assert [m.pk for m in after] == [r.pk for r in rows[2:]]
    assert complete


def test_resync_pages_without_gaps_or_duplicates_when_timestamps_tie(consultation):
    rows = _same_millisecond(consultation, 7)
    seen, cursor, complete = [], None, False
    while not complete:
        page, complete = messaging.messages_after(consultation=consultation, after_id=cursor, limit=3)
        seen += [m.pk for m in page]
        cursor = page[-1].pk if page else cursor

    assert seen == [r.pk for r in rows]


def test_resync_after_a_deleted_message_still_works(consultation):
    first, second = (MessageFactory(consultation=consultation) for _ in range(2))
    first.soft_delete()

    after, _ = messaging.messages_after(consultation=consultation, after_id=first.pk, limit=50)

    assert [m.pk for m in after] == [second.pk]


def test_resync_with_an_unknown_cursor_is_refused(consultation):
    with pytest.raises(messaging.UnknownCursor):
        messaging.messages_after(consultation=consultation, after_id="msg_01NOPE", limit=50)


def test_history_pages_backwards_from_the_latest(consultation):
    rows = [MessageFactory(consultation=consultation, body=f"m{i}") for i in range(5)]
    Message.objects.filter(pk=rows[0].pk).update(created_at=timezone.now() - timedelta(hours=1))
    rows = list(Message.objects.order_by("created_at", "id"))

    latest, more = messaging.messages_page(consultation=consultation, before_id=None, limit=3)
    older, more_again = messaging.messages_page(consultation=consultation, before_id=latest[0].pk, limit=3)

    assert [m.pk for m in latest] == [r.pk for r in rows[2:]]
    assert more
    assert [m.pk for m in older] == [r.pk for r in rows[:2]]
    assert not more_again


def test_sending_a_message_is_three_statements(consultation):
    # The row lock, the INSERT and "already notified?" (the first message of a
    # burst also writes the notification). No model-validation queries: the
    # foreign keys are the locked row and a checked participant.
    messaging.message_send(consultation=consultation, sender=consultation.patient, body="Hello doctor")
    with CaptureQueriesContext(connection) as queries:
        messaging.message_send(consultation=consultation, sender=consultation.patient, body="Are you there?")

    statements = [q["sql"].split()[0] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert statements == ["SELECT", "INSERT", "SELECT"]


def test_a_message_is_stamped_delivered_once_and_only_for_the_other_party(consultation):
    mine = messaging.message_send(consultation=consultation, sender=consultation.patient, body="Hello doctor")

    def delivered(reader_id, ids):
        return messaging.messages_delivered(consultation_id=consultation.pk, reader_id=reader_id, message_ids=ids)

    own = delivered(consultation.patient_id, [mine.pk])
    first = delivered(consultation.doctor_id, [mine.pk])
    again = delivered(consultation.doctor_id, [mine.pk])

    assert own.ids == [] and first.ids == [mine.pk] and again.ids == []


def test_a_window_of_deliveries_is_one_update_and_the_receipt_names_only_what_it_stamped(consultation):
    sent = [
        messaging.message_send(consultation=consultation, sender=consultation.patient, body=f"Message {i}")
        for i in range(3)
    ]
    ids = [m.pk for m in sent]
    # Another device of the doctor already stamped the first one.
    messaging.messages_delivered(consultation_id=consultation.pk, reader_id=consultation.doctor_id, message_ids=ids[:1])

    with CaptureQueriesContext(connection) as queries:
        receipt = messaging.messages_delivered(
            consultation_id=consultation.pk, reader_id=consultation.doctor_id, message_ids=[*ids, ids[1]]
        )

    assert receipt.ids == ids[1:]
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE", "SELECT"]
    assert Message.objects.filter(pk__in=ids, delivered_at__isnull=True).count() == 0
