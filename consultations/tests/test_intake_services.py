"""The AI intake's services on a real database: consent, the guard first, the reply, hand-off.

The provider is the default local engine (deterministic); the OpenAI-compatible
provider's own behaviour is tested in test_intake_providers.py, and once here
through the services, against the loopback fake, for what reaches the room.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from accounts.models import AdminLog
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory
from consultations import policies
from consultations.intake import services as intake
from consultations.models import Consultation, Message, Status
from consultations.services import consultation_book, consultation_transition
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

NOT_CHIPS = {"Skip", "Pause for now"}
ROUTINE_ANSWER = "It has been like this for some weeks"


@pytest.fixture
def patient():
    return PatientProfileFactory(
        full_name="Meera Iyer",
        allergies=[{"name": "Penicillin"}],
    ).user


def assistant_messages(consultation) -> list[Message]:
    return list(
        Message.objects.filter(consultation=consultation, sender=intake.assistant_user()).order_by("created_at", "id")
    )


def say(consultation, patient, text: str) -> Message | None:
    """What the room does with a patient's message: the guard, then (unless an emergency) the reply."""
    turn = intake.intake_message(consultation=consultation, patient=patient, body=text)
    if turn.emergency:
        return None
    return intake.intake_reply(consultation_id=consultation.pk)


def answer_until_done(consultation, patient, first: str, limit: int = 80) -> int:
    """Answer every question (a typical chip, else plain words) until the case is finished."""
    reply = say(consultation, patient, first)
    turns = 1
    while reply is not None and reply.metadata["intake"] == "taking" and turns < limit:
        chips = [c for c in (reply.metadata.get("chips") or []) if c not in NOT_CHIPS]
        reply = say(consultation, patient, chips[0] if chips else ROUTINE_ANSWER)
        turns += 1
    return turns


def test_starting_needs_consent_and_writes_nothing_without_it(patient):
    with pytest.raises(intake.ConsentRequired, match="tick the box"):
        intake.intake_start(patient=patient, consent=False)

    assert not Consultation.objects.exists()
    assert not Message.objects.exists()


def test_only_a_patient_can_start_an_intake():
    doctor = DoctorUserFactory()

    with pytest.raises(intake.NotAPatient):
        intake.intake_start(patient=doctor, consent=True)


def test_an_intake_is_an_ai_consultation_with_no_doctor_and_the_assistant_speaks_first(patient):
    consultation = intake.intake_start(patient=patient, consent=True)

    assert consultation.is_ai and consultation.doctor_id is None
    assert (consultation.status, consultation.payment_status, consultation.fee_amount) == (
        "in_progress",
        "not_required",
        Decimal("0"),
    )
    greeting = assistant_messages(consultation)
    assert len(greeting) == 1 and greeting[0].body
    assert consultation.symptoms["intake"]["state"] == "taking"
    assert AdminLog.objects.filter(record_id=consultation.pk, description__contains="consent").exists()


def test_the_assistant_cannot_sign_in():
    assistant = intake.assistant_user()

    assert not assistant.is_active and not assistant.has_usable_password() and not assistant.is_staff
    assert intake.assistant_user().pk == assistant.pk


def test_starting_again_resumes_the_unfinished_intake(patient):
    first = intake.intake_start(patient=patient, consent=True)
    again = intake.intake_start(patient=patient, consent=True)

    assert again.pk == first.pk
    assert Consultation.objects.count() == 1


def test_an_answer_is_recorded_and_the_next_question_asked(patient):
    consultation = intake.intake_start(patient=patient, consent=True)

    reply = say(consultation, patient, "Burning pain in my stomach after meals")

    consultation.refresh_from_db()
    assert consultation.symptoms["chief_complaint"] == "Burning pain in my stomach after meals"
    assert reply is not None and reply.sender_id == intake.assistant_user().pk
    assert reply.metadata["provider"] == "local"
    assert consultation.triage_level == "routine"


