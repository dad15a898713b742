"""Consultations: services. Booking a slot, and every status change after it.

The state machine itself (who may move a consultation where, and when) lives
in consultations.lifecycle; these services lock, write, audit and notify.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import AuditAction, Role, User
from accounts.queries import user_timezone
from accounts.services import audit_record, notification_send
from consultations import lifecycle, messaging, policies
from consultations.calendar import patient_name
from consultations.intake.services import handoff_case
from consultations.models import Consultation, ConsultationType, PaymentMethod, PaymentStatus, Status
from doctors.availability import HOLDING_STATUSES, Slot, bookable_slots, doctor_zone, working_slots
from doctors.models import DoctorProfile, VerificationStatus
from doctors.services import next_available_refresh
from payments.services import payment_settle_cancellation

# Error messages are constants so tests (and later, pages) can import them.
PATIENT_ROLE_REQUIRED = "Only a patient account can book a consultation."
PATIENT_EMAIL_UNVERIFIED = "Please verify your email address before booking a consultation."
DOCTOR_UNAVAILABLE = "This doctor is not taking bookings at the moment."
MODE_NOT_OFFERED = "This doctor does not offer {mode} consultations."
SLOT_NOT_OFFERED = "That time is not one of the doctor's bookable slots."
SLOT_TOO_SOON = (
    "That time is now too close to book: the doctor needs {minutes} minutes' notice. Please pick a later slot."
)
SLOT_TAKEN = "Sorry, someone has just booked that time. Please pick another slot."
FOLLOW_UP_NOT_OFFERED = "This doctor does not offer follow-up consultations."
FOLLOW_UP_NOT_YOURS = "A follow-up must follow one of your own completed consultations with this doctor."
FOLLOW_UP_EXPIRED = "The follow-up period of that consultation ended on {date}. Please book a new consultation."
FOLLOW_UP_USED = "All {visits} follow-up visits of that consultation are already booked."
PAY_AT_CLINIC_IN_PERSON = "Paying at the clinic is possible only for an in-person consultation."
WAITING_ROOM_CLOSED = "The waiting room opens {minutes} minutes before the consultation."

# How many alternatives SlotTaken offers, and how far ahead it looks for them.
NEXT_SLOTS_COUNT = 3
NEXT_SLOTS_DAYS = 14
# The longest a booking can run (availability allows slots up to this); a
# booking that started this long before a slot can still overlap it.
LONGEST_BOOKING = timedelta(minutes=240)
# A slot shown when the page was drawn stays bookable while the patient fills
# in the form: at submission the minimum notice is relaxed by this much, so a
# slot does not vanish under someone who took two minutes to describe the case.
FORM_FILLING_GRACE = timedelta(minutes=15)


class BookingError(ValidationError):
    """A booking refused; the message says why and nothing was written."""


class PatientNotEligible(BookingError):
    """Not a patient account, or its email address is not verified."""


class DoctorUnavailable(BookingError):
    """The doctor is not verified, is inactive, or is gone."""


class ModeNotOffered(BookingError):
    pass


class SlotNotOffered(BookingError):
    """The time is not a slot of the doctor's schedule, or is too soon or past."""


class FollowUpNotAvailable(BookingError):
    """Not a completed consultation of this pair, outside the window, or the visits are used up."""


class PaymentChoiceRefused(BookingError):
    pass


class WaitingRoomClosed(ValidationError):
    """Too early (or the wrong kind of consultation) for the waiting room."""


class SlotTaken(BookingError):
    """Someone else holds the slot; `next_slots` are the next free ones."""

    def __init__(self, next_slots: list[Slot]) -> None:
        self.next_slots = next_slots
        super().__init__(SLOT_TAKEN, code="slot_taken")


# --- booking -------------------------------------------------------------------


def _check_patient(patient: User) -> None:
    if patient.role != Role.PATIENT or not patient.is_active or patient.is_deleted:
        raise PatientNotEligible(PATIENT_ROLE_REQUIRED, code="not_patient")
    if not patient.email_verified:
        raise PatientNotEligible(PATIENT_EMAIL_UNVERIFIED, code="email_unverified")


