"""The consultation state machine, in one table.

    requested   -> scheduled    doctor accepts
    requested   -> cancelled    patient, doctor or staff
    scheduled   -> in_progress  doctor starts, not earlier than 10 minutes before scheduled_at
    scheduled   -> cancelled    patient, doctor or staff, with a reason
    scheduled   -> no_show      doctor, not before scheduled_at + 15 minutes
    in_progress -> completed    doctor

Anything else is an IllegalTransition; the right move by the wrong person is
NotAllowed. consultations.services.consultation_transition applies the table
(lock, audit, notifications); this module only answers "may this happen?".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from accounts.policies import is_staff
from consultations.models import Consultation, Status

PATIENT = "patient"
DOCTOR = "doctor"
STAFF = "staff"

START_EARLY_BY = timedelta(minutes=10)
NO_SHOW_AFTER = timedelta(minutes=15)

REASON_REQUIRED = "Please give a reason for cancelling a scheduled consultation."


class LifecycleError(ValidationError):
    """A status change refused; the message says why."""


# What moving to each status is called, for messages people read.
VERBS = {
    Status.SCHEDULED: "accept {it}",
    Status.IN_PROGRESS: "start {it}",
    Status.COMPLETED: "complete {it}",
    Status.CANCELLED: "cancel {it}",
    Status.NO_SHOW: "mark {it} as missed",
    Status.REQUESTED: "reopen {it}",
}


def _verb(target: str, it: str) -> str:
    return VERBS.get(target, "move {it} to " + target).format(it=it)


def _label(status: str) -> str:
    return Status(status).label.lower() if status in Status.values else status


class IllegalTransition(LifecycleError):
    def __init__(self, source: str, target: str) -> None:
        self.source, self.target = source, target
        super().__init__(
            f"A consultation that is {_label(source)} cannot be moved on like that: "
            f"you cannot {_verb(target, 'it')} now.",
            code="illegal_transition",
        )


class NotAllowed(LifecycleError):
    def __init__(self, transition: Transition, role: str | None) -> None:
        self.role = role
        who = " or ".join(sorted(transition.by))
        super().__init__(
            f"Only the consultation's {who} can "
            f"{_verb(transition.target, f'a {_label(transition.source)} consultation')}.",
            code="not_allowed",
        )


class NotYet(LifecycleError):
    """The right move by the right person, too early."""


class ReasonRequired(LifecycleError):
    def __init__(self) -> None:
        super().__init__(REASON_REQUIRED, code="reason_required")


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    by: frozenset[str]
    # Time columns set to "now" when the transition happens.
    stamps: tuple[str, ...] = ()
    needs_reason: bool = False
    # Earliest moment, relative to scheduled_at (None: any time).
    not_before: timedelta | None = None

    def earliest(self, consultation: Consultation) -> datetime | None:
        if self.not_before is None or consultation.scheduled_at is None:
            return None
        return consultation.scheduled_at + self.not_before


_CARE = frozenset({PATIENT, DOCTOR, STAFF})
_DOCTOR = frozenset({DOCTOR})

TRANSITIONS: dict[tuple[str, str], Transition] = {
    (t.source, t.target): t
    for t in (
        Transition(Status.REQUESTED, Status.SCHEDULED, _DOCTOR),
        Transition(Status.REQUESTED, Status.CANCELLED, _CARE, stamps=("cancelled_at",)),
        Transition(Status.SCHEDULED, Status.IN_PROGRESS, _DOCTOR, stamps=("started_at",), not_before=-START_EARLY_BY),
        Transition(Status.SCHEDULED, Status.CANCELLED, _CARE, stamps=("cancelled_at",), needs_reason=True),
        # ended_at on a no-show records when the doctor closed it; started_at stays empty.
        Transition(Status.SCHEDULED, Status.NO_SHOW, _DOCTOR, stamps=("ended_at",), not_before=NO_SHOW_AFTER),
        Transition(Status.IN_PROGRESS, Status.COMPLETED, _DOCTOR, stamps=("ended_at",)),
    )
}


def role_in(consultation: Consultation, user: User) -> str | None:
    """The part `user` plays in this consultation: patient, doctor, staff or None."""
    if not user.is_authenticated:
        return None
    if user.pk == consultation.patient_id:
        return PATIENT
    if consultation.doctor_id is not None and user.pk == consultation.doctor_id:
        return DOCTOR
    if is_staff(user):
        return STAFF
    return None


def may(consultation: Consultation, to: str, user: User) -> bool:
    """Is moving to `to` a legal move for the part `user` plays, at some time?

    For showing or hiding a button; the move itself is judged by
    transition_check, which also weighs the time and the reason.
    """
    transition = TRANSITIONS.get((consultation.status, to))
    return transition is not None and role_in(consultation, user) in transition.by


def transition_check(*, consultation: Consultation, to: str, by: User, reason: str, now: datetime) -> Transition:
    """The table row for this move, or the named error saying why it may not happen.

    Checked in this order: is the move legal at all, is `by` allowed to make
    it, is it too early, is a required reason missing.
    """
    transition = TRANSITIONS.get((consultation.status, to))
    if transition is None:
        raise IllegalTransition(consultation.status, to)
    role = role_in(consultation, by)
    if role not in transition.by:
        raise NotAllowed(transition, role)
    earliest = transition.earliest(consultation)
    if earliest is not None and now < earliest:
        local = timezone.localtime(earliest)
        raise NotYet(
            f"It is too early to {_verb(to, 'this consultation')}: that is possible from "
            f"{local:%d %b %Y, %I:%M %p} ({local.tzname()}).",
            code="not_yet",
        )
    if transition.needs_reason and not reason.strip():
        raise ReasonRequired()
    return transition
