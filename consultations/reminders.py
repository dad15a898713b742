"""Reminders before a scheduled consultation: one a day before, one an hour before.

Each goes to the patient and to the doctor through
accounts.services.notification_send (kind "consultation_reminder"): in-app,
and by email and SMS per each person's choices (SMS only to a verified phone
of someone who has not switched reminder texts off).

Run it every 5 minutes, from cron or a scheduler::

    */5 * * * * cd /srv/dhanwantari && .venv/bin/python manage.py send_reminders

or enqueue the `consultations.tasks.send_reminders` task on that schedule.

**Exactly once.** `reminder_24h_sent_at` / `reminder_1h_sent_at` are claimed
with a conditional UPDATE (`... WHERE id = ? AND reminder_1h_sent_at IS NULL
AND status = 'scheduled' AND scheduled_at = ?`) and the notifications are
created in the same transaction. A second run, or a second job at the same
moment, updates no row and sends nothing: on MySQL/MariaDB its UPDATE waits
for the first job's row lock and then re-reads the committed row. A crash
or an error rolls the claim back together with its notifications, so the
next run sends it (an error is logged and the run goes on with the other
reminders). A stamp means "settled": sent, or deliberately not sent (below).

**Which reminder, when** (`left` is the time until the start):

- The 1-hour reminder is due once `left` <= 1 hour, until the start. When it
  goes, an unsent 24-hour one is settled with it and never sent: a person
  hears only the nearer one ("in 1 hour", not also "tomorrow").
- The 24-hour reminder is due once `left` <= 24 hours. It is settled without
  being sent if the booking was made less than 24 hours ahead (a booking made
  3 hours ahead just had its confirmation; a "tomorrow" message would be
  wrong and noisy), or if it is found with less than 12 hours left (the job
  was down, or a request was accepted or a booking moved late): a day-before
  notice that late is no longer one. The same "booked before the reminder's
  moment" rule applies to the 1-hour reminder.
- Only scheduled consultations with a doctor. A cancelled, completed,
  no-show, in-progress or deleted consultation gets nothing, even if it was
  selected a moment before: the claim re-checks the status.
- A reschedule clears both stamps (consultations.services), so the new time
  gets its own reminders. The claim also matches the `scheduled_at` the
  reminder was written for, so a consultation moved between the selection
  and the claim is skipped in this run and reminded of its new time later.
- Times are written in each recipient's own zone (accounts.queries.user_timezone).

**Cost.** One query lists the due consultations' ids; each chunk of
CHUNK_SIZE is loaded with patients, doctors and profiles in one query; each
reminder then costs a fixed number of queries (the claim and two
notifications), however many consultations there are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.queries import user_timezone
from accounts.services import notification_send
from consultations.calendar import doctor_name, how_to_join, patient_name
from consultations.models import Consultation, Mode, Status

logger = logging.getLogger(__name__)

DAY_BEFORE = timedelta(hours=24)
HOUR_BEFORE = timedelta(hours=1)
# A day-before reminder found with less than this left is dropped (see above).
DAY_BEFORE_LATEST = timedelta(hours=12)
CHUNK_SIZE = 200

KIND = "consultation_reminder"
_MODE_WORDS = {
    Mode.CHAT: "chat consultation",
    Mode.AUDIO: "audio call",
    Mode.VIDEO: "video call",
    Mode.IN_PERSON: "clinic visit",
}
FIELD = {"24h": "reminder_24h_sent_at", "1h": "reminder_1h_sent_at"}


@dataclass(frozen=True)
class Reminder:
    """One reminder of one consultation: `settles` are the stamps its claim sets."""

    consultation: Consultation
    which: str  # "24h" or "1h"
    send: bool  # False: settle the stamps, tell nobody
    settles: tuple[str, ...]


def reminder_for(consultation: Consultation, now: datetime) -> Reminder | None:
    """The reminder this consultation is owed now, if any (no query)."""
    if consultation.status != Status.SCHEDULED or consultation.doctor_id is None or consultation.scheduled_at is None:
        return None
    start = consultation.scheduled_at
    left = start - now
    if left <= timedelta(0):
        return None
    if consultation.reminder_1h_sent_at is None and left <= HOUR_BEFORE:
        settles = ("reminder_1h_sent_at",)
        if consultation.reminder_24h_sent_at is None:
            settles += ("reminder_24h_sent_at",)
        booked_in_time = consultation.created_at <= start - HOUR_BEFORE
        return Reminder(consultation, "1h", send=booked_in_time, settles=settles)
    if consultation.reminder_24h_sent_at is None and left <= DAY_BEFORE:
        booked_in_time = consultation.created_at <= start - DAY_BEFORE
        return Reminder(
            consultation, "24h", send=booked_in_time and left >= DAY_BEFORE_LATEST, settles=("reminder_24h_sent_at",)
        )
    return None


def _due_ids(now: datetime) -> list[str]:
    """Ids of scheduled consultations with a reminder owed now (one query, the scheduled_at index)."""
    return list(
        Consultation.objects.filter(
            status=Status.SCHEDULED,
            doctor__isnull=False,
            scheduled_at__gt=now,
            scheduled_at__lte=now + DAY_BEFORE,
        )
        .filter(
            Q(reminder_24h_sent_at__isnull=True)
            | Q(reminder_1h_sent_at__isnull=True, scheduled_at__lte=now + HOUR_BEFORE)
        )
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)
    )


def reminders_due(*, now: datetime | None = None) -> Iterator[Reminder]:
    """Every reminder owed now, with patient, doctor and profiles loaded; one query per chunk."""
    now = now or timezone.now()
    ids = _due_ids(now)
    for offset in range(0, len(ids), CHUNK_SIZE):
        chunk = (
            Consultation.objects.filter(pk__in=ids[offset : offset + CHUNK_SIZE])
            .select_related("patient__patient_profile", "doctor__doctor_profile")
            .order_by("scheduled_at", "pk")
        )
        for consultation in chunk:
            reminder = reminder_for(consultation, now)
            if reminder is not None:
                yield reminder


def _when(moment: datetime, person: User, now: datetime) -> str:
    """The time in the person's zone: "tomorrow at 9:30 AM (Asia/Kolkata)", or "today", or "on Thu 04 Dec"."""
    zone = user_timezone(user=person)
    local = moment.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    day = {0: "today", 1: "tomorrow"}.get(days, f"on {local:%a %d %b}")
    return f"{day} at {local:%I:%M %p}".replace(" at 0", " at ", 1) + f" ({zone.key})"


