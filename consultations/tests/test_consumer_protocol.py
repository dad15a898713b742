"""The room protocol through the whole ASGI stack (consultations.protocol documents it).

Two sockets per test where it matters, the patient's and the doctor's, each
with its own session. Sync tests driving a coroutine with async_to_sync (no
pytest-asyncio); transactional database because the consumer reads it from
other threads.
"""

from __future__ import annotations

import json

import pytest
from allauth.account import signals as allauth_signals
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from accounts.services import account_delete
from accounts.tests.factories import DoctorUserFactory
from consultations import messaging
from consultations.consumers import (
    CALL_NOT_ALLOWED,
    CLOSE_NOT_FOUND,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHENTICATED,
    UNAVAILABLE,
    ConsultationConsumer,
)
from consultations.models import Consultation, Message
from consultations.services import consultation_transition
from consultations.tests.factories import ConsultationFactory

pytestmark = pytest.mark.django_db(transaction=True)

SITE_ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture
def consultation():
    return ConsultationFactory(status="in_progress")


def headers_for(user) -> list[tuple[bytes, bytes]]:
    # A Client per person: signing a second user into one client would flush
    # the first one's session.
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), SITE_ORIGIN]


async def join(application, consultation, headers) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/consultations/{consultation.pk}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def frame(communicator, kind: str, timeout: float = 2) -> dict:
    """The next frame of this type; frames of other types (presence, receipts) are skipped."""
    while True:
        got = await communicator.receive_json_from(timeout=timeout)
        if got["type"] == kind:
            return got


async def frames_of(communicator, kind: str) -> list[dict]:
    """Every frame of this type that arrives before the socket goes quiet."""
    found = []
    while not await communicator.receive_nothing(timeout=0.3):
        got = await communicator.receive_json_from()
        if got["type"] == kind:
            found.append(got)
    return found


async def closed_with(communicator) -> int:
    while True:
        output = await communicator.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            return output["code"]


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


# --- messages ------------------------------------------------------------------------


def test_a_message_is_saved_then_broadcast_to_both_participants(application, consultation):
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await patient.send_json_to({"type": "message", "text": " Namaste <b>doctor</b> ", "client_id": "c1"})
        echoed = await frame(patient, "message")
        received = await frame(doctor, "message")
        await patient.disconnect()
        await doctor.disconnect()
        return echoed, received

    echoed, received = run(scenario)

    saved = Message.objects.get()
    assert received["message"]["id"] == echoed["message"]["id"] == saved.pk
    # Sent as data, exactly as stored: the page escapes it.
    assert received["message"]["body"] == saved.body == "Namaste <b>doctor</b>"
    assert received["message"]["sender"] == consultation.patient.pk
    assert echoed["client_id"] == "c1"
    assert received["client_id"] is None


def test_the_sender_learns_the_message_was_delivered(application, consultation):
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await patient.send_json_to({"type": "message", "text": "Hello"})
        sent = await frame(patient, "message")
        receipt = await frame(patient, "receipt")
        readers_own = await frames_of(doctor, "receipt")
        await patient.disconnect()
        await doctor.disconnect()
        return sent, receipt, readers_own

    sent, receipt, readers_own = run(scenario)

    assert readers_own == []  # ticks are the sender's; the reader's sockets are not told
    assert receipt["ids"] == [sent["message"]["id"]]
    assert receipt["reader"] == consultation.doctor.pk
    assert "delivered_at" in receipt
    assert Message.objects.get().delivered_at is not None


def test_a_read_receipt_reaches_the_sender(application, consultation):
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await patient.send_json_to({"type": "message", "text": "Hello"})
        got = await frame(doctor, "message")
        await doctor.send_json_to({"type": "read", "up_to": got["message"]["id"]})
        while "read_at" not in (receipt := await frame(patient, "receipt")):
            pass
        await patient.disconnect()
        await doctor.disconnect()
        return got, receipt

    got, receipt = run(scenario)

    assert receipt["ids"] == [got["message"]["id"]]
    assert Message.objects.get().read_at is not None


