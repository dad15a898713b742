"""The consultation room's websocket handshake, through the whole ASGI stack:
origin check, session auth, routing, then the consumer's own authorisation.

pytest-asyncio is not installed, so each test is a sync test that runs its
coroutine with async_to_sync. The database must be transactional: the consumer
reads it from another thread, which sees only committed rows.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from accounts.tests.factories import PatientUserFactory
from consultations.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from consultations.tests.factories import ConsultationFactory

pytestmark = pytest.mark.django_db(transaction=True)

SITE_ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture
def consultation():
    return ConsultationFactory()


def session_cookie(client, user) -> tuple[bytes, bytes]:
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def connect(application, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[bool, int | None]:
    async def run():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return async_to_sync(run)()


def room(consultation) -> str:
    return f"/ws/consultations/{consultation.pk}/"


def test_the_patient_of_the_consultation_connects(application, client, consultation):
    connected, _ = connect(application, room(consultation), [session_cookie(client, consultation.patient), SITE_ORIGIN])

    assert connected


def test_the_doctor_of_the_consultation_connects(application, client, consultation):
    connected, _ = connect(application, room(consultation), [session_cookie(client, consultation.doctor), SITE_ORIGIN])

    assert connected


def test_another_patient_is_refused(application, client, consultation):
    outsider = PatientUserFactory()

    connected, code = connect(application, room(consultation), [session_cookie(client, outsider), SITE_ORIGIN])

    assert not connected
    assert code == CLOSE_NOT_FOUND == 4404


def test_an_anonymous_socket_is_refused(application, consultation):
    connected, code = connect(application, room(consultation), [SITE_ORIGIN])

    assert not connected
    assert code == CLOSE_UNAUTHENTICATED == 4401


def test_a_socket_from_another_origin_is_refused_even_with_a_valid_session(application, client, consultation):
    cookie = session_cookie(client, consultation.patient)

    connected, code = connect(application, room(consultation), [cookie, (b"origin", b"http://evil.example")])

    assert not connected
    # Refused by the origin check, before the consumer runs.
    assert code not in (CLOSE_UNAUTHENTICATED, CLOSE_NOT_FOUND)


def test_an_unknown_consultation_is_refused_like_a_forbidden_one(application, client, consultation):
    cookie = session_cookie(client, consultation.patient)

    connected, code = connect(application, "/ws/consultations/cons_01JUNKNOWNUNKNOWNUNKNOWN00/", [cookie, SITE_ORIGIN])

    assert not connected
    assert code == CLOSE_NOT_FOUND


def test_a_soft_deleted_consultation_is_refused(application, client, consultation):
    cookie = session_cookie(client, consultation.patient)
    consultation.soft_delete()

    connected, code = connect(application, room(consultation), [cookie, SITE_ORIGIN])

    assert not connected
    assert code == CLOSE_NOT_FOUND


def test_the_session_of_a_deleted_user_no_longer_opens_the_room(application, client, consultation):
    cookie = session_cookie(client, consultation.patient)
    consultation.patient.soft_delete()

    connected, code = connect(application, room(consultation), [cookie, SITE_ORIGIN])

    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


def test_an_unknown_event_gets_an_error_frame_and_the_socket_stays_open(application, client, consultation):
    headers = [session_cookie(client, consultation.patient), SITE_ORIGIN]

    async def run():
        communicator = WebsocketCommunicator(application, room(consultation), headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "shout", "body": "Namaste doctor"})
        first = await communicator.receive_json_from()
        still_open = await communicator.receive_nothing()
        await communicator.send_json_to({"type": "typing"})
        second = await communicator.receive_json_from()
        await communicator.disconnect()
        return first, still_open, second

    first, still_open, second = async_to_sync(run)()

    assert first == {"type": "error", "code": "unknown_type", "detail": "Unknown frame type 'shout'."}
    assert still_open
    assert second == {"type": "error", "code": "invalid", "detail": "active must be true or false."}
