"""The working-hours editor (/doctor/availability/) and its service,
availability_update: what a doctor submits is stored in the documented shape,
what the model refuses is shown beside the field it is about and nothing is
saved, and only the doctor themselves gets in.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminLog
from accounts.tests.factories import PatientUserFactory, StaffUserFactory
from consultations.tests.factories import ConsultationFactory
from doctors import forms, services
from doctors.models import DoctorProfile, VerificationStatus
from doctors.schemas import WEEKDAYS
from doctors.tests.factories import DoctorProfileFactory, weekday_hours
from doctors.views import AVAILABILITY_SAVED

pytestmark = pytest.mark.django_db

URL = reverse("doctors:availability")
IST = ZoneInfo("Asia/Kolkata")
# Saturday 5 December 2026, 09:00 in India.
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=IST)


def post_data(
    *,
    zone: str = "Asia/Kolkata",
    other: str = "",
    slot: int | str = 20,
    buffer: int | str = 5,
    weekly: dict[str, list[tuple[str, str]]] | None = None,
    overrides: list[tuple[str, str, str, str]] | None = None,
    remove: dict[str, list[int]] | None = None,
) -> dict[str, str]:
    """The form as a browser posts it: every weekday's formset plus the dates',
    each with one blank row more than it has ranges."""
    data = {"timezone": zone, "timezone_other": other, "slot_minutes": str(slot), "buffer_minutes": str(buffer)}
    for day in WEEKDAYS:
        rows = (weekly or {}).get(day, [])
        data.update({f"{day}-TOTAL_FORMS": str(len(rows) + 1), f"{day}-INITIAL_FORMS": "0"})
        for i, (start, end) in enumerate(rows):
            data.update({f"{day}-{i}-start": start, f"{day}-{i}-end": end})
        for i in (remove or {}).get(day, []):
            data[f"{day}-{i}-DELETE"] = "on"
    rows = overrides or []
    data.update({"overrides-TOTAL_FORMS": str(len(rows) + 2), "overrides-INITIAL_FORMS": "0"})
    for i, (day, start, end, note) in enumerate(rows):
        data.update({f"overrides-{i}-date": day, f"overrides-{i}-start": start, f"overrides-{i}-end": end})
        data[f"overrides-{i}-note"] = note
    return data


@pytest.fixture
def doctor_client(client):
    profile = DoctorProfileFactory(availability=weekday_hours())
    client.force_login(profile.user)
    client.profile = profile
    return client


def saved(profile: DoctorProfile) -> dict:
    profile.refresh_from_db()
    return profile.availability


def html(response) -> str:
    return response.content.decode()


def field_tag(response, field_id: str) -> str:
    match = re.search(rf'<input[^>]*id="{re.escape(field_id)}"[^>]*>', html(response))
    assert match, f"no input #{field_id}"
    return match.group(0)


# --- the page ---------------------------------------------------------------------------


def test_the_editor_shows_the_saved_hours_one_row_per_range_and_a_blank_row_per_day(doctor_client):
    response = doctor_client.get(URL)

    assert response.status_code == 200
    assert 'value="10:00"' in field_tag(response, "id_mon-0-start")
    assert 'value="20:00"' in field_tag(response, "id_mon-1-end")
    assert "value" not in field_tag(response, "id_mon-2-start")  # the blank row
    assert "value" not in field_tag(response, "id_sat-0-start")  # a day off: just the blank row
    assert '<option value="Asia/Kolkata" selected>' in html(response)


@time_machine.travel(NOW, tick=False)
def test_the_preview_lists_the_next_seven_days_free_slots_in_the_doctors_zone(doctor_client):
    response = doctor_client.get(URL)

    days = response.context["preview"]
    assert [d.day for d in days] == [
        date(2026, 12, 7),
        date(2026, 12, 8),
        date(2026, 12, 9),
        date(2026, 12, 10),
        date(2026, 12, 11),
    ]
    assert len(days[0].slots) == 14
    # Shown as the doctor's wall-clock times.
    assert '<time datetime="2026-12-07T10:00:00+05:30">10:00</time>' in html(response)


@time_machine.travel(NOW, tick=False)
def test_the_preview_follows_the_doctors_zone_not_the_viewers(client):
    # A doctor in London whose account still reads times in India.
    schedule = {**weekday_hours(), "timezone": "Europe/London"}
    profile = DoctorProfileFactory(availability=schedule, timezone="Europe/London")
    client.force_login(profile.user)

    response = client.get(URL)

    assert '<time datetime="2026-12-07T10:00:00+00:00">10:00</time>' in html(response)
    assert "in Europe/London" in html(response)


def test_the_editor_page_costs_the_same_few_queries_however_many_bookings(client, django_assert_num_queries):
    quiet = DoctorProfileFactory(availability=weekday_hours())
    busy = DoctorProfileFactory(availability=weekday_hours())
    for day in range(1, 8):
        ConsultationFactory(doctor=busy.user, scheduled_at=timezone.now() + timedelta(days=day))

    # The session; the user; the doctor's profile (also the header's name); the
    # preview's bookings; the header's unread count; the idle-timeout
    # middleware's session save (savepoint, UPDATE, release).
    for profile in (quiet, busy):
        client.force_login(profile.user)
        with django_assert_num_queries(8):
            assert client.get(URL).status_code == 200


# --- saving ---------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_saving_stores_the_documented_shape_audits_it_and_refreshes_the_next_free_slot(doctor_client):
    profile = doctor_client.profile
    data = post_data(
        slot=30,
        buffer=10,
        weekly={"mon": [("17:00", "20:00"), ("09:30", "13:00")], "sat": [("10:00", "14:00")]},
        overrides=[
            ("2026-12-25", "", "", "Christmas"),
            ("2026-12-27", "10:00", "12:00", ""),
            ("2026-12-27", "14:00", "15:00", ""),
        ],
    )

    response = doctor_client.post(URL, data)

    assert response.status_code == 302
    assert response["Location"] == URL
    assert saved(profile) == {
        "timezone": "Asia/Kolkata",
        "slot_minutes": 30,
        "buffer_minutes": 10,
        "weekly": {
            "mon": [{"start": "09:30", "end": "13:00"}, {"start": "17:00", "end": "20:00"}],
            "sat": [{"start": "10:00", "end": "14:00"}],
        },
        "overrides": [
            {"date": "2026-12-25", "ranges": [], "note": "Christmas"},
            {"date": "2026-12-27", "ranges": [{"start": "10:00", "end": "12:00"}, {"start": "14:00", "end": "15:00"}]},
        ],
    }
    DoctorProfile(availability=saved(profile)).clean_fields(exclude=["user", "full_name"])
    log = AdminLog.objects.get(table_name="doctor_profiles", record_id=profile.pk)
    assert log.user == profile.user
    assert log.new_values["availability"] == saved(profile)
    assert log.old_values["availability"] == weekday_hours()
    # Saturday 5 December 10:00 IST is the first free slot once the hour's notice has passed.
    assert profile.next_available_at == datetime(2026, 12, 5, 10, 0, tzinfo=IST)


def test_after_saving_the_page_says_so(doctor_client):
    response = doctor_client.post(URL, post_data(weekly={"mon": [("09:00", "12:00")]}), follow=True)

    assert AVAILABILITY_SAVED in html(response)


def test_a_doctor_awaiting_verification_may_set_hours(client):
    profile = DoctorProfileFactory(verification_status=VerificationStatus.PENDING, verified_at=None)
    client.force_login(profile.user)

    response = client.post(URL, post_data(weekly={"tue": [("08:00", "09:00")]}))

    assert response.status_code == 302
    assert saved(profile)["weekly"] == {"tue": [{"start": "08:00", "end": "09:00"}]}


def test_a_draft_profile_with_no_registration_yet_may_set_hours(client):
    profile = DoctorProfileFactory(
        verification_status=VerificationStatus.DRAFT, verified_at=None, registration_number="", qualifications=[]
    )
    client.force_login(profile.user)

    assert client.post(URL, post_data(weekly={"wed": [("08:00", "09:00")]})).status_code == 302


def test_ticking_remove_takes_a_range_off(doctor_client):
    data = post_data(weekly={"mon": [("10:00", "13:00"), ("17:00", "20:00")]}, remove={"mon": [1]})

    doctor_client.post(URL, data)

    assert saved(doctor_client.profile)["weekly"] == {"mon": [{"start": "10:00", "end": "13:00"}]}


def test_a_zone_typed_by_name_is_stored_in_the_document_and_the_profile(doctor_client):
    doctor_client.post(URL, post_data(zone="other", other="Africa/Nairobi", weekly={"mon": [("09:00", "10:00")]}))

    assert saved(doctor_client.profile)["timezone"] == "Africa/Nairobi"
    assert doctor_client.profile.timezone == "Africa/Nairobi"


@time_machine.travel(NOW, tick=False)
def test_dates_before_today_are_not_shown_and_drop_off_on_the_next_save(client):
    schedule = weekday_hours()
    schedule["overrides"] = [{"date": "2026-12-01", "ranges": []}, {"date": "2026-12-24", "ranges": []}]
    profile = DoctorProfileFactory(availability=schedule)
    client.force_login(profile.user)

    page = client.get(URL)

    assert 'value="2026-12-24"' in html(page)
    assert "2026-12-01" not in html(page)


# --- refused input: beside the field, nothing saved ---------------------------------------------


def assert_nothing_saved(profile: DoctorProfile, before: dict) -> None:
    assert saved(profile) == before
    assert not AdminLog.objects.filter(table_name="doctor_profiles", record_id=profile.pk).exists()


def test_a_range_that_ends_before_it_starts_is_marked_on_its_day_and_row_and_nothing_is_saved(doctor_client):
    before = saved(doctor_client.profile)

    response = doctor_client.post(URL, post_data(weekly={"mon": [("09:00", "12:00")], "tue": [("13:00", "09:30")]}))

    assert response.status_code == 200
    tuesday = next(d for d in response.context["editor"].days if d.key == "tue")
    assert tuesday.errors == ["A range must end after it starts."]
    assert 'id="tue-errors"' in html(response)
    assert 'aria-invalid="true"' in field_tag(response, "id_tue-0-end")
    assert 'aria-invalid="true"' not in field_tag(response, "id_mon-0-end")
    assert "Nothing was saved. Please fix this:" in html(response)
    assert '<a href="#tue-errors">Tuesday: A range must end after it starts.</a>' in html(response)
    assert_nothing_saved(doctor_client.profile, before)


def test_overlapping_ranges_are_marked_on_their_day_and_nothing_is_saved(doctor_client):
    before = saved(doctor_client.profile)

    response = doctor_client.post(URL, post_data(weekly={"wed": [("09:00", "12:00"), ("11:30", "14:00")]}))

    wednesday = next(d for d in response.context["editor"].days if d.key == "wed")
    assert wednesday.errors == ["Working ranges overlap."]
    assert '<p class="field__error">Working ranges overlap.</p>' in html(response)
    assert_nothing_saved(doctor_client.profile, before)


def test_an_inverted_range_on_a_date_is_marked_on_that_dates_row_and_nothing_is_saved(doctor_client):
    before = saved(doctor_client.profile)

    response = doctor_client.post(
        URL, post_data(overrides=[("2026-12-24", "", "", ""), ("2026-12-27", "12:00", "10:00", "")])
    )

    rows = response.context["editor"].overrides.forms
    assert rows[0].errors == {}
    assert rows[1].errors["date"] == ["A range must end after it starts."]
    assert 'aria-invalid="true"' in field_tag(response, "id_overrides-1-end")
    assert_nothing_saved(doctor_client.profile, before)


def test_a_date_cannot_be_both_a_day_off_and_given_hours(doctor_client):
    before = saved(doctor_client.profile)

    response = doctor_client.post(
        URL, post_data(overrides=[("2026-12-27", "", "", ""), ("2026-12-27", "10:00", "12:00", "")])
    )

    assert response.context["editor"].overrides.forms[0].errors["date"] == [forms.DAY_OFF_AND_HOURS]
    assert_nothing_saved(doctor_client.profile, before)


def test_a_range_with_only_one_time_asks_for_both(doctor_client):
    before = saved(doctor_client.profile)

    response = doctor_client.post(URL, post_data(weekly={"thu": [("09:00", "")]}))

    assert response.context["editor"].days[3].formset.forms[0].errors["end"] == [forms.BOTH_TIMES_NEEDED]
    assert_nothing_saved(doctor_client.profile, before)


def test_hours_on_a_date_without_the_date_ask_for_it(doctor_client):
    before = saved(doctor_client.profile)

    response = doctor_client.post(URL, post_data(overrides=[("", "10:00", "11:00", "")]))

    assert response.context["editor"].overrides.forms[0].errors["date"] == [forms.OVERRIDE_DATE_NEEDED]
    assert_nothing_saved(doctor_client.profile, before)


def test_an_unknown_zone_is_marked_on_the_box_it_was_typed_in(doctor_client):
    before = saved(doctor_client.profile)

    response = doctor_client.post(URL, post_data(zone="other", other="Mars/Olympus"))

    settings_form = response.context["editor"].settings
    assert settings_form.errors["timezone_other"] == ["'Mars/Olympus' is not a known time zone."]
    assert 'aria-invalid="true"' in field_tag(response, "id_timezone_other")
    assert_nothing_saved(doctor_client.profile, before)


def test_another_zone_without_a_name_asks_for_one(doctor_client):
    response = doctor_client.post(URL, post_data(zone="other", other=""))

    assert response.context["editor"].settings.errors["timezone_other"] == [forms.OTHER_TIMEZONE_NEEDED]


@pytest.mark.parametrize(("slot", "words"), [("3", "greater than or equal to 5"), ("300", "less than or equal to 240")])
def test_a_slot_length_out_of_range_is_refused_beside_it(doctor_client, slot, words):
    before = saved(doctor_client.profile)

    response = doctor_client.post(URL, post_data(slot=slot))

    assert words in " ".join(response.context["editor"].settings.errors["slot_minutes"])
    assert_nothing_saved(doctor_client.profile, before)


# --- who may -------------------------------------------------------------------------------------


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("user_factory", [PatientUserFactory, StaffUserFactory], ids=["patient", "staff"])
def test_anyone_but_a_doctor_is_refused(client, user_factory):
    client.force_login(user_factory())

    assert client.get(URL).status_code == 403
    assert client.post(URL, post_data()).status_code == 403


def test_a_doctor_without_a_profile_gets_not_found(client):
    from accounts.tests.factories import DoctorUserFactory

    client.force_login(DoctorUserFactory())

    assert client.get(URL).status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_are_not_allowed(doctor_client, method):
    assert getattr(doctor_client, method)(URL).status_code == 405


def test_a_post_without_the_csrf_token_is_refused_and_nothing_is_saved():
    profile = DoctorProfileFactory(availability=weekday_hours())
    client = Client(enforce_csrf_checks=True)
    client.force_login(profile.user)

    response = client.post(URL, post_data(weekly={"mon": [("06:00", "07:00")]}))

    assert response.status_code == 403
    assert saved(profile) == weekday_hours()


# --- the service ------------------------------------------------------------------------------------


def test_the_service_refuses_another_doctor():
    profile = DoctorProfileFactory()
    other = DoctorProfileFactory()

    with pytest.raises(PermissionDenied):
        services.availability_update(profile=profile, availability=weekday_hours(), by=other.user)


def test_staff_may_set_a_doctors_hours_through_the_service():
    profile = DoctorProfileFactory()
    staff = StaffUserFactory()

    services.availability_update(profile=profile, availability={**weekday_hours(), "slot_minutes": 15}, by=staff)

    assert saved(profile)["slot_minutes"] == 15
    assert AdminLog.objects.get(table_name="doctor_profiles", record_id=profile.pk).user == staff


def test_the_service_writes_nothing_when_the_model_refuses():
    profile = DoctorProfileFactory(availability=weekday_hours(), next_available_at=datetime(2027, 1, 1, tzinfo=UTC))
    bad = {**weekday_hours(), "weekly": {"fri": [{"start": "10:00", "end": "09:00"}]}}

    with pytest.raises(ValidationError) as exc:
        services.availability_update(profile=profile, availability=bad, by=profile.user)

    assert "weekly.fri: a range must end after it starts." in exc.value.message_dict["availability"]
    profile.refresh_from_db()
    assert profile.availability == weekday_hours()
    assert profile.next_available_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert not AdminLog.objects.filter(record_id=profile.pk).exists()


def test_the_service_clears_the_next_free_slot_when_no_hours_remain():
    profile = DoctorProfileFactory(availability=weekday_hours())
    services.next_available_refresh(profile=profile, now=datetime.now(UTC) - timedelta(days=1))
    assert profile.next_available_at is not None

    services.availability_update(
        profile=profile, availability={**weekday_hours(), "weekly": {}, "overrides": []}, by=profile.user
    )

    profile.refresh_from_db()
    assert profile.next_available_at is None