def test_nothing_is_broadcast_when_the_save_fails(application, consultation):
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await patient.send_json_to({"type": "message", "text": "x" * 5001, "client_id": "c9"})
        error = await frame(patient, "error")
        doctor_messages = await frames_of(doctor, "message")
        await patient.disconnect()
        await doctor.disconnect()
        return error, doctor_messages

    error, doctor_messages = run(scenario)

    assert error == {
        "type": "error",
        "code": "invalid",
        "detail": "A message can be at most 5000 characters long.",
        "client_id": "c9",
    }
    assert doctor_messages == []
    assert not Message.objects.exists()


def test_a_database_outage_mid_message_is_an_error_frame_then_try_again_later(application, consultation, monkeypatch):
    # MariaDB going away mid-chat (bench/faults.py restarts a real one): the
    # frame's transaction never commits, the sender is told so, and the socket
    # closes 4503 so the page reconnects, resyncs and sends the message again.
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    def gone_away(self, frame, arrived):
        raise OperationalError(2006, "MySQL server has gone away")

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        with monkeypatch.context() as patch:
            patch.setattr(ConsultationConsumer, "recheck_and_save", gone_away)
            await patient.send_json_to({"type": "message", "text": "Are you there?", "client_id": "c3"})
            error = await frame(patient, "error")
            code = await closed_with(patient)
        doctor_messages = await frames_of(doctor, "message")
        # Back: a new socket resyncs and the same message goes through.
        again = await join(application, consultation, patient_headers)
        await again.send_json_to({"type": "resync", "after": None})
        resync = await frame(again, "resync")
        await again.send_json_to({"type": "message", "text": "Are you there?", "client_id": "c3"})
        echo = await frame(again, "message")
        for socket in (again, doctor):
            await socket.disconnect()
        return error, code, doctor_messages, resync, echo

    error, code, doctor_messages, resync, echo = run(scenario)

    assert error == {"type": "error", "code": "unavailable", "detail": UNAVAILABLE, "client_id": "c3"}
    assert code == CLOSE_TRY_AGAIN == 4503
    assert doctor_messages == []
    assert resync["messages"] == []
    assert echo["client_id"] == "c3"
    assert list(Message.objects.values_list("body", flat=True)) == ["Are you there?"]


def test_typing_reaches_only_the_other_participant(application, consultation):
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await patient.send_json_to({"type": "typing", "active": True})
        typing = await frame(doctor, "typing")
        own = await frames_of(patient, "typing")
        await patient.disconnect()
        await doctor.disconnect()
        return typing, own

    typing, own = run(scenario)

    assert typing == {"type": "typing", "user": consultation.patient.pk, "role": "patient", "active": True}
    assert own == []


def test_presence_tells_each_side_who_is_there(application, consultation):
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        doctor_arrived = await frame(patient, "presence")
        patient_was_there = await frame(doctor, "presence")
        await doctor.disconnect()
        # An "online" may come twice: over pub/sub, the patient's own hello can
        # reach this process after the doctor joined, and the doctor answers it.
        doctor_left = await frame(patient, "presence")
        while doctor_left["online"]:
            doctor_left = await frame(patient, "presence")
        await patient.disconnect()
        return doctor_arrived, patient_was_there, doctor_left

    doctor_arrived, patient_was_there, doctor_left = run(scenario)

    assert doctor_arrived == {"type": "presence", "user": consultation.doctor.pk, "role": "doctor", "online": True}
    assert patient_was_there["user"] == consultation.patient.pk and patient_was_there["online"]
    assert doctor_left["online"] is False


# --- resync and history ----------------------------------------------------------------


