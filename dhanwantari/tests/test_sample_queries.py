"""The schema document's four sample queries, run verbatim on the demo data.

The SQL below is copied from spec/dhanwantari-schema.md ("Sample Queries")
byte for byte, trailing spaces included; `test_the_queries_are_the_documents`
checks that against the document whenever it sits next to the project. The
queries go through a raw cursor, as a MySQL client would send them: on SQLite
our backend supplies NOW(), and `TRUE` needs SQLite 3.23 or later.
"""

from __future__ import annotations

import re
import statistics
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Notification
from consultations.models import Consultation, PatientConsultationHistory
from dhanwantari.demo import rating_decimal
from doctors.models import DoctorProfile, DoctorReview
from patients.models import PatientProfile

pytestmark = pytest.mark.django_db

SPEC = Path(settings.BASE_DIR).parent / "shared" / "spec" / "dhanwantari-schema.md"

# --- the spec's SQL, verbatim ---------------------------------------------------

GET_CONSULTATION_HISTORY = (
    "SELECT * FROM patient_consultation_history \nWHERE patient_id = 'patient_001'\nORDER BY created_at DESC;"
)

GET_UNREAD_NOTIFICATIONS = (
    "SELECT * FROM notifications \nWHERE user_id = 'patient_001' AND read_at IS NULL\nORDER BY created_at DESC;"
)

GET_UPCOMING_APPOINTMENTS = (
    "SELECT c.*, pp.full_name as patient_name\n"
    "FROM consultations c\n"
    "JOIN patient_profiles pp ON c.patient_id = pp.user_id\n"
    "WHERE c.doctor_id = 'doctor_001'\n"
    "  AND c.status = 'scheduled'\n"
    "  AND c.scheduled_at > NOW()\n"
    "ORDER BY c.scheduled_at ASC;"
)

CALCULATE_DOCTOR_RATING = (
    "SELECT \n"
    "    doctor_id,\n"
    "    AVG(rating) as avg_rating,\n"
    "    COUNT(*) as total_reviews\n"
    "FROM doctor_reviews\n"
    "WHERE is_visible = TRUE\n"
    "GROUP BY doctor_id;"
)

SAMPLE_QUERIES = {
    "Get patient's consultation history": GET_CONSULTATION_HISTORY,
    "Get unread notifications": GET_UNREAD_NOTIFICATIONS,
    "Get doctor's upcoming appointments": GET_UPCOMING_APPOINTMENTS,
    "Calculate doctor rating": CALCULATE_DOCTOR_RATING,
}


# --- helpers -----------------------------------------------------------------------


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


