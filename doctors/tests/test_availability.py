"""Working hours turned into bookable slots (doctors/availability.py), and the
stored next free slot that the directory sorts by (next_available_refresh and
`manage.py refresh_next_slots`).

Dates are fixed and `now` is passed in, so the tests mean the same on any day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from consultations.tests.factories import ConsultationFactory
from doctors import availability, services
from doctors.availability import bookable_slots, first_free_slots, working_slots
from doctors.models import DoctorProfile, VerificationStatus
from doctors.tests.factories import DoctorProfileFactory, weekday_hours

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")

# Monday 7 December 2026, and a moment well before it.
MONDAY = date(2026, 12, 7)
LONG_BEFORE = datetime(2026, 11, 1, tzinfo=UTC)


def hours(*, tz: str = "Asia/Kolkata", slot: int = 20, buffer: int = 5, weekly=None, overrides=None) -> dict:
    return {
        "timezone": tz,
        "slot_minutes": slot,
        "buffer_minutes": buffer,
        "weekly": weekly or {},
        "overrides": overrides or [],
    }


def starts(slots, zone: ZoneInfo = IST) -> list[str]:
    return [s.start.astimezone(zone).strftime("%H:%M") for s in slots]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the schedule ------------------------------------------------------------------------


def test_a_kolkata_doctors_weekday_gives_slots_in_both_ranges():
    profile = DoctorProfileFactory(availability=weekday_hours())

    slots = bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE)

    # 20 minutes plus a 5-minute break: a slot every 25 minutes that ends by 13:00 and by 20:00.
    assert starts(slots) == [
        "10:00", "10:25", "10:50", "11:15", "11:40", "12:05", "12:30",
        "17:00", "17:25", "17:50", "18:15", "18:40", "19:05", "19:30",
    ]  # fmt: skip
    assert slots[0].start == utc(2026, 12, 7, 4, 30)  # 10:00 IST is 04:30 UTC
    assert all(s.end - s.start == timedelta(minutes=20) for s in slots)


def test_the_weekend_has_no_slots_when_only_weekdays_have_hours():
    profile = DoctorProfileFactory(availability=weekday_hours())

    assert bookable_slots(profile, date(2026, 12, 12), date(2026, 12, 13), now=LONG_BEFORE) == []


def test_a_buffer_is_kept_free_after_every_slot():
    profile = DoctorProfileFactory(
        availability=hours(slot=30, buffer=15, weekly={"mon": [{"start": "09:00", "end": "11:00"}]})
    )

    # 09:00–09:30, break, 09:45–10:15, break, 10:30–11:00; a fourth would end at 11:45.
    assert starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE)) == ["09:00", "09:45", "10:30"]


def test_a_slot_that_would_run_past_the_end_of_a_range_is_not_offered():
    profile = DoctorProfileFactory(
        availability=hours(slot=45, buffer=0, weekly={"mon": [{"start": "09:00", "end": "10:00"}]})
    )

    assert starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE)) == ["09:00"]


def test_a_london_doctors_slots_move_an_hour_in_utc_when_the_clocks_go_forward():
    # British Summer Time starts at 01:00 UTC on Sunday 29 March 2026.
    ranges = [{"start": "09:00", "end": "10:00"}]
    profile = DoctorProfileFactory(
        timezone="Europe/London",
        availability=hours(tz="Europe/London", slot=30, buffer=0, weekly={"sat": ranges, "mon": ranges}),
    )

    slots = bookable_slots(profile, date(2026, 3, 28), date(2026, 3, 30), now=datetime(2026, 3, 1, tzinfo=UTC))

    assert [s.start for s in slots] == [
        utc(2026, 3, 28, 9, 0),  # Saturday, GMT: 09:00 London is 09:00 UTC
        utc(2026, 3, 28, 9, 30),
        utc(2026, 3, 30, 8, 0),  # Monday, BST: 09:00 London is 08:00 UTC
        utc(2026, 3, 30, 8, 30),
    ]
    assert starts(slots, LONDON) == ["09:00", "09:30", "09:00", "09:30"]


def test_the_night_the_clocks_go_back_the_repeated_hour_is_worked_once_more():
    # Sunday 25 October 2026: 02:00 BST becomes 01:00 GMT, so 00:30–02:30 lasts three hours.
    zone = LONDON
    schedule = hours(tz="Europe/London", slot=60, buffer=0, weekly={"sun": [{"start": "00:30", "end": "02:30"}]})

    slots = working_slots(schedule, date(2026, 10, 25), date(2026, 10, 25), zone=zone)

    assert [s.start for s in slots] == [utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)]


def test_a_range_that_starts_in_the_hour_the_clocks_skip_is_left_out_that_day():
    # 01:30 never happens in London on 29 March 2026 (documented in availability._local).
    schedule = hours(tz="Europe/London", slot=30, buffer=0, weekly={"sun": [{"start": "01:30", "end": "03:00"}]})

    assert working_slots(schedule, date(2026, 3, 29), date(2026, 3, 29), zone=LONDON) == []
    assert len(working_slots(schedule, date(2026, 4, 5), date(2026, 4, 5), zone=LONDON)) == 3


def test_the_same_hours_fall_at_different_utc_times_for_kolkata_and_london():
    ranges = {"mon": [{"start": "10:00", "end": "10:30"}]}
    kolkata = DoctorProfileFactory(availability=hours(slot=30, buffer=0, weekly=ranges))
    london = DoctorProfileFactory(
        timezone="Europe/London", availability=hours(tz="Europe/London", slot=30, buffer=0, weekly=ranges)
    )

    (in_kolkata,) = bookable_slots(kolkata, MONDAY, MONDAY, now=LONG_BEFORE)
    (in_london,) = bookable_slots(london, MONDAY, MONDAY, now=LONG_BEFORE)

    assert in_kolkata.start == utc(2026, 12, 7, 4, 30)
    assert in_london.start == utc(2026, 12, 7, 10, 0)  # GMT in December


def test_ranges_stored_out_of_order_still_give_slots_soonest_first_and_see_every_booking():
    schedule = hours(
        slot=30, buffer=0, weekly={"mon": [{"start": "17:00", "end": "18:00"}, {"start": "09:00", "end": "10:00"}]}
    )
    profile = DoctorProfileFactory(availability=schedule)
    ConsultationFactory(doctor=profile.user, scheduled_at=datetime(2026, 12, 7, 9, 0, tzinfo=IST), duration_minutes=30)

    assert starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE)) == ["09:30", "17:00", "17:30"]


# --- overrides ------------------------------------------------------------------------------


def test_an_override_with_no_ranges_is_a_day_off():
    schedule = weekday_hours()
    schedule["overrides"] = [{"date": "2026-12-08", "ranges": [], "note": "Conference"}]
    profile = DoctorProfileFactory(availability=schedule)

    slots = bookable_slots(profile, MONDAY, date(2026, 12, 9), now=LONG_BEFORE)

    days = {s.start.astimezone(IST).date() for s in slots}
    assert days == {date(2026, 12, 7), date(2026, 12, 9)}


def test_an_override_with_ranges_replaces_the_weeks_hours_that_day():
    schedule = weekday_hours()
    schedule["overrides"] = [{"date": "2026-12-07", "ranges": [{"start": "14:00", "end": "15:00"}]}]
    profile = DoctorProfileFactory(availability=schedule)

    assert starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE)) == ["14:00", "14:25"]


def test_an_override_gives_extra_hours_on_a_day_the_doctor_does_not_usually_work():
    schedule = weekday_hours()
    schedule["overrides"] = [{"date": "2026-12-13", "ranges": [{"start": "10:00", "end": "11:00"}]}]  # a Sunday
    profile = DoctorProfileFactory(availability=schedule)

    assert starts(bookable_slots(profile, date(2026, 12, 13), date(2026, 12, 13), now=LONG_BEFORE)) == [
        "10:00",
        "10:25",
    ]


# --- bookings and the clock --------------------------------------------------------------------


@pytest.mark.parametrize("status", ["requested", "scheduled", "in_progress"])
def test_a_slot_held_by_a_live_consultation_is_not_offered(status):
    profile = DoctorProfileFactory(availability=weekday_hours())
    ConsultationFactory(doctor=profile.user, status=status, scheduled_at=utc(2026, 12, 7, 4, 55), duration_minutes=20)

    assert "10:25" not in starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE))
    assert "10:00" in starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE))


@pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
def test_a_consultation_that_no_longer_holds_its_time_frees_the_slot(status):
    profile = DoctorProfileFactory(availability=weekday_hours())
    ConsultationFactory(doctor=profile.user, status=status, scheduled_at=utc(2026, 12, 7, 4, 55), duration_minutes=20)

    assert "10:25" in starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE))


def test_a_booking_that_overlaps_part_of_a_slot_takes_the_whole_slot():
    profile = DoctorProfileFactory(availability=weekday_hours())
    # 10:40–11:20 IST: overlaps 10:25–10:45 and 10:50–11:10 and 11:15–11:35.
    ConsultationFactory(doctor=profile.user, scheduled_at=utc(2026, 12, 7, 5, 10), duration_minutes=40)

    assert starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE))[:4] == ["10:00", "11:40", "12:05", "12:30"]


def test_another_doctors_booking_does_not_take_this_doctors_slot():
    profile = DoctorProfileFactory(availability=weekday_hours())
    ConsultationFactory(scheduled_at=utc(2026, 12, 7, 4, 30), duration_minutes=20)

    assert starts(bookable_slots(profile, MONDAY, MONDAY, now=LONG_BEFORE))[0] == "10:00"


def test_slots_in_the_past_or_within_the_notice_period_are_not_offered(settings):
    settings.BOOKING_MIN_NOTICE_MINUTES = 60
    profile = DoctorProfileFactory(availability=weekday_hours())
    now = datetime(2026, 12, 7, 10, 30, tzinfo=IST)

    # 10:00 has passed; 10:50, 11:15 start within the hour; 11:40 is the first one far enough ahead.
    assert starts(bookable_slots(profile, MONDAY, MONDAY, now=now))[:2] == ["11:40", "12:05"]


# --- queries ---------------------------------------------------------------------------------------


def test_a_fortnight_of_slots_costs_one_query_however_many_bookings(django_assert_num_queries):
    profile = DoctorProfileFactory(availability=weekday_hours())
    for day in range(10):
        ConsultationFactory(doctor=profile.user, scheduled_at=utc(2026, 12, 7 + day, 4, 30))

    with django_assert_num_queries(1):
        slots = bookable_slots(profile, MONDAY, MONDAY + timedelta(days=13), now=LONG_BEFORE)

    assert len(slots) == 10 * 14 - 8  # ten weekdays, eight of them with the 10:00 slot booked


def test_first_free_slots_costs_one_query_for_many_doctors(django_assert_num_queries):
    profiles = DoctorProfileFactory.create_batch(5, availability=weekday_hours())
    ConsultationFactory(doctor=profiles[0].user, scheduled_at=utc(2026, 12, 7, 4, 30))

    with django_assert_num_queries(1):
        first = first_free_slots(profiles, days=14, now=datetime(2026, 12, 6, 12, 0, tzinfo=IST))

    assert first[profiles[0].pk] == utc(2026, 12, 7, 4, 55)  # 10:00 booked, so 10:25
    assert first[profiles[1].pk] == utc(2026, 12, 7, 4, 30)


def test_a_doctor_with_no_hours_needs_no_query(django_assert_num_queries):
    profile = DoctorProfileFactory(availability=hours())

    with django_assert_num_queries(0):
        assert bookable_slots(profile, MONDAY, MONDAY + timedelta(days=13), now=LONG_BEFORE) == []


# --- the stored next free slot ----------------------------------------------------------------------------


def test_next_available_refresh_stores_the_first_free_slot():
    profile = DoctorProfileFactory(availability=weekday_hours())
    ConsultationFactory(doctor=profile.user, scheduled_at=utc(2026, 12, 7, 4, 30))

    first = services.next_available_refresh(profile=profile, now=datetime(2026, 12, 5, 9, 0, tzinfo=IST))

    assert first == utc(2026, 12, 7, 4, 55)
    profile.refresh_from_db()
    assert profile.next_available_at == utc(2026, 12, 7, 4, 55)


def test_next_available_refresh_looks_fourteen_days_ahead_and_no_further():
    schedule = hours(overrides=[{"date": "2026-12-20", "ranges": [{"start": "10:00", "end": "11:00"}]}])
    profile = DoctorProfileFactory(availability=schedule, next_available_at=utc(2026, 1, 1))

    # 2026-12-07 + 13 days is the 20th: inside. From the 6th the 20th is day 15: outside.
    assert services.next_available_refresh(profile=profile, now=datetime(2026, 12, 7, 8, 0, tzinfo=IST)) is not None
    assert services.next_available_refresh(profile=profile, now=datetime(2026, 12, 6, 8, 0, tzinfo=IST)) is None
    profile.refresh_from_db()
    assert profile.next_available_at is None


def test_next_available_refresh_costs_two_queries(django_assert_num_queries):
    profile = DoctorProfileFactory(availability=weekday_hours())

    with django_assert_num_queries(2):  # the doctor's bookings; the UPDATE
        services.next_available_refresh(profile=profile, now=LONG_BEFORE)


@time_machine.travel(datetime(2026, 12, 5, 9, 0, tzinfo=IST), tick=False)
def test_the_command_refreshes_every_verified_doctor_and_no_one_else():
    working = DoctorProfileFactory(availability=weekday_hours())
    idle = DoctorProfileFactory(availability=hours(), next_available_at=utc(2026, 1, 1))
    pending = DoctorProfileFactory(
        availability=weekday_hours(), verification_status=VerificationStatus.PENDING, verified_at=None
    )
    out = StringIO()

    call_command("refresh_next_slots", stdout=out)

    working.refresh_from_db()
    idle.refresh_from_db()
    pending.refresh_from_db()
    assert working.next_available_at == utc(2026, 12, 7, 4, 30)  # Monday 10:00 IST
    assert idle.next_available_at is None
    assert pending.next_available_at is None
    assert "2 of 2 verified doctors changed" in out.getvalue()


@time_machine.travel(datetime(2026, 12, 5, 9, 0, tzinfo=IST), tick=False)
def test_the_command_works_in_batches_with_a_fixed_number_of_queries_per_batch(django_assert_num_queries):
    DoctorProfileFactory.create_batch(7, availability=weekday_hours())

    # Per batch of up to 3 doctors: their profiles, their bookings, one UPDATE;
    # then the read that finds no more.
    with django_assert_num_queries(3 * 3 + 1):
        checked, changed = services.next_available_refresh_all(batch_size=3)

    assert changed == 7
    assert set(DoctorProfile.objects.values_list("next_available_at", flat=True)) == {utc(2026, 12, 7, 4, 30)}


def test_holding_statuses_are_the_ones_that_take_a_slot():
    assert set(availability.HOLDING_STATUSES) == {"requested", "scheduled", "in_progress"}