def test_resync_after_a_gap_returns_exactly_the_missed_messages_in_order(application, consultation):
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await patient.send_json_to({"type": "message", "text": "one"})
        last_seen = (await frame(doctor, "message"))["message"]["id"]
        await doctor.disconnect()
        for text in ("two", "three", "four"):
            await patient.send_json_to({"type": "message", "text": text})
            await frame(patient, "message")
        doctor = await join(application, consultation, doctor_headers)
        await doctor.send_json_to({"type": "resync", "after": last_seen})
        resync = await frame(doctor, "resync")
        delivered = await frame(patient, "receipt")
        await patient.disconnect()
        await doctor.disconnect()
        return resync, delivered

    resync, delivered = run(scenario)

    missed = list(Message.objects.order_by("created_at", "id").values_list("pk", "body"))[1:]
    assert [(m["id"], m["body"]) for m in resync["messages"]] == missed
    assert [body for _, body in missed] == ["two", "three", "four"]
    assert resync["complete"] is True
    # The patient learns the doctor has them now.
    assert delivered["ids"] == [pk for pk, _ in missed]


def test_resync_with_a_cursor_from_another_room_is_an_error(application, consultation):
    patient_headers = headers_for(consultation.patient)
    other = ConsultationFactory(patient=consultation.patient)
    foreign = Message.objects.create(consultation=other, sender=consultation.patient, body="elsewhere")

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await patient.send_json_to({"type": "resync", "after": foreign.pk})
        error = await frame(patient, "error")
        await patient.disconnect()
        return error

    assert run(scenario)["code"] == "invalid"


def test_history_returns_the_latest_page(application, consultation):
    patient_headers = headers_for(consultation.patient)
    for i in range(3):
        Message.objects.create(consultation=consultation, sender=consultation.doctor, body=f"m{i}")

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await patient.send_json_to({"type": "history", "before": None, "limit": 2})
        page = await frame(patient, "history")
        await patient.disconnect()
        return page

    page = run(scenario)

    assert [m["body"] for m in page["messages"]] == ["m1", "m2"]
    assert page["has_more"] is True


# --- limits and bad input ----------------------------------------------------------------


def test_malformed_json_gets_an_error_and_the_socket_stays_up(application, consultation):
    patient_headers = headers_for(consultation.patient)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await patient.send_to(text_data="{not json")
        error = await frame(patient, "error")
        await patient.send_to(text_data="[1, 2]")
        not_object = await frame(patient, "error")
        await patient.send_json_to({"type": "message", "text": "still here"})
        message = await frame(patient, "message")
        await patient.disconnect()
        return error, not_object, message

    error, not_object, message = run(scenario)

    assert error["code"] == not_object["code"] == "malformed_json"
    assert message["message"]["body"] == "still here"


def test_a_frame_over_the_size_limit_is_refused_before_parsing(application, consultation, settings):
    settings.ROOM_MAX_FRAME_BYTES = 1000
    patient_headers = headers_for(consultation.patient)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        # Not even JSON: the size check comes first.
        await patient.send_to(text_data="{" + "x" * 1000)
        error = await frame(patient, "error")
        # 400 Devanagari characters are 1200 bytes.
        await patient.send_to(text_data=json.dumps({"type": "message", "text": "न" * 400}, ensure_ascii=False))
        multibyte = await frame(patient, "error")
        await patient.send_json_to({"type": "message", "text": "short"})
        message = await frame(patient, "message")
        await patient.disconnect()
        return error, multibyte, message

    error, multibyte, message = run(scenario)

    assert error == {"type": "error", "code": "too_large", "detail": "A frame can be at most 1000 bytes."}
    assert multibyte["code"] == "too_large"
    assert message["message"]["body"] == "short"
    assert Message.objects.count() == 1