def run(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def utc(value: datetime | str) -> datetime:
    """A datetime from a raw row: MySQL gives naive UTC datetimes, SQLite may give text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- the queries are the document's --------------------------------------------------


def test_the_queries_are_the_documents():
    if not SPEC.exists():
        pytest.skip(f"the schema document is not at {SPEC}")
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## Sample Queries") : text.index("## Migration Instructions")]
    blocks = dict(re.findall(r"### (.+?)\n```sql\n(.*?)\n```", section, flags=re.DOTALL))

    assert blocks == SAMPLE_QUERIES


# --- Get patient's consultation history -----------------------------------------------


def test_history_lists_patient_001s_consultations_newest_first(demo):
    rows = run(GET_CONSULTATION_HISTORY)

    expected = (
        Consultation.objects.filter(patient_id="patient_001").order_by("-created_at").values_list("id", flat=True)
    )
    assert [row["id"] for row in rows] == list(expected)
    assert len(rows) >= 6
    assert {row["patient_id"] for row in rows} == {"patient_001"}
    assert {row["patient_name"] for row in rows} == {"Asha Rao"}
    created = [utc(row["created_at"]) for row in rows]
    assert created == sorted(created, reverse=True)
    assert len(set(created)) == len(created), "ties would make the order arbitrary"
    # The AI intake has no doctor: the view's LEFT JOIN keeps it, without a name.
    ai_rows = [row for row in rows if row["consultation_type"] == "ai"]
    assert ai_rows
    assert all(row["doctor_id"] is None and row["doctor_name"] is None for row in ai_rows)


def test_history_view_has_one_row_per_live_consultation(demo):
    assert PatientConsultationHistory.objects.count() == Consultation.objects.count()

    Consultation.objects.get(id="cons_demo_005").soft_delete()

    assert PatientConsultationHistory.objects.count() == Consultation.objects.count()
    assert "cons_demo_005" not in [row["id"] for row in run(GET_CONSULTATION_HISTORY)]


def test_history_view_computes_patient_age_like_the_profile(demo):
    ages = {profile.user_id: profile.age for profile in PatientProfile.objects.all()}
    rows = run("SELECT patient_id, patient_age FROM patient_consultation_history")

    assert len(rows) == Consultation.objects.count()
    wrong = {row["patient_id"]: row["patient_age"] for row in rows if row["patient_age"] != ages[row["patient_id"]]}
    assert wrong == {}
    assert {row["patient_age"] for row in run(GET_CONSULTATION_HISTORY)} == {ages["patient_001"]}


# --- Get unread notifications ------------------------------------------------------


def test_unread_notifications_are_patient_001s_unread_ones_newest_first(demo):
    rows = run(GET_UNREAD_NOTIFICATIONS)

    unread = Notification.objects.filter(user_id="patient_001", read_at__isnull=True).order_by("-created_at")
    assert [row["id"] for row in rows] == [n.id for n in unread]
    assert len(rows) >= 2
    assert {row["user_id"] for row in rows} == {"patient_001"}
    assert all(row["read_at"] is None for row in rows)
    created = [utc(row["created_at"]) for row in rows]
    assert created == sorted(created, reverse=True)
    # There is something to leave out: read ones of hers, unread ones of others.
    assert Notification.objects.filter(user_id="patient_001", read_at__isnull=False).exists()
    assert Notification.objects.exclude(user_id="patient_001").filter(read_at__isnull=True).exists()


# --- Get doctor's upcoming appointments ----------------------------------------------


def test_upcoming_appointments_are_doctor_001s_future_scheduled_ones_soonest_first(demo):
    now = timezone.now()
    rows = run(GET_UPCOMING_APPOINTMENTS)

    assert [row["id"] for row in rows] == ["cons_demo_003", "cons_demo_007", "cons_demo_004"]
    assert [row["patient_name"] for row in rows] == ["Asha Rao", "Fatima Sheikh", "Asha Rao"]
    assert {(row["doctor_id"], row["status"]) for row in rows} == {("doctor_001", "scheduled")}
    times = [utc(row["scheduled_at"]) for row in rows]
    assert all(t > now for t in times)
    assert times == sorted(times)
    expected = Consultation.objects.filter(doctor_id="doctor_001", status="scheduled", scheduled_at__gt=now)
    assert len(rows) == expected.count()


def test_upcoming_appointments_compare_with_now_in_utc(demo):
    # An hour either side of now: a NOW() in a different zone than the stored
    # UTC times (IST is 5.5 hours off) would get one of these wrong.
    now = timezone.now()
    Consultation.objects.filter(id="cons_demo_007").update(scheduled_at=now + timedelta(hours=1))
    Consultation.objects.filter(id="cons_demo_004").update(scheduled_at=now - timedelta(hours=1))

    ids = [row["id"] for row in run(GET_UPCOMING_APPOINTMENTS)]

    assert ids == ["cons_demo_007", "cons_demo_003"]


# --- Calculate doctor rating ---------------------------------------------------------


def test_doctor_rating_averages_visible_reviews_only(demo):
    rows = {row["doctor_id"]: row for row in run(CALCULATE_DOCTOR_RATING)}

    visible: dict[str, list[int]] = {}
    for review in DoctorReview.all_objects.filter(is_visible=True):
        visible.setdefault(review.doctor_id, []).append(review.rating)
    assert set(rows) == set(visible)
    for doctor_id, ratings in visible.items():
        assert rows[doctor_id]["total_reviews"] == len(ratings)
        assert rating_decimal(rows[doctor_id]["avg_rating"]) == rating_decimal(statistics.mean(ratings))

    # doctor_005 has a 5★ review and a hidden 1★ one: the hidden one does not count.
    assert DoctorReview.all_objects.filter(doctor_id="doctor_005", is_visible=False).exists()
    assert rows["doctor_005"]["total_reviews"] == 1
    assert rating_decimal(rows["doctor_005"]["avg_rating"]) == rating_decimal(5)


def test_doctor_profiles_carry_the_rating_the_query_computes(demo):
    rows = {row["doctor_id"]: row for row in run(CALCULATE_DOCTOR_RATING)}

    for profile in DoctorProfile.objects.all():
        row = rows.get(profile.user_id)
        if row is None:
            assert (profile.rating_avg, profile.rating_count) == (0, 0), profile.user_id
        else:
            assert profile.rating_avg == rating_decimal(row["avg_rating"]), profile.user_id
            assert profile.rating_count == row["total_reviews"], profile.user_id
    assert DoctorProfile.objects.get(user_id="doctor_001").rating_avg == rating_decimal("4.33")
