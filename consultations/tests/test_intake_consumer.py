"""The AI intake over the room's websocket: the guard, the reply, the emergency stop.

Through the whole ASGI stack (origin check, session auth, the consumer), with the
in-memory or Redis channel layer, whichever the settings name.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from consultations.intake import services as intake
from consultations.models import Consultation, Message
from consultations.tests.test_consumer import SITE_ORIGIN, room, session_cookie
from dhanwantari.testing.fake_openai import FakeOpenAI
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


def talk(application, client, patient, consultation, texts: list[str], frames_each: int) -> list[list[dict]]:
    """Send each text and collect the frames that follow it (until quiet)."""
    headers = [session_cookie(client, patient), SITE_ORIGIN]

    async def run():
        communicator = WebsocketCommunicator(application, room(consultation), headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        seen = []
        for n, text in enumerate(texts):
            await communicator.send_json_to({"type": "message", "text": text, "client_id": f"c{n}"})
            got = []
            while not await communicator.receive_nothing(timeout=1.0):
                got.append(await communicator.receive_json_from())
            seen.append(got)
        await communicator.disconnect()
        return seen

    return async_to_sync(run)()


def test_a_message_is_echoed_then_the_assistant_types_and_asks_the_next_question(application, client, patient):
    consultation = intake.intake_start(patient=patient, consent=True)

    [frames] = talk(application, client, patient, consultation, ["Acidity after meals"], 3)

    kinds = [(f["type"], (f.get("message") or {}).get("sender")) for f in frames]
    assert kinds[0] == ("message", patient.pk)
    assert frames[0]["client_id"] == "c0"
    assistant = intake.assistant_user().pk
    replies = [f for f in frames if f["type"] == "message" and f["message"]["sender"] == assistant]
    assert len(replies) == 1
    assert replies[0]["message"]["metadata"]["intake"] == "taking"
    assert any(f["type"] == "typing" and f["role"] == "assistant" for f in frames)


def test_an_emergency_over_the_socket_gets_guidance_and_the_room_closes(application, client, patient, settings):
    settings.EMERGENCY_NUMBER = "112"
    consultation = intake.intake_start(patient=patient, consent=True)

    first, second = talk(
        application, client, patient, consultation, ["mujhe saans lene mein bahut taklif ho rahi hai", "hello?"], 3
    )

    assistant = intake.assistant_user().pk
    said = [f["message"] for f in first if f["type"] == "message" and f["message"]["sender"] == assistant]
    assert len(said) == 1 and "112" in said[0]["body"]
    assert said[0]["metadata"]["intake"] == "emergency"
    assert any(f["type"] == "readonly" for f in first)
    # Nothing more is taken: the next message is refused as read-only, no question is asked.
    assert [f["type"] for f in second] == ["readonly"]
    assert Consultation.objects.get(pk=consultation.pk).triage_level == "emergency"
    assert Message.objects.filter(consultation=consultation, sender_id=assistant).count() == 2


# --- a model words the questions (the OpenAI-compatible provider, against a loopback fake) ---


@pytest.fixture
def model(settings):
    with FakeOpenAI() as fake:
        for name, value in fake.settings(timeout=2.0).items():
            setattr(settings, name, value)
        yield fake


def test_a_models_reply_streams_into_the_room_as_drafts_then_is_saved(application, client, patient, model):
    consultation = intake.intake_start(patient=patient, consent=True)
    model.stream(["Thank you for telling me. ", "That sounds ", "uncomfortable."], delay=0.05)

    [frames] = talk(application, client, patient, consultation, ["Acidity after meals"], 4)

    drafts = [f["text"] for f in frames if f["type"] == "assistant.draft"]
    assert drafts and drafts[0] == "Thank you for telling me."
    saved = [f["message"] for f in frames if f["type"] == "message" and f["message"]["sender"] != patient.pk]
    # The model's sentence, then the engine's own question, word for word.
    ack, question = saved[-1]["body"].split("\n\n", 1)
    assert ack == "Thank you for telling me. That sounds uncomfortable."
    assert question.startswith("Where exactly do you feel it?")
    assert saved[-1]["metadata"]["provider"] == "openai" and not saved[-1]["metadata"]["fell_back"]
    # The model was asked what the engine decided, and the engine recorded the answer itself.
    assert "Acidity after meals" in str(model.requests[0].body["messages"])
    assert Consultation.objects.get(pk=consultation.pk).symptoms["chief_complaint"] == "Acidity after meals"


def test_a_model_naming_a_remedy_never_reaches_the_patient(application, client, patient, model):
    consultation = intake.intake_start(patient=patient, consent=True)
    model.stream(["I understand. ", "Take Arnica 30C three times a day. ", "Where is the pain?"], delay=0.02)

    [frames] = talk(application, client, patient, consultation, ["Pain in my knee after a fall"], 4)

    everything = " ".join(f.get("text", "") + str(f.get("message", {}).get("body", "")) for f in frames)
    assert "Arnica" not in everything and "30C" not in everything
    saved = Message.objects.filter(consultation=consultation).order_by("-created_at", "-id").first()
    assert saved.metadata["fell_back"] and saved.metadata["reason"] == "filtered"
    assert "remedy" in saved.metadata["filtered"]
    assert "Arnica" not in saved.body


def test_a_model_that_times_out_costs_nothing(application, client, patient, model, settings):
    settings.AI_TIMEOUT_SECONDS = 0.5
    consultation = intake.intake_start(patient=patient, consent=True)
    model.hang(5)

    [frames] = talk(application, client, patient, consultation, ["Itchy rash on my arms"], 3)

    saved = [f["message"] for f in frames if f["type"] == "message" and f["message"]["sender"] != patient.pk]
    assert len(saved) == 1 and saved[0]["metadata"]["reason"] == "timeout"
    assert saved[0]["body"]  # the engine's own question
    assert Consultation.objects.get(pk=consultation.pk).symptoms["chief_complaint"] == "Itchy rash on my arms"


def test_an_emergency_is_answered_without_asking_the_model(application, client, patient, model):
    consultation = intake.intake_start(patient=patient, consent=True)
    model.stream(["Where is the pain?"])

    talk(application, client, patient, consultation, ["I have severe chest pain right now"], 3)

    assert model.requests == []