def test_messages_over_the_rate_limit_are_refused_and_the_socket_stays_up(application, consultation, settings):
    settings.ROOM_MESSAGES_BURST = 3
    settings.ROOM_MESSAGES_PER_MINUTE = 1
    patient_headers = headers_for(consultation.patient)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        for i in range(4):
            await patient.send_json_to({"type": "message", "text": f"m{i}", "client_id": f"c{i}"})
        error = await frame(patient, "error")
        await patient.send_json_to({"type": "resync", "after": None})
        resync = await frame(patient, "resync")
        await patient.disconnect()
        return error, resync

    error, resync = run(scenario)

    assert error["code"] == "rate_limited"
    assert error["client_id"] == "c3"
    # The socket is still up and answering.
    assert [m["body"] for m in resync["messages"]] == ["m0", "m1", "m2"]
    assert Message.objects.count() == 3


# --- per-event re-check ----------------------------------------------------------------


def test_a_consultation_cancelled_mid_session_becomes_read_only_at_once(application, consultation):
    patient_headers = headers_for(consultation.patient)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await database_sync_to_async(Consultation.objects.filter(pk=consultation.pk).update)(status="cancelled")
        await patient.send_json_to({"type": "message", "text": "Are you there?"})
        readonly = await frame(patient, "readonly")
        await patient.send_json_to({"type": "typing", "active": True})
        again = await frame(patient, "readonly")
        # Reading stays possible.
        await patient.send_json_to({"type": "resync", "after": None})
        resync = await frame(patient, "resync")
        await patient.disconnect()
        return readonly, again, resync

    readonly, again, resync = run(scenario)

    assert readonly == again == {"type": "readonly", "status": "cancelled"}
    assert resync["messages"] == []
    assert not Message.objects.exists()


def test_a_read_only_consultation_says_so_on_connect(application):
    consultation = ConsultationFactory(status="completed")
    patient_headers = headers_for(consultation.patient)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        first = await patient.receive_json_from()
        await patient.disconnect()
        return first

    assert run(scenario) == {"type": "readonly", "status": "completed"}


def test_a_participant_removed_mid_session_is_disconnected(application, consultation):
    doctor_headers = headers_for(consultation.doctor)
    replacement = DoctorUserFactory()

    async def scenario():
        doctor = await join(application, consultation, doctor_headers)
        await database_sync_to_async(Consultation.objects.filter(pk=consultation.pk).update)(doctor=replacement)
        await doctor.send_json_to({"type": "typing", "active": True})
        return await closed_with(doctor)

    assert run(scenario) == CLOSE_NOT_FOUND


# --- session changes -------------------------------------------------------------------


def test_signing_out_closes_the_users_sockets(application, consultation):
    client = Client()
    client.force_login(consultation.patient)
    headers = [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), SITE_ORIGIN]

    async def scenario():
        patient = await join(application, consultation, headers)
        await database_sync_to_async(client.logout)()
        return await closed_with(patient)

    assert run(scenario) == CLOSE_UNAUTHENTICATED


def test_locking_the_account_closes_its_sockets(application, consultation):
    patient_headers = headers_for(consultation.patient)

    def lock():
        user = consultation.patient
        user.locked_until = timezone.now() + timezone.timedelta(minutes=15)
        user.save(update_fields=["locked_until"])

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await database_sync_to_async(lock)()
        return await closed_with(patient)

    assert run(scenario) == CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize("change", ["deactivate", "close_account"])
def test_deactivating_or_closing_the_account_closes_its_sockets(application, consultation, change):
    patient_headers = headers_for(consultation.patient)

    def apply():
        user = consultation.patient
        if change == "deactivate":
            user.is_active = False
            user.save(update_fields=["is_active"])
        else:
            account_delete(user=user)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await database_sync_to_async(apply)()
        return await closed_with(patient)

    assert run(scenario) == CLOSE_UNAUTHENTICATED


