"""A doctor's working hours (the availability JSON) turned into bookable slots.

The JSON is in the doctor's own time zone (see doctors/schemas.py); slots come
out as aware UTC datetimes. A day's ranges are the override for that date if
there is one (an empty list is a day off), otherwise the week's ranges for that
weekday. Slots start at the range's start, last `slot_minutes`, are followed
by `buffer_minutes`, and must end inside the range. Slots already taken by a
live consultation, and slots that start too soon, are left out.

One database query however many days or slots are asked for.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from doctors.schemas import WEEKDAYS

# Statuses that hold a slot: a request waits for the doctor, so its time is taken too.
HOLDING_STATUSES = ("requested", "scheduled", "in_progress")


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def doctor_zone(availability: dict, fallback: str | None = None) -> ZoneInfo:
    name = availability.get("timezone") or fallback or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _ranges_for(availability: dict, day: date) -> list[dict[str, str]]:
    for override in availability.get("overrides", []):
        if override["date"] == day.isoformat():
            return override["ranges"]
    return availability.get("weekly", {}).get(WEEKDAYS[day.weekday()], [])


def _local(day: date, hhmm: str, zone: ZoneInfo) -> datetime | None:
    """The instant a wall-clock time happens on `day`, or None if it never does
    (skipped by a daylight-saving jump)."""
    wall = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=zone)
    round_trip = wall.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != wall.replace(tzinfo=None):
        return None
    return wall


def working_slots(availability: dict, start: date, end: date, *, zone: ZoneInfo) -> list[Slot]:
    """Every slot the schedule offers from `start` to `end` (inclusive, local dates)."""
    length = timedelta(minutes=availability.get("slot_minutes", 20))
    step = length + timedelta(minutes=availability.get("buffer_minutes", 0))
    slots: list[Slot] = []
    day = start
    while day <= end:
        for span in _ranges_for(availability, day):
            begin, finish = _local(day, span["start"], zone), _local(day, span["end"], zone)
            if begin is None or finish is None:
                continue
            cursor = begin.astimezone(UTC)
            stop = finish.astimezone(UTC)
            while cursor + length <= stop:
                slots.append(Slot(cursor, cursor + length))
                cursor += step
        day += timedelta(days=1)
    # A day's ranges may be stored in any order ([17:00–20:00, 09:30–13:00] is
    # valid); callers take the first and last slot as the window to read bookings for.
    slots.sort()
    return slots


def free_slots(
    slots: Iterable[Slot], taken: Iterable[tuple[datetime, datetime]], *, not_before: datetime
) -> list[Slot]:
    """The slots from `not_before` on that overlap none of the `taken` spans.

    Linear in slots and bookings rather than their product: a busy doctor's
    week is hundreds of slots against hundreds of bookings. With the bookings
    sorted by start, those starting before a slot ends are a prefix; the slot
    is taken when the latest end in that prefix is after the slot's start.
    """
    taken = sorted(taken)
    starts = [a for a, _ in taken]
    latest_end: list[datetime] = []
    for _, b in taken:
        latest_end.append(max(latest_end[-1], b) if latest_end else b)
    free = []
    for slot in slots:
        if slot.start < not_before:
            continue
        before_end = bisect_left(starts, slot.end)
        if before_end and latest_end[before_end - 1] > slot.start:
            continue
        free.append(slot)
    return free


def _taken(
    doctor_ids: Iterable[str], window_start: datetime, window_end: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each doctor's live bookings that could overlap the window (1 query)."""
    from consultations.models import Consultation

    # A booking that started before the window can still run into it.
    longest = timedelta(minutes=240)
    taken: dict[str, list[tuple[datetime, datetime]]] = {}
    rows = Consultation.objects.filter(
        doctor_id__in=list(doctor_ids),
        status__in=HOLDING_STATUSES,
        scheduled_at__gte=window_start - longest,
        scheduled_at__lt=window_end,
    ).values_list("doctor_id", "scheduled_at", "duration_minutes")
    for doctor_id, when, minutes in rows:
        taken.setdefault(doctor_id, []).append((when, when + timedelta(minutes=minutes)))
    return taken


def _not_before(now: datetime) -> datetime:
    return now + timedelta(minutes=getattr(settings, "BOOKING_MIN_NOTICE_MINUTES", 60))


def bookable_slots(profile, start: date, end: date, *, now: datetime | None = None) -> list[Slot]:
    """The doctor's free slots between two local dates (inclusive), soonest first."""
    now = now or timezone.now()
    zone = doctor_zone(profile.availability, profile.timezone)
    offered = working_slots(profile.availability, start, end, zone=zone)
    if not offered:
        return []
    taken = _taken([profile.user_id], offered[0].start, offered[-1].end).get(profile.user_id, [])
    return free_slots(offered, taken, not_before=_not_before(now))


def first_free_slots(profiles: Iterable, *, days: int = 14, now: datetime | None = None) -> dict[str, datetime | None]:
    """Each profile's first free slot within `days` local days from today, by profile id.

    The same answer as bookable_slots(...)[0] for every profile, in one query
    for all of them (pass a few hundred at a time).
    """
    now = now or timezone.now()
    offered: dict[str, list[Slot]] = {}
    doctors: dict[str, str] = {}
    for profile in profiles:
        zone = doctor_zone(profile.availability, profile.timezone)
        today = now.astimezone(zone).date()
        offered[profile.pk] = working_slots(profile.availability, today, today + timedelta(days=days - 1), zone=zone)
        doctors[profile.pk] = profile.user_id
    spans = [slots for slots in offered.values() if slots]
    if not spans:
        return dict.fromkeys(offered)
    window_start = min(slots[0].start for slots in spans)
    window_end = max(slots[-1].end for slots in spans)
    taken = _taken(doctors.values(), window_start, window_end)
    first: dict[str, datetime | None] = {}
    for pk, slots in offered.items():
        free = free_slots(slots, taken.get(doctors[pk], []), not_before=_not_before(now))
        first[pk] = free[0].start if free else None
    return first