def _check_doctor(profile: DoctorProfile, mode: str) -> None:
    doctor = profile.user
    if (
        profile.is_deleted
        or profile.verification_status != VerificationStatus.VERIFIED
        or doctor.is_deleted
        or not doctor.is_active
    ):
        raise DoctorUnavailable(DOCTOR_UNAVAILABLE, code="doctor_unavailable")
    if mode not in (profile.consultation_modes or []):
        raise ModeNotOffered(MODE_NOT_OFFERED.format(mode=mode.replace("_", " ")), code="mode_not_offered")


def _offered_slot(profile: DoctorProfile, slot_start: datetime, now: datetime) -> Slot:
    """The schedule's slot starting at `slot_start`, free or not, or SlotNotOffered.

    Together with the overlap check this is bookable_slots() for that day,
    split in two so a taken slot gets its own error (SlotTaken, with alternatives).
    """
    zone = doctor_zone(profile.availability, profile.timezone)
    day = slot_start.astimezone(zone).date()
    # The minimum notice bookable_slots applies, less the form-filling grace.
    notice = timedelta(minutes=getattr(settings, "BOOKING_MIN_NOTICE_MINUTES", 60))
    not_before = now + notice - min(notice, FORM_FILLING_GRACE)
    for slot in working_slots(profile.availability, day, day, zone=zone):
        if slot.start != slot_start or slot.start <= now:
            continue
        if slot.start < not_before:
            minutes = int(notice.total_seconds() // 60)
            raise SlotNotOffered(SLOT_TOO_SOON.format(minutes=minutes), code="slot_too_soon")
        return slot
    raise SlotNotOffered(SLOT_NOT_OFFERED, code="slot_not_offered")


def _holding_overlap(profile: DoctorProfile, slot: Slot, *, exclude: str | None = None) -> bool:
    """Does a live consultation of this doctor overlap the slot? Read under the profile lock."""
    rows = (
        Consultation.objects.exclude(pk=exclude)
        .filter(
            doctor_id=profile.user_id,
            status__in=HOLDING_STATUSES,
            scheduled_at__lt=slot.end,
            scheduled_at__gt=slot.start - LONGEST_BOOKING,
        )
        .values_list("scheduled_at", "duration_minutes")
    )
    return any(slot.overlaps(start, start + timedelta(minutes=minutes)) for start, minutes in rows)


def _with_booking_edits(case: dict[str, Any], form: dict[str, Any], chief_complaint: str) -> dict[str, Any]:
    """The intake's case with what the patient wrote or changed on the booking form laid over it.

    The form's first complaint is the intake's first complaint as prefilled:
    whatever the patient filled in wins, field by field; the rest of the case
    (other complaints, generals, histories) is the intake's.
    """
    merged = {**case, "chief_complaint": chief_complaint}
    complaints = [dict(c) for c in case.get("complaints") or []] or [{"description": chief_complaint[:300]}]
    for key, value in ((form.get("complaints") or [{}])[0]).items():
        if value and key != "modalities":
            complaints[0][key] = value
    modalities = ((form.get("complaints") or [{}])[0]).get("modalities") or {}
    if modalities:
        complaints[0]["modalities"] = {**complaints[0].get("modalities", {}), **modalities}
    merged["complaints"] = complaints
    if (form.get("generals") or {}).get("thermal"):
        merged["generals"] = {**case.get("generals", {}), "thermal": form["generals"]["thermal"]}
    if form.get("mentals"):
        # "Anything else the doctor should know?" adds to what the assistant heard.
        merged["mentals"] = "\n".join(filter(None, [case.get("mentals", ""), form["mentals"]]))[:2000]
    return merged


def _link(consultation: Consultation) -> str:
    return reverse("consultations:detail", args=[consultation.pk])


def _when(moment: datetime, person: User) -> str:
    """A time as this person reads it: "Tue 01 Dec 2026, 10:30 AM (Asia/Kolkata)"."""
    zone = user_timezone(user=person)
    return f"{moment.astimezone(zone):%a %d %b %Y, %I:%M %p} ({zone.key})"


def _next_slots(profile: DoctorProfile, after: datetime, now: datetime) -> list[Slot]:
    zone = doctor_zone(profile.availability, profile.timezone)
    day = after.astimezone(zone).date()
    free = bookable_slots(profile, day, day + timedelta(days=NEXT_SLOTS_DAYS - 1), now=now)
    return [slot for slot in free if slot.start > after][:NEXT_SLOTS_COUNT]


def follow_up_ends(original: Consultation, profile: DoctorProfile) -> datetime | None:
    """When the follow-up window of a completed consultation closes (None: no window)."""
    if profile.follow_up_window_days <= 0 or original.status != Status.COMPLETED:
        return None
    finished = original.ended_at or original.scheduled_at or original.created_at
    return finished + timedelta(days=profile.follow_up_window_days)


def follow_up_options(*, patient: User, profile: DoctorProfile, now: datetime) -> list[Consultation]:
    """The patient's completed consultations with this doctor that a booking now
    may follow up: inside the window, visits left (2 queries). The booking
    checks the same rule again under the lock."""
    if profile.follow_up_window_days <= 0 or not patient.is_authenticated:
        return []
    candidates = (
        Consultation.objects.filter(
            patient_id=patient.pk,
            doctor_id=profile.user_id,
            status=Status.COMPLETED,
            follow_up_of__isnull=True,
            ended_at__gte=now - timedelta(days=profile.follow_up_window_days),
        )
        .annotate(used=Count("follow_ups", filter=~Q(follow_ups__status=Status.CANCELLED)))
        .order_by("-ended_at")
    )
    return [c for c in candidates if c.used < profile.follow_up_visits]


def _check_follow_up(original: Consultation, patient: User, profile: DoctorProfile, slot: Slot) -> None:
    """Raise FollowUpNotAvailable unless `slot` may be booked as a follow-up of `original`.

    Runs under the doctor's profile lock, so two follow-ups racing for the last
    visit of a window are counted one after the other.
    """
    if profile.follow_up_window_days <= 0:
        raise FollowUpNotAvailable(FOLLOW_UP_NOT_OFFERED, code="follow_up_not_offered")
    if (
        original.patient_id != patient.pk
        or original.doctor_id != profile.user_id
        or original.status != Status.COMPLETED
        or original.follow_up_of_id is not None
    ):
        raise FollowUpNotAvailable(FOLLOW_UP_NOT_YOURS, code="follow_up_not_yours")
    ends = follow_up_ends(original, profile)
    if ends is None or slot.start > ends:
        raise FollowUpNotAvailable(
            FOLLOW_UP_EXPIRED.format(date=f"{ends:%d %b %Y}" if ends else "-"), code="follow_up_expired"
        )
    used = original.follow_ups.exclude(status=Status.CANCELLED).count()
    if used >= profile.follow_up_visits:
        raise FollowUpNotAvailable(FOLLOW_UP_USED.format(visits=profile.follow_up_visits), code="follow_up_used")


def consultation_book(
    *,
    patient: User,
    doctor_profile: DoctorProfile,
    mode: str,
    slot_start: datetime,
    chief_complaint: str,
    symptoms: dict[str, Any] | None = None,
    follow_up_of: Consultation | None = None,
    pay_at_clinic: bool = False,
    intake: Consultation | None = None,
    now: datetime | None = None,
) -> Consultation:
    """Book one of the doctor's free slots for the patient: a scheduled consultation.

    With `intake` (the patient's finished AI intake), its structured case,
    summary and triage level go with the booking, and the doctor may read the
    intake's conversation (policies.intake_for_reader).

    The fee is the doctor's consultation fee, or for a follow-up of a completed
    consultation within the doctor's follow-up window, the follow-up fee. A
    fee of 0 needs no payment; otherwise payment is pending (online, or at the
    clinic for an in-person visit). Raises a BookingError subclass if refused.
    """
    now = now or timezone.now()
    _check_patient(patient)
    handed: dict[str, Any] = {}
    if intake is not None:
        case = _with_booking_edits(handoff_case(intake=intake, patient=patient), symptoms or {}, chief_complaint)
        handed = {"symptoms": case, "ai_summary": intake.ai_summary, "triage_level": intake.triage_level}
    if pay_at_clinic and mode != "in_person":
        raise PaymentChoiceRefused(PAY_AT_CLINIC_IN_PERSON, code="pay_at_clinic_online")
    with transaction.atomic():
        # The race: two patients see the same free slot and both press "book".
        # MySQL/MariaDB have no partial unique index (UNIQUE (doctor, scheduled_at)
        # WHERE status IN holding), so the database cannot refuse the second row.
        # Instead every booking for a doctor first locks that doctor's profile
        # row: bookings for one doctor run one after another, and the overlap
        # check below sees every booking committed before it. This must be the
        # first statement of the transaction (and the connection runs READ
        # COMMITTED), so no read before the lock can hide a rival's new row.
        profile = DoctorProfile.all_objects.select_for_update().select_related("user").get(pk=doctor_profile.pk)
        _check_doctor(profile, mode)
        slot = _offered_slot(profile, slot_start, now)
        if _holding_overlap(profile, slot):
            raise SlotTaken(_next_slots(profile, slot.start, now))
        fee = profile.consultation_fee
        if follow_up_of is not None:
            _check_follow_up(follow_up_of, patient, profile, slot)
            fee = profile.follow_up_fee
        if fee > 0:
            payment_status = PaymentStatus.PENDING
            payment_method = PaymentMethod.PAY_AT_CLINIC if pay_at_clinic else ""
        else:
            payment_status, payment_method = PaymentStatus.NOT_REQUIRED, ""

        consultation = Consultation(
            patient=patient,
            doctor=profile.user,
            consultation_type=ConsultationType.DOCTOR,
            mode=mode,
            status=Status.SCHEDULED,
            scheduled_at=slot.start,
            duration_minutes=int((slot.end - slot.start).total_seconds() // 60),
            chief_complaint=chief_complaint,
            symptoms=symptoms or {},
            follow_up_of=follow_up_of,
            intake=intake,
            fee_amount=fee,
            currency=profile.currency,
            payment_status=payment_status,
            payment_method=payment_method,
        )
        for field, value in handed.items():
            setattr(consultation, field, value)
        consultation.full_clean()
        consultation.save()
        audit_record(
            actor=patient,
            action=AuditAction.CREATE,
            table="consultations",
            record_id=consultation.pk,
            new={
                **({"intake_id": intake.pk} if intake else {}),
                "doctor_id": profile.user_id,
                "mode": mode,
                "status": consultation.status,
                "scheduled_at": slot.start.isoformat(),
                "fee_amount": str(consultation.fee_amount),
                **({"follow_up_of": follow_up_of.pk} if follow_up_of else {}),
            },
            description="Patient booked a follow-up." if follow_up_of else "Patient booked a consultation.",
        )
        when = f"{slot.start.astimezone(doctor_zone(profile.availability, profile.timezone)):%d %b %Y, %H:%M}"
        notification_send(
            user=profile.user,
            kind="consultation_booked",
            title=f"New booking on {when}",
            body=f"{capfirst(patient_name(patient))} booked a {consultation.get_mode_display().lower()}.",
            deeplink=_link(consultation),
            data={"consultation_id": consultation.pk},
        )
        patient_when = _when(slot.start, patient)
        payment_note = {
            PaymentStatus.NOT_REQUIRED: "No payment is needed.",
            PaymentStatus.PENDING: (
                "Please pay at the clinic." if pay_at_clinic else "Please pay before the consultation."
            ),
        }[payment_status]
        notification_send(
            user=patient,
            kind="consultation_booked",
            title=f"Your consultation with {profile.full_name} is booked",
            body=f"{patient_when} ({consultation.get_mode_display().lower()}). {payment_note}",
            deeplink=_link(consultation),
            data={"consultation_id": consultation.pk},
        )
        next_available_refresh(profile=profile, now=now)
    return consultation


# --- status changes --------------------------------------------------------------

# What each target status tells the other party (every change is told).
_NOTIFY = {
    Status.SCHEDULED: ("consultation_booked", "Your consultation request was accepted"),
    Status.CANCELLED: ("consultation_cancelled", "A consultation was cancelled"),
    Status.IN_PROGRESS: ("consultation_progress", "Your doctor has started the consultation"),
    Status.COMPLETED: ("consultation_progress", "Your consultation is complete"),
    Status.NO_SHOW: ("consultation_progress", "You missed your consultation"),
}


def _other_parties(consultation: Consultation, role: str) -> list[User]:
    people = []
    if role != lifecycle.PATIENT:
        people.append(consultation.patient)
    if role != lifecycle.DOCTOR and consultation.doctor_id is not None:
        people.append(consultation.doctor)
    return people


def consultation_transition(
    *,
    consultation: Consultation,
    to: str,
    by: User,
    reason: str = "",
    now: datetime | None = None,
) -> Consultation:
    """Move the consultation to status `to` as `by`, per consultations.lifecycle.

    Raises lifecycle.IllegalTransition, NotAllowed, NotYet or ReasonRequired and
    writes nothing if refused. `consultation` is updated in place and returned.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if to == Status.CANCELLED and consultation.doctor_id is not None:
            # A cancellation frees a slot and refreshes the doctor's profile:
            # take the profile lock first, in the same order as booking and
            # rescheduling, so the two can never wait on each other.
            DoctorProfile.all_objects.select_for_update().filter(user_id=consultation.doctor_id).first()
        # Lock the row: a patient cancelling while the doctor starts the call
        # must not both succeed; the second sees the first's status.
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        source = locked.status
        transition = lifecycle.transition_check(consultation=locked, to=to, by=by, reason=reason, now=now)
        role = lifecycle.role_in(locked, by)

        locked.status = to
        changed = ["status"]
        for field in transition.stamps:
            setattr(locked, field, now)
            changed.append(field)
        if to == Status.CANCELLED:
            locked.cancelled_by = by
            locked.cancellation_reason = reason.strip()
            changed += ["cancelled_by", "cancellation_reason"]
            payment_before = locked.payment_status
            refund = policies.refund_due(locked, role, now)
            changed += payment_settle_cancellation(consultation=locked, refund_amount=refund, by=by, now=now)
        locked.full_clean()
        locked.save(update_fields=[*changed, "updated_at"])

        audit_record(
            actor=by,
            action=AuditAction.UPDATE,
            table="consultations",
            record_id=locked.pk,
            old={"status": source},
            new={
                "status": to,
                **({"reason": locked.cancellation_reason} if reason else {}),
                **(
                    {"payment_status": locked.payment_status, "refund_amount": str(locked.refund_amount)}
                    if to == Status.CANCELLED and locked.payment_status != payment_before
                    else {}
                ),
            },
            description=f"Consultation moved from {source} to {to} by the {role}.",
        )
        kind, title = _NOTIFY[to]
        body = locked.cancellation_reason if to == Status.CANCELLED else ""
        if to == Status.NO_SHOW:
            body = "The doctor marked this consultation as missed. Please book again if you still need help."
        for person in _other_parties(locked, role):
            notification_send(
                user=person,
                kind=kind,
                title=title,
                body=body,
                deeplink=_link(locked),
                data={"consultation_id": locked.pk},
            )
        # Sockets open in the room learn at once that it no longer takes messages.
        messaging.room_closed_broadcast(consultation=locked)
        if to == Status.CANCELLED and locked.doctor_id is not None:
            # The slot is free again: the directory's "next available" may move earlier.
            profile = DoctorProfile.all_objects.filter(user_id=locked.doctor_id).first()
            if profile is not None:
                next_available_refresh(profile=profile, now=now)

    for field in (
        "status",
        *transition.stamps,
        "cancelled_by_id",
        "cancellation_reason",
        "payment_status",
        "refund_amount",
        "updated_at",
    ):
        setattr(consultation, field, getattr(locked, field))
    return consultation


# --- rescheduling ------------------------------------------------------------------


def consultation_reschedule(
    *, consultation: Consultation, by: User, slot_start: datetime, now: datetime | None = None
) -> Consultation:
    """Move a scheduled consultation to another free slot of the same doctor.

    The patient may do it up to RESCHEDULE_MIN_HOURS before the start and at
    most RESCHEDULE_MAX times; the doctor or staff any time before it starts.
    Payment is untouched; reminders are owed again for the new time. Raises
    policies.RescheduleRefused or a BookingError (SlotNotOffered, SlotTaken).
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Same lock order as booking: the doctor's profile, then the row.
        profile = (
            DoctorProfile.all_objects.select_for_update().select_related("user").get(user_id=consultation.doctor_id)
        )
        locked = Consultation.objects.select_for_update().select_related("patient").get(pk=consultation.pk)
        role = lifecycle.role_in(locked, by)
        policies.reschedule_check(locked, role, now)
        slot = _offered_slot(profile, slot_start, now)
        if slot.start == locked.scheduled_at:
            raise SlotNotOffered("That is the time already booked.", code="same_slot")
        if _holding_overlap(profile, slot, exclude=locked.pk):
            raise SlotTaken(_next_slots(profile, slot.start, now))

        old = locked.scheduled_at
        locked.scheduled_at = slot.start
        locked.duration_minutes = int((slot.end - slot.start).total_seconds() // 60)
        locked.reschedule_count += 1
        locked.reminder_24h_sent_at = locked.reminder_1h_sent_at = None
        locked.patient_joined_at = locked.doctor_joined_at = None
        locked.full_clean()
        locked.save(
            update_fields=[
                "scheduled_at",
                "duration_minutes",
                "reschedule_count",
                "reminder_24h_sent_at",
                "reminder_1h_sent_at",
                "patient_joined_at",
                "doctor_joined_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=by,
            action=AuditAction.UPDATE,
            table="consultations",
            record_id=locked.pk,
            old={"scheduled_at": old.isoformat()},
            new={"scheduled_at": slot.start.isoformat(), "reschedule_count": locked.reschedule_count},
            description=f"Consultation moved to another time by the {role}.",
        )
        # Both parties: the other to know, the one who moved it for the
        # confirmation (and its updated calendar file).
        movers = {by.pk}
        for person in [locked.patient, profile.user]:
            notification_send(
                user=person,
                kind="consultation_rescheduled",
                title="Your consultation is moved" if person.pk in movers else "A consultation has moved to a new time",
                body=f"Now {_when(slot.start, person)} (was {_when(old, person)}).",
                deeplink=_link(locked),
                data={"consultation_id": locked.pk},
            )
        next_available_refresh(profile=profile, now=now)

    for field in ("scheduled_at", "duration_minutes", "reschedule_count", "updated_at"):
        setattr(consultation, field, getattr(locked, field))
    return consultation


# --- waiting room ------------------------------------------------------------------

# The waiting room page refreshes a party's stamp while it is open; a stamp
# older than this means they have left.
PRESENCE_WINDOW = timedelta(seconds=45)


def consultation_join(*, consultation: Consultation, user: User, now: datetime | None = None) -> str:
    """Record that a participant is in the waiting room (or the room) now; returns their role.

    The patient may enter from WAITING_ROOM_OPENS_MINUTES before the start of
    an online consultation; the doctor once it is scheduled. One UPDATE, no
    lock: it only moves a presence stamp forward.
    """
    now = now or timezone.now()
    role = lifecycle.role_in(consultation, user)
    if role not in (lifecycle.PATIENT, lifecycle.DOCTOR):
        raise WaitingRoomClosed("Only the consultation's patient and doctor can join it.", code="not_participant")
    if not policies.waiting_room_open(consultation, now) and not (
        role == lifecycle.DOCTOR and consultation.status == Status.SCHEDULED and consultation.is_online
    ):
        raise WaitingRoomClosed(
            WAITING_ROOM_CLOSED.format(minutes=settings.WAITING_ROOM_OPENS_MINUTES), code="waiting_room_closed"
        )
    field = "patient_joined_at" if role == lifecycle.PATIENT else "doctor_joined_at"
    Consultation.objects.filter(pk=consultation.pk).update(**{field: now})
    setattr(consultation, field, now)
    return role


def is_present(joined_at: datetime | None, now: datetime) -> bool:
    return joined_at is not None and now - joined_at <= PRESENCE_WINDOW
