"""What one chat frame costs the database, counted statement by statement.

The consumer's sync steps are called directly (no socket): the per-frame
recheck reads one narrow row, and a chat message is rechecked and saved in one
thread hop. The socket-level behaviour of the same steps is in test_consumer*.
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError, connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import DoctorUserFactory
from consultations.consumers import (
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    ConsultationConsumer,
    RoomClosed,
    database_down,
)
from consultations.messaging import MessagingError
from consultations.models import Message
from consultations.tests.factories import ConsultationFactory

pytestmark = pytest.mark.django_db


def socket_of(consultation, user) -> ConsultationConsumer:
    consumer = ConsultationConsumer()
    consumer.consultation_id = consultation.pk
    consumer.user_id = user.pk
    consumer.session_hash = user.get_session_auth_hash()
    session = SessionStore()
    session.create()
    consumer.session_key = session.session_key
    consumer.side = "patient" if consultation.patient_id == user.pk else "doctor"
    return consumer


def statements(queries) -> list[str]:
    return [q["sql"].split()[0] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_a_non_message_frame_costs_one_narrow_select():
    consultation = ConsultationFactory()
    consumer = socket_of(consultation, consultation.doctor)

    with CaptureQueriesContext(connection) as queries:
        checked, user, saved = consumer.recheck_and_save({"type": "typing", "active": True}, [])

    assert statements(queries) == ["SELECT"]
    sql = queries.captured_queries[0]["sql"]
    # The user's side only, and none of the columns the rules do not read.
    assert "password" in sql
    assert "email" not in sql and "chief_complaint" not in sql
    assert (checked.pk, user.pk, saved) == (consultation.pk, consultation.doctor_id, None)


def test_a_chat_message_is_rechecked_and_saved_in_one_hop():
    consultation = ConsultationFactory()
    consumer = socket_of(consultation, consultation.patient)
    consumer.recheck_and_save({"type": "message", "text": "first", "client_id": "c1"}, [])

    with CaptureQueriesContext(connection) as queries:
        _, _, saved = consumer.recheck_and_save({"type": "message", "text": "Still there?", "client_id": "c2"}, [])

    # recheck, the room's row lock, the insert, the "already notified?" check.
    assert statements(queries) == ["SELECT", "SELECT", "INSERT", "SELECT"]
    assert Message.objects.get(pk=saved.pk).body == "Still there?"


def test_the_narrow_recheck_still_closes_a_replaced_doctor_and_a_changed_password():
    consultation = ConsultationFactory()
    doctor_socket = socket_of(consultation, consultation.doctor)
    patient_socket = socket_of(consultation, consultation.patient)

    consultation.doctor = DoctorUserFactory()
    consultation.save(update_fields=["doctor"])
    with pytest.raises(RoomClosed) as replaced:
        doctor_socket.recheck()
    assert replaced.value.code == CLOSE_NOT_FOUND

    consultation.patient.set_password("a-new-passphrase-9")
    consultation.patient.save(update_fields=["password"])
    with pytest.raises(RoomClosed) as signed_out:
        patient_socket.recheck()
    assert signed_out.value.code == CLOSE_UNAUTHENTICATED


def test_a_reply_carries_the_delivery_stamp_of_what_it_answers_in_the_same_hop():
    consultation = ConsultationFactory()
    patient, doctor = socket_of(consultation, consultation.patient), socket_of(consultation, consultation.doctor)
    _, _, question = patient.recheck_and_save({"type": "message", "text": "Is it serious?", "client_id": "p1"}, [])
    doctor.recheck_and_save({"type": "message", "text": "warm-up", "client_id": "d0"}, [])

    with CaptureQueriesContext(connection) as queries:
        _, _, answer = doctor.recheck_and_save(
            {"type": "message", "text": "No, it is not.", "client_id": "d1"}, [question.pk]
        )
    receipt = doctor.stamped

    # recheck, the stamp, then the save as above: no hop of its own for the stamp.
    assert statements(queries) == ["SELECT", "UPDATE", "SELECT", "INSERT", "SELECT"]
    assert receipt.ids == [question.pk]
    question.refresh_from_db()
    assert question.delivered_at == receipt.at and answer.delivered_at is None


def test_a_stamp_made_in_the_hop_survives_a_refused_message():
    consultation = ConsultationFactory()
    patient, doctor = socket_of(consultation, consultation.patient), socket_of(consultation, consultation.doctor)
    _, _, question = patient.recheck_and_save({"type": "message", "text": "Hello?", "client_id": "p1"}, [])

    with pytest.raises(MessagingError):
        doctor.recheck_and_save({"type": "message", "text": "   ", "client_id": "d1"}, [question.pk])

    # receive() announces doctor.stamped in its finally: the tick is not lost.
    assert doctor.stamped.ids == [question.pk]


def test_a_session_gone_without_its_close_event_shuts_the_room_at_the_next_frame():
    consultation = ConsultationFactory()
    patient = socket_of(consultation, consultation.patient)
    patient.recheck()

    # A sign-out whose "close your sockets" event never arrived (a Redis blip).
    SessionStore(session_key=patient.session_key).delete()

    with pytest.raises(RoomClosed) as signed_out:
        patient.recheck()
    assert signed_out.value.code == CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize(
    ("error", "down"),
    [
        (OperationalError(2006, "MySQL server has gone away"), True),
        (OperationalError(2013, "Lost connection to server during query"), True),
        (OperationalError(2003, "Can't connect to server"), True),
        (InterfaceError(0, ""), True),
        # The server answered: not an outage to wait out with "reconnect and send again".
        (OperationalError(1213, "Deadlock found when trying to get lock"), False),
        (OperationalError(1205, "Lock wait timeout exceeded"), False),
        (OperationalError(1290, "The server is running with --read-only"), False),
    ],
)
def test_only_a_lost_connection_counts_as_the_database_being_down(error, down):
    assert database_down(error) is down
