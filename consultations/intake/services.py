"""The AI intake's state changes: start, a patient's message, the reply, resume, hand-off.

The order on every patient message is fixed and is the safety argument:

1. The message is saved (messaging.message_send): nothing the patient wrote is lost.
2. The deterministic guard reads it, in the same transaction, before any model
   is asked. An emergency writes the emergency guidance at once, marks the
   triage level and closes the intake: no case-taking question follows it.
3. Otherwise the reply (`intake_reply`, run as a task off the request path):
   the engine records the answer in the case and decides the next question,
   committed before any model is called; then the provider words it (the
   local engine's words, or a model's that passed the output filter); then
   the question is saved. A provider that fails or times out costs nothing:
   its fallback is the engine's own question.

Concurrency: every write locks the consultation row (as messaging does). The
case remembers the last patient message it recorded (`intake.answered`), so
a retried task or two replies racing record each message once; patient
messages sent before the assistant answered are read together as one answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AuditAction, Role, User
from accounts.services import audit_record
from consultations import messaging, queries
from consultations.intake import engine, guard
from consultations.intake.providers import Turn, get_provider
from consultations.models import (
    Consultation,
    ConsultationType,
    Message,
    MessageType,
    Mode,
    PaymentStatus,
    Status,
)

log = logging.getLogger(__name__)

# Error messages are constants so views and tests can import them.
CONSENT_REQUIRED = "Please tick the box to say you have read this and want to go on."
PATIENTS_ONLY = "Only a patient account can talk to the intake assistant."
INTAKE_CLOSED = "This case is finished, so the assistant is no longer taking it."
INTAKE_NOT_READY = "The assistant has not finished taking this case yet."

EMERGENCY_GUIDANCE = (
    "This could be a medical emergency. Please call {number} now, or go to the nearest hospital "
    "emergency department. Do not wait for an online consultation. I have stopped taking your case."
)
URGENT_NOTE = (
    "Some of what you describe should be seen by a doctor today. If it gets worse, call {number}. "
    "I will keep taking your case so the doctor has it."
)
# The session key holding the intake whose case the patient's next booking attaches.
HANDOFF_SESSION_KEY = "intake_handoff"
# How many earlier turns a model sees.
HISTORY_TURNS = 12
LIVE_STATES = ("taking", "paused")


class IntakeError(ValidationError):
    """An intake action refused; the message says why and nothing was written."""


class ConsentRequired(IntakeError):
    pass


class NotAPatient(IntakeError):
    pass


class IntakeClosed(IntakeError):
    pass


class IntakeNotReady(IntakeError):
    pass


@dataclass(frozen=True)
class PatientTurn:
    message: Message
    verdict: guard.Verdict
    emergency: bool


# --- the assistant's account ----------------------------------------------------------


def assistant_user() -> User:
    """The assistant's User (made on first use): the sender of its messages; it cannot sign in."""
    email = settings.AI_ASSISTANT_EMAIL
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(email=email, role=Role.ADMIN, is_active=False, is_staff=False, email_verified=True)
            user.set_unusable_password()
            user.save()
    except IntegrityError:  # made by a concurrent first use
        user = User.objects.get(email=email)
    return user


def profile_facts(patient: User) -> engine.ProfileFacts:
    """What the patient's profile already holds, so the engine confirms instead of asking."""
    profile = getattr(patient, "patient_profile", None)
    if profile is None:
        return engine.ProfileFacts()

    def names(items) -> tuple[str, ...]:
        return tuple(str(item.get("name", "")).strip() for item in items or () if str(item.get("name", "")).strip())

    return engine.ProfileFacts(
        allergies=names(profile.allergies),
        medications=names(profile.medications),
        conditions=names(profile.chronic_conditions),
    )


def intake_state(consultation: Consultation) -> str:
    return (consultation.symptoms or {}).get("intake", {}).get("state", "")


# --- start and resume -----------------------------------------------------------------