def test_an_emergency_stops_the_case_at_once_with_the_emergency_number(patient, settings):
    settings.EMERGENCY_NUMBER = "112"
    consultation = intake.intake_start(patient=patient, consent=True)
    say(consultation, patient, "Headache for two weeks")
    before = len(assistant_messages(consultation))

    turn = intake.intake_message(
        consultation=consultation, patient=patient, body="now I have severe chest pain and sweating"
    )

    assert turn.emergency
    consultation.refresh_from_db()
    assert consultation.triage_level == "emergency"
    assert consultation.status == Status.COMPLETED
    assert consultation.symptoms["intake"]["state"] == "emergency"
    assert "chest_pain" in consultation.symptoms["triage"]["rules"]
    said = assistant_messages(consultation)
    assert len(said) == before + 1
    assert "112" in said[-1].body and "?" not in said[-1].body.split("\n")[0]
    # No case-taking question follows, however the reply task is run.
    assert intake.intake_reply(consultation_id=consultation.pk) is None
    assert len(assistant_messages(consultation)) == before + 1


def test_an_emergency_in_hindi_is_caught_too(patient):
    consultation = intake.intake_start(patient=patient, consent=True)

    turn = intake.intake_message(consultation=consultation, patient=patient, body="सीने में बहुत दर्द हो रहा है")

    assert turn.emergency


def test_a_negated_red_flag_does_not_stop_the_case(patient):
    consultation = intake.intake_start(patient=patient, consent=True)

    reply = say(consultation, patient, "No chest pain, just acidity after spicy food")

    consultation.refresh_from_db()
    assert reply is not None
    assert consultation.triage_level == "routine"
    assert consultation.status == Status.IN_PROGRESS


def test_an_urgent_message_gets_the_see_a_doctor_today_note_once_and_the_case_goes_on(patient):
    consultation = intake.intake_start(patient=patient, consent=True)

    first = say(consultation, patient, "High fever of 104 F since yesterday")
    second = say(consultation, patient, "It is all over the body")

    consultation.refresh_from_db()
    assert consultation.triage_level == "urgent"
    assert "doctor today" in first.body
    assert "doctor today" not in second.body
    assert consultation.status == Status.IN_PROGRESS