def _in(left: timedelta) -> str:
    minutes = max(1, round(left.total_seconds() / 60))
    # The job runs every few minutes: 55 minutes and more is "in 1 hour".
    return "in 1 hour" if minutes >= 55 else f"in {minutes} minutes"


def _title(reminder: Reminder, person: User, now: datetime) -> str:
    consultation = reminder.consultation
    mode = _MODE_WORDS.get(consultation.mode, "consultation")
    if person.pk == consultation.doctor_id:
        what = f"{mode} with {patient_name(consultation.patient)}"
    else:
        what = f"{mode} with {doctor_name(consultation.doctor)}"
    when = _when(consultation.scheduled_at, person, now)
    if reminder.which == "1h":
        return f"Starting {_in(consultation.scheduled_at - now)}: your {what}, {when}"
    return f"Reminder: your {what} is {when}"


def _body(reminder: Reminder, person: User) -> str:
    consultation = reminder.consultation
    body = how_to_join(consultation)
    if person.pk == consultation.patient_id and reminder.which == "24h":
        body += " If you cannot make it, please reschedule or cancel from the consultation page."
    return body


def _send(reminder: Reminder, now: datetime) -> bool:
    """Claim and send one reminder in one transaction; False if another run had it, or it changed."""
    consultation = reminder.consultation
    with transaction.atomic():
        # The claim: the WHERE is the whole race. Only one UPDATE can turn the
        # stamp from NULL to a time; the others match no row. status and
        # scheduled_at are re-checked so a consultation cancelled or moved since
        # it was read is not reminded with stale facts. A stamp settled along
        # with it keeps the time it already has (another job may have set it
        # since). updated_at is left alone: a reminder is bookkeeping, not a
        # change to the booking.
        field = FIELD[reminder.which]
        values = {other: Coalesce(F(other), Value(now)) for other in reminder.settles if other != field}
        claimed = Consultation.objects.filter(
            pk=consultation.pk,
            status=Status.SCHEDULED,
            scheduled_at=consultation.scheduled_at,
            **{f"{field}__isnull": True},
        ).update(**{field: now, **values})
        if not claimed or not reminder.send:
            return False
        for person in (consultation.patient, consultation.doctor):
            notification_send(
                user=person,
                kind=KIND,
                title=_title(reminder, person, now),
                body=_body(reminder, person),
                deeplink=reverse("consultations:detail", args=[consultation.pk]),
                data={"consultation_id": consultation.pk, "reminder": reminder.which},
            )
    return True


def reminders_send(*, now: datetime | None = None) -> int:
    """Send every reminder owed now, each once; returns how many were sent (each to two people).

    A reminder that fails is rolled back, logged and tried again on the next
    run; the others still go. Raising instead would let one bad row, read
    first every time (the order is by start time), hold up everyone's reminders.
    """
    now = now or timezone.now()
    sent = 0
    for reminder in reminders_due(now=now):
        try:
            sent += _send(reminder, now)
        except Exception:
            logger.exception("The %s reminder of consultation %s failed", reminder.which, reminder.consultation.pk)
    return sent