def intake_start(*, patient: User, consent: bool, now=None) -> Consultation:
    """After consent, an AI consultation with the assistant's greeting and first question.

    One intake at a time: if the patient has an unfinished one, it is resumed
    instead (its answers are kept).
    """
    if not patient.is_authenticated or patient.role != Role.PATIENT:
        raise NotAPatient(PATIENTS_ONLY, code="not_patient")
    if not consent:
        raise ConsentRequired(CONSENT_REQUIRED, code="consent_required")
    now = now or timezone.now()
    assistant = assistant_user()
    facts = profile_facts(patient)
    prompt = engine.start({}, facts)
    with transaction.atomic():
        # One intake at a time, also against a double-tapped Start: the
        # patient's row is the lock.
        User.objects.select_for_update().filter(pk=patient.pk).first()
        existing = queries.live_intake(patient)
        if existing is not None:
            return intake_resume(consultation=existing, patient=patient)
        consultation = Consultation(
            patient=patient,
            consultation_type=ConsultationType.AI,
            mode=Mode.CHAT,
            status=Status.IN_PROGRESS,
            started_at=now,
            fee_amount=0,
            payment_status=PaymentStatus.NOT_REQUIRED,
            symptoms=prompt.case,
        )
        consultation.full_clean()
        consultation.save()
        audit_record(
            actor=patient,
            action=AuditAction.CREATE,
            table="consultations",
            record_id=consultation.pk,
            new={"consultation_type": "ai", "consent": True},
            description="AI intake started after consent",
        )
        _say(consultation, assistant, prompt)
    return consultation


def intake_resume(*, consultation: Consultation, patient: User) -> Consultation:
    """Come back to a paused (or abandoned) intake: the pending question is asked again."""
    with transaction.atomic():
        locked = _lock_own(consultation, patient)
        if intake_state(locked) == "paused":
            prompt = engine.resume(locked.symptoms, profile_facts(patient))
            locked.symptoms = prompt.case
            locked.save(update_fields=["symptoms", "updated_at"])
            _say(locked, assistant_user(), prompt)
    return locked


# --- a patient message ------------------------------------------------------------------


def intake_message(*, consultation: Consultation, patient: User, body: str) -> PatientTurn:
    """Save the patient's message and run the guard on it before anything else.

    An emergency answers at once (no model, no question) and closes the intake.
    The case-taking reply is `intake_reply`, queued by the caller after commit.
    """
    with transaction.atomic():
        message = messaging.message_send(consultation=consultation, sender=patient, body=body)
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        verdict = guard.assess(message.body)
        _apply_verdict(locked, verdict)
    return PatientTurn(message=message, verdict=verdict, emergency=verdict.is_emergency)


def _apply_verdict(consultation: Consultation, verdict: guard.Verdict) -> None:
    """Record the guard's verdict (the level never goes down); an emergency closes the intake."""
    combined = guard.worst(_verdict_of(consultation), verdict)
    case = dict(consultation.symptoms or {})
    case["triage"] = {"level": combined.level, "rules": list(combined.rules)[:50]}
    consultation.symptoms = case
    consultation.triage_level = combined.level
    fields = ["symptoms", "triage_level", "updated_at"]
    if verdict.is_emergency:
        _close_for_emergency(consultation, verdict)
        fields += ["status", "ended_at", "ai_summary"]
    consultation.save(update_fields=fields)
    if verdict.is_emergency:
        messaging.room_closed_broadcast(consultation=consultation)


def _verdict_of(consultation: Consultation) -> guard.Verdict:
    triage = (consultation.symptoms or {}).get("triage") or {}
    level = triage.get("level") or guard.ROUTINE
    return guard.Verdict(level=level, rules=tuple(triage.get("rules") or ()))


def _close_for_emergency(consultation: Consultation, verdict: guard.Verdict) -> None:
    case = dict(consultation.symptoms or {})
    case["intake"] = {**case.get("intake", {}), "state": "emergency"}
    consultation.symptoms = case
    consultation.status = Status.COMPLETED
    consultation.ended_at = timezone.now()
    consultation.ai_summary = engine.summary(case, guard.EMERGENCY)
    messaging.assistant_send(
        consultation=consultation,
        assistant=assistant_user(),
        body=emergency_text(verdict),
        metadata={"intake": "emergency", "rules": list(verdict.rules), "chips": []},
    )


def emergency_text(verdict: guard.Verdict) -> str:
    lines = [EMERGENCY_GUIDANCE.format(number=settings.EMERGENCY_NUMBER)]
    labels = [guard.RULES[r].label.lower() for r in verdict.rules if r in guard.RULES]
    if labels:
        lines.append("You mentioned: " + "; ".join(dict.fromkeys(labels)) + ".")
    advice = [guard.RULES[r].advice for r in verdict.rules if r in guard.RULES and guard.RULES[r].advice]
    lines.extend(dict.fromkeys(advice))
    return "\n".join(lines)


# --- the reply ----------------------------------------------------------------------------