def test_the_triage_level_never_goes_down(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    say(consultation, patient, "High fever of 104 F since yesterday")

    say(consultation, patient, "My skin is itchy")

    consultation.refresh_from_db()
    assert consultation.triage_level == "urgent"


def test_a_retried_reply_asks_nothing_twice(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    intake.intake_message(consultation=consultation, patient=patient, body="Itchy rash on my arms")

    first = intake.intake_reply(consultation_id=consultation.pk)
    again = intake.intake_reply(consultation_id=consultation.pk)

    assert first is not None and again is None
    assert len(assistant_messages(consultation)) == 2


def test_messages_sent_before_the_reply_are_read_as_one_answer(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    intake.intake_message(consultation=consultation, patient=patient, body="Itchy rash on my arms")
    intake.intake_message(consultation=consultation, patient=patient, body="and on my neck")

    intake.intake_reply(consultation_id=consultation.pk)

    consultation.refresh_from_db()
    assert consultation.symptoms["chief_complaint"] == "Itchy rash on my arms and on my neck"


def test_an_emergency_after_a_routine_message_cancels_the_pending_question(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    intake.intake_message(consultation=consultation, patient=patient, body="Knee pain when climbing stairs")
    intake.intake_message(consultation=consultation, patient=patient, body="I took too many sleeping pills")

    assert intake.intake_reply(consultation_id=consultation.pk) is None
    last = assistant_messages(consultation)[-1]
    assert last.metadata["intake"] == "emergency"


def test_a_whole_case_finishes_with_a_summary_specialisations_and_a_closed_room(patient):
    consultation = intake.intake_start(patient=patient, consent=True)

    turns = answer_until_done(consultation, patient, "Itchy eczema on both hands, worse in winter")

    consultation.refresh_from_db()
    assert consultation.status == Status.COMPLETED, f"not finished after {turns} answers"
    case = consultation.symptoms
    assert case["intake"]["state"] == "done"
    assert case["source"] == "ai_intake"
    assert "dermatology" in case["suggested_specializations"]
    assert case["complaints"][0]["description"].startswith("Itchy eczema")
    assert "Penicillin" in case["profile_confirmed"]["allergies"]
    assert "eczema" in consultation.ai_summary.lower()
    last = assistant_messages(consultation)[-1]
    assert last.metadata["intake"] == "done"
    # Every message is kept: one per patient answer, one per assistant turn plus the greeting.
    assert Message.objects.filter(consultation=consultation, sender=patient).count() == turns
    assert len(assistant_messages(consultation)) == turns + 1


def test_pausing_keeps_the_answers_and_resuming_asks_the_same_question(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    asked = say(consultation, patient, "Migraine on the right side")

    paused = say(consultation, patient, "Pause for now")
    consultation.refresh_from_db()
    assert consultation.symptoms["intake"]["state"] == "paused"
    assert paused.metadata["intake"] == "paused"

    intake.intake_resume(consultation=consultation, patient=patient)
    consultation.refresh_from_db()
    assert consultation.symptoms["intake"]["state"] == "taking"
    assert consultation.symptoms["chief_complaint"] == "Migraine on the right side"
    assert assistant_messages(consultation)[-1].metadata["intake"] == "taking"
    assert asked.body.split("\n")[-1] in assistant_messages(consultation)[-1].body


# --- hand-off -------------------------------------------------------------------------------


@pytest.fixture
def finished(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    answer_until_done(consultation, patient, "Acidity and burning after meals for two years")
    consultation.refresh_from_db()
    return consultation


NOW = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)  # a Monday
TEN_AM = datetime(2030, 1, 7, 4, 30, tzinfo=UTC)  # 10:00 IST, a slot of DoctorProfileFactory


def book_with(finished, patient, profile):
    return consultation_book(
        patient=patient,
        doctor_profile=profile,
        mode="video",
        slot_start=TEN_AM,
        chief_complaint="Acidity",
        intake=finished,
        now=NOW,
    )


def test_booking_with_the_case_attaches_it_for_the_doctor(finished, patient):
    profile = DoctorProfileFactory()

    booking = book_with(finished, patient, profile)

    assert booking.intake_id == finished.pk
    assert booking.ai_summary == finished.ai_summary
    assert booking.triage_level == finished.triage_level
    assert booking.symptoms["source"] == "ai_intake"
    assert "intake" not in booking.symptoms
    assert booking.symptoms["complaints"] == finished.symptoms["complaints"]
    assert booking.symptoms["chief_complaint"] == "Acidity"
    # The doctor it was handed to may read the conversation; another doctor may not.
    assert policies.intake_for_reader(profile.user, finished.pk) == finished
    with pytest.raises(Http404):
        policies.intake_for_reader(DoctorUserFactory(), finished.pk)


def test_a_cancelled_booking_takes_the_doctors_access_away(finished, patient):
    profile = DoctorProfileFactory()
    booking = book_with(finished, patient, profile)

    consultation_transition(consultation=booking, to="cancelled", by=patient, reason="Feeling better", now=NOW)

    with pytest.raises(Http404):
        policies.intake_for_reader(profile.user, finished.pk)


def test_another_patients_intake_cannot_be_attached(finished):
    stranger = PatientProfileFactory().user

    with pytest.raises(intake.IntakeClosed):
        book_with(finished, stranger, DoctorProfileFactory())
    assert not Consultation.objects.filter(intake=finished).exists()


def test_an_intake_stopped_for_an_emergency_is_not_handed_to_booking(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    intake.intake_message(consultation=consultation, patient=patient, body="I can't breathe properly")
    consultation.refresh_from_db()

    with pytest.raises(intake.IntakeNotReady):
        book_with(consultation, patient, DoctorProfileFactory())


def test_another_patient_cannot_read_the_transcript(finished):
    with pytest.raises(Http404):
        policies.intake_for_reader(PatientUserFactory(), finished.pk)
    assert policies.intake_for_reader(finished.patient, finished.pk) == finished


def test_a_reply_costs_a_fixed_number_of_queries_however_long_the_conversation(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    say(consultation, patient, "Back pain")
    counts = []
    for text in ("lower back", "dull ache", "after lifting", "two months"):
        intake.intake_message(consultation=consultation, patient=patient, body=text)
        with CaptureQueriesContext(connection) as queries:
            intake.intake_reply(consultation_id=consultation.pk)
        counts.append(len(queries))

    assert len(set(counts)) == 1, counts


def test_the_consultation_ended_time_is_set_when_the_case_finishes(finished):
    assert finished.ended_at is not None and finished.ended_at >= finished.started_at
    assert finished.ended_at - finished.started_at < timedelta(hours=1)


def test_a_message_sent_while_the_reply_is_being_worded_joins_the_answer(patient, monkeypatch):
    """The patient writes again before seeing the next question: both messages are one answer."""
    from consultations.intake import providers

    consultation = intake.intake_start(patient=patient, consent=True)
    intake.intake_message(consultation=consultation, patient=patient, body="Itchy rash on my arms")
    racing: list = []

    class SlowModel:
        name = "openai"

        def reply(self, turn, on_delta=None):
            if not racing:
                # Meanwhile the patient adds a detail, and its own reply task runs.
                intake.intake_message(consultation=consultation, patient=patient, body="and on my neck")
                racing.append(intake.intake_reply(consultation_id=consultation.pk))
            return providers.Reply("Thank you.", "openai")

    monkeypatch.setattr(intake, "get_provider", lambda: SlowModel())

    said = intake.intake_reply(consultation_id=consultation.pk)

    assert racing == [None]  # the second reply waited for the first
    consultation.refresh_from_db()
    assert consultation.symptoms["chief_complaint"] == "Itchy rash on my arms and on my neck"
    assert "replying" not in consultation.symptoms["intake"]
    assert said.metadata["merged"] == 1
    assert len(assistant_messages(consultation)) == 2  # the greeting and one question
    # The next message answers the question that was shown.
    say(consultation, patient, "On the inside of the elbows")
    consultation.refresh_from_db()
    assert consultation.symptoms["complaints"][0]["location"] == "On the inside of the elbows"


def test_a_models_sentence_comes_before_the_engines_own_question(patient, monkeypatch):
    from consultations.intake import providers

    consultation = intake.intake_start(patient=patient, consent=True)

    class Model:
        name = "openai"

        def reply(self, turn, on_delta=None):
            return providers.Reply("That sounds uncomfortable.", "openai")

    monkeypatch.setattr(intake, "get_provider", lambda: Model())

    said = say(consultation, patient, "Headache on the left side")

    question = said.body.split("\n\n", 1)[1]
    assert said.body.startswith("That sounds uncomfortable.\n\n")
    fresh = consultation_fresh(consultation)
    assert question == intake.engine.current(fresh.symptoms, intake.profile_facts(patient)).text


def test_a_provider_that_raises_costs_nothing(patient, monkeypatch):
    consultation = intake.intake_start(patient=patient, consent=True)

    class Broken:
        name = "openai"

        def reply(self, turn, on_delta=None):
            raise RuntimeError("boom")

    monkeypatch.setattr(intake, "get_provider", lambda: Broken())

    said = say(consultation, patient, "Headache on the left side")

    assert said.metadata["reason"] == "error" and said.body
    assert "replying" not in consultation_fresh(consultation).symptoms["intake"]


def test_an_emergency_split_over_two_messages_is_caught(patient):
    consultation = intake.intake_start(patient=patient, consent=True)
    # Neither half alone is an emergency.
    first = intake.intake_message(consultation=consultation, patient=patient, body="since an hour I can't")
    second = intake.intake_message(consultation=consultation, patient=patient, body="breathe properly")
    assert not first.emergency and not second.emergency

    assert intake.intake_reply(consultation_id=consultation.pk) is None
    consultation.refresh_from_db()
    assert consultation.triage_level == "emergency"
    assert assistant_messages(consultation)[-1].metadata["intake"] == "emergency"


def consultation_fresh(consultation):
    return Consultation.objects.get(pk=consultation.pk)


def test_what_the_patient_changes_on_the_booking_form_wins_over_the_intake(finished, patient):
    booking = consultation_book(
        patient=patient,
        doctor_profile=DoctorProfileFactory(),
        mode="video",
        slot_start=TEN_AM,
        chief_complaint="Acidity",
        symptoms={
            "chief_complaint": "Acidity",
            "complaints": [{"description": "Acidity", "duration": "two years and more", "location": "upper belly"}],
            "source": "patient",
        },
        intake=finished,
        now=NOW,
    )

    first = booking.symptoms["complaints"][0]
    assert (first["duration"], first["location"]) == ("two years and more", "upper belly")
    assert first.get("sensation") == finished.symptoms["complaints"][0].get("sensation")
    assert booking.symptoms["generals"] == finished.symptoms.get("generals", booking.symptoms["generals"])
