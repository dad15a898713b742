"""Calls: ICE servers and TURN credentials (consultations.calls), and the call
record the consumer writes ("Video call started", "Call ended (mm:ss)")."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from consultations import calls
from consultations.models import Message, MessageType
from consultations.tests.factories import ConsultationFactory
from consultations.tests.test_consumer_protocol import frame, frames_of, headers_for, join, run

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def turn(settings):
    settings.STUN_URLS = ["stun:stun.example.org:3478"]
    settings.TURN_URLS = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]
    settings.TURN_SHARED_SECRET = "north-wind-secret"
    settings.TURN_USERNAME = ""
    settings.TURN_PASSWORD = ""
    settings.TURN_CREDENTIAL_TTL = 3600
    return settings


class FakeUser:
    pk = "patient_01ABC"


# --- ICE servers ---------------------------------------------------------------------


def test_the_turn_credential_is_the_hmac_sha1_of_the_expiring_username(turn):
    servers = calls.ice_servers(FakeUser(), NOW)

    stun, relay = servers
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    assert relay["urls"] == turn.TURN_URLS
    expires = int(NOW.timestamp()) + 3600
    assert relay["username"] == f"{expires}:patient_01ABC"
    # What coturn computes under use-auth-secret / static-auth-secret.
    expected = hmac.new(b"north-wind-secret", relay["username"].encode(), hashlib.sha1).digest()
    assert relay["credential"] == base64.b64encode(expected).decode()


def test_the_turn_credential_expires_ttl_seconds_after_it_is_minted(turn):
    turn.TURN_CREDENTIAL_TTL = 600

    early = calls.ice_servers(FakeUser(), NOW)[1]
    later = calls.ice_servers(FakeUser(), NOW + timedelta(minutes=5))[1]

    assert int(early["username"].split(":")[0]) == int(NOW.timestamp()) + 600
    assert int(later["username"].split(":")[0]) == int(NOW.timestamp()) + 900
    assert early["credential"] != later["credential"]


def test_a_known_vector_matches_the_turn_rest_scheme():
    username, credential = calls.turn_credential(secret="secret", user_id="alice", expires=1700000000)

    assert username == "1700000000:alice"
    assert credential == base64.b64encode(hmac.new(b"secret", b"1700000000:alice", hashlib.sha1).digest()).decode()
    assert len(base64.b64decode(credential)) == 20


def test_static_turn_credentials_are_used_without_a_shared_secret(turn):
    turn.TURN_SHARED_SECRET = ""
    turn.TURN_USERNAME = "dhanwantari"
    turn.TURN_PASSWORD = "static-pass"

    relay = calls.ice_servers(FakeUser(), NOW)[1]

    assert relay == {"urls": turn.TURN_URLS, "username": "dhanwantari", "credential": "static-pass"}


def test_turn_is_left_out_when_no_credentials_are_configured(turn):
    turn.TURN_SHARED_SECRET = ""

    assert calls.ice_servers(FakeUser(), NOW) == [{"urls": ["stun:stun.example.org:3478"]}]


def test_no_ice_servers_are_offered_when_none_are_configured(settings):
    settings.STUN_URLS = []
    settings.TURN_URLS = []

    assert calls.ice_servers(FakeUser(), NOW) == []


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00"), (59, "00:59"), (723, "12:03"), (3723, "1:02:03")])
def test_durations_read_as_minutes_and_seconds(seconds, text):
    assert calls.format_duration(seconds) == text


# --- the call record through the socket ---------------------------------------------------


def call_messages() -> list[Message]:
    return list(Message.objects.filter(message_type=MessageType.CALL).order_by("created_at", "id"))


@pytest.mark.django_db(transaction=True)
def test_the_ice_servers_are_sent_on_connect_in_a_video_consultation(application, turn):
    consultation = ConsultationFactory(status="in_progress", mode="video")
    patient_headers = headers_for(consultation.patient)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        config = await patient.receive_json_from()
        await patient.disconnect()
        return config

    config = run(scenario)

    assert config["type"] == "call.config"
    assert config["mode"] == "video"
    assert config["ice_servers"][0] == {"urls": ["stun:stun.example.org:3478"]}
    assert config["ice_servers"][1]["username"].endswith(f":{consultation.patient.pk}")


@pytest.mark.django_db(transaction=True)
def test_a_chat_consultation_gets_no_ice_servers(application, turn):
    consultation = ConsultationFactory(status="in_progress", mode="chat")
    patient_headers = headers_for(consultation.patient)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        configs = await frames_of(patient, "call.config")
        await patient.disconnect()
        return configs

    assert run(scenario) == []


@pytest.mark.django_db(transaction=True)
def test_an_answered_call_and_its_hangup_are_written_once_each(application):
    consultation = ConsultationFactory(status="in_progress", mode="video")
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await doctor.send_json_to({"type": "call.offer", "sdp": "v=0 offer"})
        await frame(patient, "call.offer")
        await patient.send_json_to({"type": "call.answer", "sdp": "v=0 answer"})
        await frame(doctor, "call.answer")
        started = await frame(doctor, "message")
        # An ICE restart: a new offer and answer in the same call.
        await doctor.send_json_to({"type": "call.offer", "sdp": "v=0 restart"})
        await frame(patient, "call.offer")
        await patient.send_json_to({"type": "call.answer", "sdp": "v=0 restart answer"})
        await frame(doctor, "call.answer")
        await doctor.send_json_to({"type": "call.hangup"})
        hangup = await frame(patient, "call.hangup")
        ended = await frame(patient, "message")
        # The other side hangs up too (both buttons pressed): no second record.
        await patient.send_json_to({"type": "call.hangup"})
        await frame(doctor, "call.hangup")
        later = await frames_of(doctor, "message")
        await patient.disconnect()
        await doctor.disconnect()
        return started, hangup, ended, later

    started, hangup, ended, later = run(scenario)

    start, end = call_messages()
    assert start.body == "Video call started"
    assert start.sender is None
    assert start.metadata["event"] == "call_started" and start.metadata["kind"] == "video"
    assert end.body.startswith("Call ended (00:0")
    assert end.metadata["event"] == "call_ended"
    assert end.metadata["reason"] == "hangup"
    assert end.metadata["started_at"] == start.metadata["started_at"]
    assert started["message"]["id"] == start.pk and started["message"]["kind"] == "call"
    assert ended["message"]["id"] == end.pk
    assert hangup == {"type": "call.hangup", "from": consultation.doctor.pk}
    assert later == []


@pytest.mark.django_db(transaction=True)
def test_an_audio_call_is_recorded_as_an_audio_call(application):
    consultation = ConsultationFactory(status="in_progress", mode="audio")
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await patient.send_json_to({"type": "call.offer", "sdp": "v=0 offer"})
        await frame(doctor, "call.offer")
        await doctor.send_json_to({"type": "call.answer", "sdp": "v=0 answer"})
        await frame(patient, "message")
        await patient.disconnect()
        await doctor.disconnect()

    run(scenario)

    assert [m.body for m in call_messages()][0] == "Audio call started"


@pytest.mark.django_db(transaction=True)
def test_a_declined_call_writes_nothing(application):
    consultation = ConsultationFactory(status="in_progress", mode="video")
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await doctor.send_json_to({"type": "call.offer", "sdp": "v=0 offer"})
        await frame(patient, "call.offer")
        await patient.send_json_to({"type": "call.hangup"})
        await frame(doctor, "call.hangup")
        await doctor.disconnect()
        await patient.disconnect()

    run(scenario)

    assert call_messages() == []


@pytest.mark.django_db(transaction=True)
def test_a_socket_dropping_mid_call_ends_the_call_for_both(application):
    consultation = ConsultationFactory(status="in_progress", mode="video")
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    async def scenario():
        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        # The patient has a second tab open that takes no part in the call.
        other_tab = await join(application, consultation, patient_headers)
        await doctor.send_json_to({"type": "call.offer", "sdp": "v=0 offer"})
        await frame(patient, "call.offer")
        await patient.send_json_to({"type": "call.answer", "sdp": "v=0 answer"})
        await frame(doctor, "message")
        await other_tab.disconnect()
        still_open = await frames_of(doctor, "message")
        await patient.disconnect()
        hangup = await frame(doctor, "call.hangup")
        ended = await frame(doctor, "message")
        await doctor.disconnect()
        return still_open, hangup, ended

    still_open, hangup, ended = run(scenario)

    start, end = call_messages()
    assert still_open == []
    assert hangup == {"type": "call.hangup", "reason": "disconnected", "from": consultation.patient.pk}
    assert ended["message"]["id"] == end.pk
    assert end.metadata["reason"] == "disconnected"


@pytest.mark.django_db(transaction=True)
def test_a_call_open_when_the_consultation_completes_still_ends_on_record(application):
    consultation = ConsultationFactory(status="in_progress", mode="video")
    patient_headers, doctor_headers = headers_for(consultation.patient), headers_for(consultation.doctor)

    def complete():
        consultation.status = "completed"
        consultation.save(update_fields=["status"])

    async def scenario():
        from channels.db import database_sync_to_async

        patient = await join(application, consultation, patient_headers)
        doctor = await join(application, consultation, doctor_headers)
        await doctor.send_json_to({"type": "call.offer", "sdp": "v=0 offer"})
        await frame(patient, "call.offer")
        await patient.send_json_to({"type": "call.answer", "sdp": "v=0 answer"})
        await frame(doctor, "message")
        await database_sync_to_async(complete)()
        await doctor.send_json_to({"type": "call.hangup"})
        readonly = await frame(doctor, "readonly")
        await patient.disconnect()
        await doctor.disconnect()
        return readonly

    assert run(scenario) == {"type": "readonly", "status": "completed"}
    assert [m.metadata["event"] for m in call_messages()] == ["call_started", "call_ended"]


@pytest.mark.django_db
def test_call_end_measures_from_the_recorded_start():
    consultation = ConsultationFactory(status="in_progress", mode="video")
    start = timezone.now()

    calls.call_start(consultation=consultation, at=start)
    again = calls.call_start(consultation=consultation, at=start + timedelta(seconds=5))
    ended = calls.call_end(consultation=consultation, at=start + timedelta(minutes=12, seconds=3), reason="hangup")
    twice = calls.call_end(consultation=consultation, at=start + timedelta(minutes=13), reason="hangup")

    assert again is None and twice is None
    assert ended.body == "Call ended (12:03)"
    assert ended.metadata["duration_seconds"] == 723