def intake_reply(*, consultation_id: str, on_delta: Callable[[str], None] | None = None) -> Message | None:
    """Record what the patient said since the last question and ask the next one.

    Returns the assistant's message, or None when there was nothing to answer
    (already answered, closed, or another reply for this intake is in flight:
    that one takes these messages in too).

    Replies to one intake are serialised by `intake.replying` (set in step 1,
    cleared in step 3). Messages the patient sends while a reply is being
    worded were written before they saw the next question, so they belong to
    the answer just recorded: step 3 notices them and records the whole answer
    again from the case as it was, with the engine's own words.
    """
    # 1. Record the answer and decide the next question; committed before any model runs.
    with transaction.atomic():
        consultation = _locked_live(consultation_id)
        if consultation is None or _reply_in_flight(consultation):
            return None
        before = consultation.symptoms or {}
        pending = _unanswered(consultation)
        if not pending:
            return None
        if _emergency_in(consultation, pending):
            return None
        facts = profile_facts(User.objects.select_related("patient_profile").get(pk=consultation.patient_id))
        prompt = _record(consultation, before, pending, facts, replying=True)
        urgent_first_time = consultation.triage_level == guard.URGENT and not _urgent_noted(consultation)

    # 2. Word it (a model may take seconds; no lock is held). The local engine's
    # question always closes the message: a model adds one acknowledging sentence.
    text, meta = prompt.text, {"provider": "local"}
    if prompt.state == "taking":
        text, meta = _worded(consultation, prompt, on_delta)
    if urgent_first_time:
        text = URGENT_NOTE.format(number=settings.EMERGENCY_NUMBER) + "\n\n" + text
        meta["urgent_note"] = True

    # 3. Say it; a finished case closes the intake.
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.status != Status.IN_PROGRESS:
            return None  # an emergency closed it meanwhile: no question after it
        late = _unanswered(locked)
        if late:
            # Written before the question was shown: part of the same answer.
            pending = pending + late
            if _emergency_in(locked, pending):
                return None
            prompt = _record(locked, before, pending, facts, replying=False)
            text, meta = prompt.text, {"provider": "local", "merged": len(late)}
        else:
            case = dict(locked.symptoms or {})
            case["intake"] = {k: v for k, v in case.get("intake", {}).items() if k != "replying"}
            locked.symptoms = case
            locked.save(update_fields=["symptoms", "updated_at"])
        message = messaging.assistant_send(
            consultation=locked,
            assistant=assistant_user(),
            body=text,
            metadata={**meta, "intake": prompt.state, "chips": list(prompt.chips)},
        )
        if prompt.state == "done":
            locked.status = Status.COMPLETED
            locked.ended_at = timezone.now()
            locked.save(update_fields=["status", "ended_at", "updated_at"])
            messaging.room_closed_broadcast(consultation=locked)
    return message


def _locked_live(consultation_id: str) -> Consultation | None:
    """The intake, row-locked, if it is taking (or paused); None otherwise."""
    consultation = (
        Consultation.objects.select_for_update()
        .filter(pk=consultation_id, consultation_type=ConsultationType.AI)
        .first()
    )
    if consultation is None or consultation.status != Status.IN_PROGRESS:
        return None
    if intake_state(consultation) not in LIVE_STATES:
        return None
    return consultation


def _reply_in_flight(consultation: Consultation) -> bool:
    started = (consultation.symptoms or {}).get("intake", {}).get("replying")
    if not started:
        return False
    # A worker that died mid-reply must not block the intake for ever.
    stale = timedelta(seconds=settings.AI_CONNECT_TIMEOUT_SECONDS + settings.AI_TIMEOUT_SECONDS + 30)
    try:
        return timezone.now() - datetime.fromisoformat(started) < stale
    except ValueError:
        return False


def _emergency_in(consultation: Consultation, pending: list[Message]) -> bool:
    """Messages sent together are read together by the guard too: one may finish another's sentence."""
    if len(pending) < 2:
        return False
    # Joined with a space: a line break would end the guard's clause.
    verdict = guard.assess(" ".join(m.body for m in pending))
    if not verdict.is_emergency:
        return False
    _apply_verdict(consultation, verdict)
    return True