def test_a_password_change_through_allauth_closes_the_users_sockets(application, consultation):
    patient_headers = headers_for(consultation.patient)

    def change_password():
        # What allauth's change-password view sends once the new password is saved.
        allauth_signals.password_changed.send(
            sender=type(consultation.patient), request=None, user=consultation.patient
        )

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await database_sync_to_async(change_password)()
        return await closed_with(patient)

    assert run(scenario) == CLOSE_UNAUTHENTICATED


def test_a_password_changed_without_any_signal_closes_the_socket_at_the_next_frame(application, consultation):
    patient_headers = headers_for(consultation.patient)

    def change_password():
        user = consultation.patient
        user.set_password("an entirely new passphrase")
        user.save()

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await database_sync_to_async(change_password)()
        await patient.send_json_to({"type": "message", "text": "hello"})
        return await closed_with(patient)

    assert run(scenario) == CLOSE_UNAUTHENTICATED
    assert not Message.objects.exists()


# --- broadcasts from services ----------------------------------------------------------


def test_a_system_message_reaches_open_sockets_after_commit(application, consultation):
    patient_headers = headers_for(consultation.patient)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        message = await database_sync_to_async(messaging.system_message)(
            consultation=consultation, body="Dr Rao joined", metadata={"event": "joined"}
        )
        got = await frame(patient, "message")
        await patient.disconnect()
        return message, got

    message, got = run(scenario)

    assert got["message"]["id"] == message.pk
    assert got["message"]["sender"] is None
    assert got["message"]["kind"] == "system"
    assert got["client_id"] is None


def test_closing_the_room_tells_open_sockets_at_once(application, consultation):
    patient_headers = headers_for(consultation.patient)

    def complete():
        consultation.status = "completed"
        consultation.save(update_fields=["status"])
        messaging.room_closed_broadcast(consultation=consultation)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await database_sync_to_async(complete)()
        readonly = await frame(patient, "readonly")
        await patient.disconnect()
        return readonly

    assert run(scenario) == {"type": "readonly", "status": "completed"}


# --- call signalling -------------------------------------------------------------------


def test_call_signalling_is_relayed_to_the_other_participant_in_a_video_consultation(application):
    consultation = ConsultationFactory(status="in_progress", mode="video")
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await doctor.send_json_to({"type": "call.offer", "sdp": "v=0 offer"})
        offer = await frame(patient, "call.offer")
        await patient.send_json_to({"type": "call.ice", "candidate": {"candidate": "candidate:1", "sdpMid": "0"}})
        ice = await frame(doctor, "call.ice")
        own_echo = await frames_of(patient, "call.ice")
        await patient.disconnect()
        await doctor.disconnect()
        return offer, ice, own_echo

    offer, ice, own_echo = run(scenario)

    assert offer == {"type": "call.offer", "sdp": "v=0 offer", "from": consultation.doctor.pk}
    assert ice["candidate"] == {"candidate": "candidate:1", "sdpMid": "0"}
    assert own_echo == []


@pytest.mark.parametrize(("mode", "status"), [("chat", "in_progress"), ("video", "scheduled")])
def test_call_signalling_is_refused_outside_an_in_progress_call_consultation(application, mode, status):
    consultation = ConsultationFactory(status=status, mode=mode)
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await doctor.send_json_to({"type": "call.offer", "sdp": "v=0 offer"})
        error = await frame(doctor, "error")
        relayed = await frames_of(patient, "call.offer")
        await patient.disconnect()
        await doctor.disconnect()
        return error, relayed

    error, relayed = run(scenario)

    assert error == {"type": "error", "code": "forbidden", "detail": CALL_NOT_ALLOWED}
    assert relayed == []


def test_the_doctor_completing_the_consultation_closes_the_room_at_once(application, consultation):
    patient_headers = headers_for(consultation.patient)

    def complete():
        consultation_transition(consultation=consultation, to="completed", by=consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        await database_sync_to_async(complete)()
        readonly = await frame(patient, "readonly")
        await patient.disconnect()
        return readonly

    assert run(scenario) == {"type": "readonly", "status": "completed"}