def _record(
    consultation: Consultation, before: dict, pending: list[Message], facts: engine.ProfileFacts, *, replying: bool
) -> engine.Prompt:
    """Record the pending messages as one answer to the case as it was `before`; save; return the next prompt."""
    prompt = engine.answer(before, "\n".join(m.body for m in pending), facts)
    case = dict(prompt.case)
    progress = {k: v for k, v in case.get("intake", {}).items() if k != "replying"}
    progress["answered"] = pending[-1].pk
    if replying:
        progress["replying"] = timezone.now().isoformat()
    case["intake"] = progress
    case["triage"] = (consultation.symptoms or {}).get("triage") or {"level": "routine", "rules": []}
    fields = ["symptoms", "updated_at"]
    if prompt.state == "done":
        case["suggested_specializations"] = engine.suggest_specializations(case)
        consultation.ai_summary = engine.summary(case, consultation.triage_level or guard.ROUTINE)
        fields.append("ai_summary")
    consultation.symptoms = case
    consultation.save(update_fields=fields)
    return prompt


def _worded(
    consultation: Consultation, prompt: engine.Prompt, on_delta: Callable[[str], None] | None
) -> tuple[str, dict]:
    """The provider's acknowledging sentence before the engine's question, or the question alone."""
    try:
        reply = get_provider().reply(
            Turn(question=prompt.text, history=_history(consultation), topic=prompt.topic), on_delta=on_delta
        )
    except Exception:  # a provider must never cost the patient their question
        log.exception("intake provider failed; the engine's words are used")
        return prompt.text, {"provider": "local", "fell_back": True, "reason": "error"}
    meta = {"provider": reply.provider, "fell_back": reply.fell_back, "reason": reply.reason}
    if reply.filtered:
        meta["filtered"] = list(reply.filtered)
    if reply.provider == "local" or reply.fell_back or not reply.text.strip():
        return prompt.text, meta
    return reply.text.strip() + "\n\n" + prompt.text, meta


def _unanswered(consultation: Consultation) -> list[Message]:
    """The patient's text messages after the last one the case recorded, oldest first."""
    answered_id = (consultation.symptoms or {}).get("intake", {}).get("answered")
    messages = Message.objects.filter(
        consultation=consultation, sender_id=consultation.patient_id, message_type=MessageType.TEXT
    )
    if answered_id:
        messages = messages.filter(messaging.after_message(consultation, answered_id))
    return list(messages.order_by("created_at", "id"))


def _urgent_noted(consultation: Consultation) -> bool:
    return Message.objects.filter(consultation=consultation, metadata__urgent_note=True).exists()


def _history(consultation: Consultation) -> tuple[tuple[str, str], ...]:
    rows = list(
        Message.objects.filter(consultation=consultation, message_type=MessageType.TEXT)
        .order_by("-created_at", "-id")
        .values_list("sender_id", "body")[:HISTORY_TURNS]
    )
    return tuple(
        ("patient" if sender == consultation.patient_id else "assistant", body) for sender, body in reversed(rows)
    )


def _say(consultation: Consultation, assistant: User, prompt: engine.Prompt) -> Message:
    return messaging.assistant_send(
        consultation=consultation,
        assistant=assistant,
        body=prompt.text,
        metadata={"provider": "local", "intake": prompt.state, "chips": list(prompt.chips)},
    )


def _lock_own(consultation: Consultation, patient: User) -> Consultation:
    locked = Consultation.objects.select_for_update().filter(pk=consultation.pk, patient=patient).first()
    if locked is None or not locked.is_ai:
        raise IntakeClosed(INTAKE_CLOSED, code="not_found")
    if locked.status != Status.IN_PROGRESS:
        raise IntakeClosed(INTAKE_CLOSED, code="closed")
    return locked


# --- hand-off ------------------------------------------------------------------------------


def handoff_case(*, intake: Consultation, patient: User) -> dict:
    """The case to attach to a booking: the intake's, without its progress bookkeeping.

    Only the patient's own intake, finished by the engine (not one stopped for
    an emergency: that patient is sent to emergency care, not to booking).
    """
    if intake.patient_id != patient.pk or not intake.is_ai:
        raise IntakeClosed(INTAKE_CLOSED, code="not_found")
    if intake_state(intake) != "done":
        raise IntakeNotReady(INTAKE_NOT_READY, code="not_ready")
    case = {k: v for k, v in (intake.symptoms or {}).items() if k not in ("intake",)}
    case["source"] = "ai_intake"
    return case


def chips_for(consultation: Consultation, last_message: Message | None) -> list[str]:
    """Quick replies for the room page: those of the assistant's last message, if it is the last word."""
    if last_message is None or consultation.status != Status.IN_PROGRESS:
        return []
    if last_message.sender_id == consultation.patient_id:
        return []
    return list((last_message.metadata or {}).get("chips") or [])
