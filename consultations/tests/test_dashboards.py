"""The dashboards at /dashboard/: who gets which, what they show, and what they cost.

A fixed cast: the doctor (Dr. Asha Kulkarni, Asia/Kolkata), her patient (Meera
Iyer), and outsiders. Query budgets compare 3 consultations with 40: the
count must not move.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import NotificationFactory, StaffUserFactory, UserFactory
from consultations import queries
from consultations.models import Consultation
from consultations.tests.factories import AIConsultationFactory, ConsultationFactory, MessageFactory
from doctors.tests.factories import DoctorProfileFactory, DoctorReviewFactory
from patients.tests.factories import PatientProfileFactory
from prescriptions.tests.factories import IssuedPrescriptionFactory, PrescriptionItemFactory
from records.tests.factories import FileUploadFactory

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("consultations:dashboard")
KOLKATA = ZoneInfo("Asia/Kolkata")

# The spec's "Get doctor's upcoming appointments", verbatim but for the id.
SPEC_UPCOMING = """
SELECT c.*, pp.full_name as patient_name
FROM consultations c
JOIN patient_profiles pp ON c.patient_id = pp.user_id
WHERE c.doctor_id = %s
  AND c.status = 'scheduled'
  AND c.scheduled_at > NOW()
ORDER BY c.scheduled_at ASC;
"""


@pytest.fixture
def doctor():
    return DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


def signed_in(client, user):
    """Sign in and make the first request, which also writes the session's idle clock."""
    client.force_login(user)
    client.get(DASHBOARD)
    return client


def card(html: str, consultation: Consultation) -> str:
    """The HTML of one consultation's card on a dashboard ("" if it is not there)."""
    found = re.search(rf'data-consultation="{consultation.pk}".*?</article>', html, re.DOTALL)
    return found.group(0) if found else ""


def section(html: str, name: str) -> str:
    found = re.search(rf'data-section="{name}".*?</section>', html, re.DOTALL)
    return found.group(0) if found else ""


# --- who gets which dashboard ------------------------------------------------------------


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_patient_gets_the_patient_dashboard(client, patient):
    response = signed_in(client, patient).get(DASHBOARD)
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "consultations/dashboard_patient.html"


def test_a_doctor_gets_the_doctor_dashboard(client, doctor):
    response = signed_in(client, doctor).get(DASHBOARD)
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "consultations/dashboard_doctor.html"


def test_staff_see_nothing_here(client):
    client.force_login(StaffUserFactory())
    assert client.get(DASHBOARD).status_code == 403


def test_an_account_with_no_role_here_is_refused(client):
    client.force_login(UserFactory(role="admin"))
    assert client.get(DASHBOARD).status_code == 403


def test_the_dashboard_answers_only_get(client, patient):
    assert signed_in(client, patient).post(DASHBOARD).status_code == 405


def test_the_header_links_signed_in_patients_and_doctors_to_their_dashboard(client, patient, doctor):
    for person in (patient, doctor):
        html = signed_in(client, person).get(reverse("accounts:dashboard")).content.decode()
        assert f'href="{DASHBOARD}"' in html
    client.force_login(StaffUserFactory())
    assert f'href="{DASHBOARD}"' not in client.get(reverse("doctors:directory")).content.decode()


# --- the doctor's dashboard ---------------------------------------------------------------


def test_the_upcoming_list_is_the_specs_query(doctor):
    now = timezone.now()
    soon = ConsultationFactory(
        doctor=doctor, patient=PatientProfileFactory().user, scheduled_at=now + timedelta(days=2)
    )
    sooner = ConsultationFactory(
        doctor=doctor, patient=PatientProfileFactory().user, scheduled_at=now + timedelta(hours=3)
    )
    ConsultationFactory(doctor=doctor, patient=PatientProfileFactory().user, scheduled_at=now - timedelta(hours=1))
    ConsultationFactory(doctor=doctor, patient=PatientProfileFactory().user, status="cancelled")
    ConsultationFactory(doctor=doctor, patient=PatientProfileFactory().user, status="requested")
    ConsultationFactory(patient=PatientProfileFactory().user)  # another doctor's

    with connection.cursor() as cursor:
        cursor.execute(SPEC_UPCOMING, [doctor.pk])
        columns = [column[0] for column in cursor.description]
        spec = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    ours = list(queries.doctor_upcoming_appointments(doctor=doctor, now=timezone.now()))

    assert [(row["id"], row["patient_name"]) for row in spec] == [(c.pk, c.patient_name) for c in ours]
    assert [c.pk for c in ours] == [sooner.pk, soon.pk]


def test_a_booking_by_a_patient_without_a_profile_still_shows_nameless(client, doctor):
    booking = ConsultationFactory(doctor=doctor, scheduled_at=timezone.now() + timedelta(days=3))
    html = signed_in(client, doctor).get(DASHBOARD).content.decode()
    assert "A patient" in card(html, booking)


def test_today_is_the_doctors_day_and_upcoming_starts_tomorrow(doctor, patient):
    # 18:00 in Kolkata: 23:30 tonight is today, 00:30 after midnight is upcoming.
    now = datetime(2026, 6, 10, 12, 30, tzinfo=UTC)
    tonight = ConsultationFactory(doctor=doctor, patient=patient, scheduled_at=datetime(2026, 6, 10, 18, 0, tzinfo=UTC))
    after_midnight = ConsultationFactory(
        doctor=doctor, patient=patient, scheduled_at=datetime(2026, 6, 10, 19, 0, tzinfo=UTC)
    )
    earlier_today = ConsultationFactory(
        doctor=doctor, patient=patient, scheduled_at=datetime(2026, 6, 10, 4, 0, tzinfo=UTC)
    )
    yesterday_unclosed = ConsultationFactory(
        doctor=doctor, patient=patient, scheduled_at=datetime(2026, 6, 9, 5, 0, tzinfo=UTC)
    )
    running = ConsultationFactory(
        doctor=doctor, patient=patient, status="in_progress", scheduled_at=datetime(2026, 6, 9, 18, 0, tzinfo=UTC)
    )
    ConsultationFactory(doctor=doctor, patient=patient, status="completed", scheduled_at=now)

    dash = queries.doctor_dashboard(doctor=doctor, now=now, zone=KOLKATA)

    assert dash.today == date(2026, 6, 10)
    # Running first, then today's in time order, then what is still open from an earlier day.
    assert [c.pk for c in dash.now] == [running.pk, earlier_today.pk, tonight.pk, yesterday_unclosed.pk]
    assert [c.pk for c in dash.upcoming] == [after_midnight.pk]
    assert {c.pk for c in dash.now if c.earlier} == {yesterday_unclosed.pk, running.pk}
    assert all(c.patient_name == "Meera Iyer" for c in dash.now)


def test_the_doctor_sees_a_booking_with_the_patients_name_and_time_in_their_zone(client, doctor, patient):
    at = timezone.now().replace(microsecond=0) + timedelta(days=2)
    booking = ConsultationFactory(doctor=doctor, patient=patient, scheduled_at=at, mode="video")
    html = signed_in(client, doctor).get(DASHBOARD).content.decode()
    shown = card(html, booking)
    assert "Meera Iyer" in shown
    assert f'datetime="{at.astimezone(KOLKATA).isoformat()}"' in shown
    assert "Video call" in shown
    assert "times in Asia/Kolkata" in html


@pytest.mark.parametrize(
    ("status", "starts_in", "offered"),
    [
        ("scheduled", timedelta(hours=1), set()),
        ("scheduled", timedelta(minutes=5), {"in_progress"}),
        ("scheduled", -timedelta(minutes=20), {"in_progress", "no_show"}),
        ("in_progress", -timedelta(minutes=5), {"completed"}),
        ("requested", timedelta(days=1), {"scheduled", "cancelled"}),
    ],
    ids=["too-early", "ten-minutes-before", "late", "running", "request"],
)
def test_quick_actions_show_only_when_the_lifecycle_allows_them_now(
    client, doctor, patient, status, starts_in, offered
):
    consultation = ConsultationFactory(
        doctor=doctor, patient=patient, status=status, scheduled_at=timezone.now() + starts_in
    )
    assert {a.to for a in queries.consultation_actions(consultation, doctor, timezone.now()).quick} == offered

    shown = card(signed_in(client, doctor).get(DASHBOARD).content.decode(), consultation)
    for target in ("in_progress", "no_show", "completed", "scheduled"):
        assert (f'data-action="{target}"' in shown) == (target in offered)
    assert ('name="to" value="cancelled"' in shown) == ("cancelled" in offered)


def test_a_doctor_who_cannot_start_yet_is_told_when_they_can(client, doctor, patient):
    at = timezone.now().replace(microsecond=0) + timedelta(minutes=40)
    consultation = ConsultationFactory(doctor=doctor, patient=patient, scheduled_at=at)
    shown = card(signed_in(client, doctor).get(DASHBOARD).content.decode(), consultation)
    assert "You can start from" in shown
    assert f'datetime="{(at - timedelta(minutes=10)).astimezone(KOLKATA).isoformat()}"' in shown


def test_the_patient_never_gets_the_doctors_quick_actions(patient, doctor):
    consultation = ConsultationFactory(
        doctor=doctor, patient=patient, status="scheduled", scheduled_at=timezone.now() - timedelta(minutes=30)
    )
    assert queries.consultation_actions(consultation, patient, timezone.now()).quick == []


def test_requests_to_answer_are_listed_oldest_first_with_accept_and_decline(client, doctor, patient):
    newer = ConsultationFactory(doctor=doctor, patient=patient, status="requested")
    older = ConsultationFactory(
        doctor=doctor, patient=patient, status="requested", created_at=timezone.now() - timedelta(hours=2)
    )
    html = signed_in(client, doctor).get(DASHBOARD).content.decode()
    requests = section(html, "requests")
    assert requests.index(older.pk) < requests.index(newer.pk)
    assert "Accept" in card(html, older)
    assert "Decline request" in card(html, older)


def test_payments_and_refunds_to_record_are_listed(client, doctor, patient):
    at_clinic = ConsultationFactory(
        doctor=doctor, patient=patient, mode="in_person", payment_method="pay_at_clinic", status="completed"
    )
    refund = ConsultationFactory(
        doctor=doctor,
        patient=patient,
        status="cancelled",
        payment_status="refund_pending",
        payment_method="offline",
        paid_at=timezone.now(),
        refund_amount=Decimal("250.00"),
    )
    online_refund = ConsultationFactory(
        doctor=doctor,
        patient=patient,
        status="cancelled",
        payment_status="refund_pending",
        payment_method="razorpay",
        paid_at=timezone.now(),
        refund_amount=Decimal("500.00"),
    )
    due_today = ConsultationFactory(
        doctor=doctor, patient=patient, scheduled_at=timezone.now() - timedelta(minutes=30), payment_method=""
    )
    ConsultationFactory(doctor=doctor, patient=patient, status="cancelled", payment_status="not_required")
    ConsultationFactory(doctor=doctor, patient=patient, payment_status="paid", paid_at=timezone.now())
    # Still ahead: nothing to collect yet.
    ConsultationFactory(doctor=doctor, patient=patient, scheduled_at=timezone.now() + timedelta(days=3))

    dash = queries.doctor_dashboard(doctor=doctor, now=timezone.now(), zone=KOLKATA)
    assert {c.pk for c in dash.payments_due} == {at_clinic.pk, due_today.pk}
    assert {c.pk for c in dash.refunds_due} == {refund.pk, online_refund.pk}

    money = section(signed_in(client, doctor).get(DASHBOARD).content.decode(), "money")
    assert reverse("payments:record_payment", args=[at_clinic.pk]) in money
    assert "pays at the clinic" in money
    assert reverse("payments:record_refund", args=[refund.pk]) in money
    assert "&#8377;250" in money
    # Razorpay refunds complete through Razorpay; there is nothing to record.
    assert reverse("payments:record_refund", args=[online_refund.pk]) not in money
    assert "Razorpay is processing it" in money


# --- earnings --------------------------------------------------------------------------------


def paid(doctor, amount, paid_at, currency="INR", **extra):
    return ConsultationFactory(
        doctor=doctor,
        status=extra.pop("status", "completed"),
        fee_amount=Decimal(amount),
        currency=currency,
        payment_status=extra.pop("payment_status", "paid"),
        payment_method="offline",
        paid_at=paid_at,
        **extra,
    )


@pytest.fixture
def april(doctor):
    """Payments around April 2026 in Kolkata (1 April 00:00 IST is 31 March 18:30 UTC)."""
    paid(doctor, 500, datetime(2026, 3, 31, 19, 0, tzinfo=UTC))  # 1 April 00:30 IST: in
    paid(doctor, 700, datetime(2026, 3, 31, 18, 0, tzinfo=UTC))  # 31 March 23:30 IST: out
    paid(doctor, 300, datetime(2026, 4, 30, 18, 29, tzinfo=UTC))  # 30 April 23:59 IST: in
    paid(doctor, 900, datetime(2026, 4, 30, 18, 31, tzinfo=UTC))  # 1 May 00:01 IST: out
    # Paid in March, partly refunded in April: the refund counts in April.
    paid(
        doctor,
        500,
        datetime(2026, 3, 5, 6, 0, tzinfo=UTC),
        status="cancelled",
        payment_status="refunded",
        refund_amount=Decimal("200.00"),
        refunded_at=datetime(2026, 4, 10, 6, 0, tzinfo=UTC),
    )
    # Paid in April, refund still pending: the money has not gone back yet.
    paid(
        doctor,
        400,
        datetime(2026, 4, 12, 6, 0, tzinfo=UTC),
        status="cancelled",
        payment_status="refund_pending",
        refund_amount=Decimal("400.00"),
    )
    paid(doctor, 50, datetime(2026, 4, 15, 6, 0, tzinfo=UTC), currency="USD")
    paid(DoctorProfileFactory().user, 1000, datetime(2026, 4, 15, 6, 0, tzinfo=UTC))  # another doctor


def test_earnings_are_fees_paid_minus_refunds_made_in_the_doctors_days_per_currency(doctor, april):
    earnings = queries.doctor_earnings(doctor=doctor, start=date(2026, 4, 1), end=date(2026, 4, 30), zone=KOLKATA)

    assert [
        (line.currency, line.payments, line.paid, line.refunds, line.refunded, line.net) for line in earnings.lines
    ] == [
        ("INR", 3, Decimal("1200.00"), 1, Decimal("200.00"), Decimal("1000.00")),
        ("USD", 1, Decimal("50.00"), 0, Decimal("0"), Decimal("50.00")),
    ]


def test_the_same_instants_fall_in_other_days_in_another_zone(doctor, april):
    new_york = ZoneInfo("America/New_York")
    earnings = queries.doctor_earnings(doctor=doctor, start=date(2026, 4, 1), end=date(2026, 4, 30), zone=new_york)
    inr = earnings.lines[0]
    # 31 March 19:00 UTC is still 31 March in New York; 30 April 18:31 UTC is 30 April there.
    assert (inr.payments, inr.paid) == (3, Decimal("1600.00"))


def test_the_dashboard_shows_the_asked_range_in_the_doctors_own_zone(client, doctor, april):
    doctor.timezone = "America/New_York"
    doctor.save(update_fields=["timezone"])
    response = signed_in(client, doctor).get(DASHBOARD, {"start": "2026-04-01", "end": "2026-04-30"})
    earnings = section(response.content.decode(), "earnings")
    assert "1 Apr 2026 to 30 Apr 2026" in earnings
    assert re.search(r'data-currency="INR".*?data-net><strong>&#8377;1,400</strong>', earnings, re.DOTALL)
    assert re.search(r'data-currency="USD".*?data-net><strong>USD&nbsp;50</strong>', earnings, re.DOTALL)


def test_earnings_default_to_this_month(client, doctor):
    today = timezone.now().astimezone(KOLKATA).date()
    paid(doctor, 600, timezone.now())
    paid(doctor, 800, datetime.combine(today.replace(day=1), datetime.min.time(), tzinfo=KOLKATA) - timedelta(hours=1))
    response = signed_in(client, doctor).get(DASHBOARD)
    dash = response.context["dash"]
    assert (dash.earnings.start, dash.earnings.end) == queries.this_month(today)
    assert [(line.payments, line.net) for line in dash.earnings.lines] == [(1, Decimal("600.00"))]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"start": "2026-04-30", "end": "2026-04-01"}, "The end date is before the start date."),
        ({"start": "2024-01-01", "end": "2026-04-01"}, "Choose at most 366 days."),
        ({"start": "2026-04-01"}, "Enter both a start and an end date."),
        ({"start": "2026-02-30", "end": "2026-03-31"}, "Enter a valid date."),
    ],
    ids=["inverted", "too-long", "incomplete", "not-a-date"],
)
def test_a_bad_range_is_explained_and_this_month_is_shown_instead(client, doctor, params, error):
    response = signed_in(client, doctor).get(DASHBOARD, params)
    assert response.status_code == 200
    earnings = section(response.content.decode(), "earnings")
    assert error in earnings
    assert "Showing this month instead." in earnings
    today = timezone.now().astimezone(KOLKATA).date()
    assert (response.context["dash"].earnings.start, response.context["dash"].earnings.end) == queries.this_month(today)


def test_a_valid_range_keeps_the_dates_in_the_form(client, doctor):
    html = signed_in(client, doctor).get(DASHBOARD, {"start": "2026-04-01", "end": "2026-04-30"}).content.decode()
    assert 'value="2026-04-01"' in html
    assert 'value="2026-04-30"' in html


# --- the patient's dashboard -------------------------------------------------------------


def test_the_patient_sees_upcoming_consultations_soonest_first_with_the_doctor(client, patient, doctor):
    later = ConsultationFactory(patient=patient, doctor=doctor, scheduled_at=timezone.now() + timedelta(days=5))
    sooner = ConsultationFactory(patient=patient, doctor=doctor, scheduled_at=timezone.now() + timedelta(days=1))
    ConsultationFactory(patient=patient, doctor=doctor, status="completed")
    ConsultationFactory(doctor=doctor)  # someone else's

    response = signed_in(client, patient).get(DASHBOARD)
    assert [c.pk for c in response.context["dash"].upcoming] == [sooner.pk, later.pk]
    assert "Dr. Asha Kulkarni" in card(response.content.decode(), sooner)


@pytest.mark.parametrize(
    ("starts_in", "mode", "can_join"),
    [
        (timedelta(minutes=11), "video", False),
        (timedelta(minutes=9), "video", True),
        (timedelta(minutes=9), "in_person", False),
    ],
    ids=["too-early", "window-open", "in-person"],
)
def test_join_shows_only_when_the_waiting_room_is_open(client, patient, doctor, starts_in, mode, can_join):
    consultation = ConsultationFactory(
        patient=patient, doctor=doctor, mode=mode, scheduled_at=timezone.now() + starts_in
    )
    shown = card(signed_in(client, patient).get(DASHBOARD).content.decode(), consultation)
    assert (reverse("consultations:waiting_room", args=[consultation.pk]) in shown) == can_join


def test_the_patient_can_cancel_reschedule_pay_and_add_to_calendar(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, scheduled_at=timezone.now() + timedelta(days=3))
    shown = card(signed_in(client, patient).get(DASHBOARD).content.decode(), consultation)
    for name in ("cancel", "reschedule", "ics"):
        assert reverse(f"consultations:{name}", args=[consultation.pk]) in shown
    assert reverse("payments:pay", args=[consultation.pk]) in shown


def test_pay_is_not_offered_for_pay_at_clinic_or_paid_consultations(client, patient, doctor):
    at_clinic = ConsultationFactory(patient=patient, doctor=doctor, mode="in_person", payment_method="pay_at_clinic")
    settled = ConsultationFactory(patient=patient, doctor=doctor, payment_status="paid", paid_at=timezone.now())
    html = signed_in(client, patient).get(DASHBOARD).content.decode()
    assert reverse("payments:pay", args=[at_clinic.pk]) not in html
    assert "Pay at the clinic" in card(html, at_clinic)
    assert reverse("payments:pay", args=[settled.pk]) not in html


def test_the_history_comes_from_the_view_newest_first_and_offers_a_review(client, patient, doctor):
    old = ConsultationFactory(
        patient=patient, doctor=doctor, status="completed", created_at=timezone.now() - timedelta(days=30)
    )
    reviewed = ConsultationFactory(patient=patient, doctor=doctor, status="completed")
    DoctorReviewFactory(consultation=reviewed)
    cancelled = ConsultationFactory(patient=patient, doctor=doctor, status="cancelled", cancellation_reason="Better")
    AIConsultationFactory(patient=patient, status="completed")

    response = signed_in(client, patient).get(DASHBOARD)
    rows = response.context["dash"].history.object_list
    assert [row.id for row in rows][1:] == [cancelled.pk, reviewed.pk, old.pk]
    history = section(response.content.decode(), "history")
    assert "AI intake assistant" in history
    assert reverse("doctors:review_write", args=[old.pk]) in history
    assert reverse("doctors:review_write", args=[reviewed.pk]) not in history


def test_the_history_is_paginated(client, patient, doctor):
    for days in range(queries.HISTORY_PAGE_SIZE + 3):
        ConsultationFactory(
            patient=patient, doctor=doctor, status="completed", created_at=timezone.now() - timedelta(days=days)
        )
    client = signed_in(client, patient)
    first = client.get(DASHBOARD)
    second = client.get(DASHBOARD, {"page": 2})
    assert len(first.context["dash"].history.object_list) == queries.HISTORY_PAGE_SIZE
    assert len(second.context["dash"].history.object_list) == 3
    assert "Page 1 of 2" in first.content.decode()
    assert client.get(DASHBOARD, {"page": "nonsense"}).status_code == 200


def test_unread_counts_are_the_other_partys_unread_messages_and_notifications(client, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor)
    MessageFactory.create_batch(2, consultation=consultation, sender=doctor)
    MessageFactory(consultation=consultation, sender=doctor, read_at=timezone.now())
    MessageFactory(consultation=consultation, sender=patient)  # their own
    MessageFactory(consultation=consultation, sender=None, message_type="system")
    NotificationFactory.create_batch(3, user=patient)
    NotificationFactory(user=patient, read_at=timezone.now())

    response = signed_in(client, patient).get(DASHBOARD)
    html = response.content.decode()
    assert response.context["dash"].unread_messages == 2
    assert 'data-unread-messages="2"' in html
    assert 'data-unread-notifications="3"' in html
    assert "2 unread messages" in card(html, consultation)

    # The doctor's side: only the patient's message is unread for them.
    doctor_html = signed_in(client, doctor).get(DASHBOARD).content.decode()
    assert "1 unread message" in card(doctor_html, consultation)


def test_prescriptions_and_records_shortcuts(client, patient, doctor):
    rx = IssuedPrescriptionFactory(consultation__patient=patient, consultation__doctor=doctor)
    PrescriptionItemFactory.create_batch(2, prescription=rx)
    IssuedPrescriptionFactory(
        consultation__patient=patient, consultation__doctor=doctor, status="draft", issued_at=None
    )
    FileUploadFactory.create_batch(2, patient=patient)

    html = signed_in(client, patient).get(DASHBOARD).content.decode()
    prescriptions = section(html, "prescriptions")
    assert 'data-prescriptions-count="1"' in prescriptions
    assert reverse("consultations:detail", args=[rx.consultation_id]) + "#prescriptions" in prescriptions
    assert "2 remedies" in prescriptions
    assert 'data-records-count="2"' in section(html, "records")


def test_a_new_patient_is_led_to_find_a_doctor(client, patient):
    html = signed_in(client, patient).get(DASHBOARD).content.decode()
    assert 'data-empty="upcoming"' in html
    assert 'data-empty="history"' in html
    assert re.search(rf'data-empty="upcoming".*?href="{reverse("doctors:directory")}"', html, re.DOTALL)


# --- query budgets --------------------------------------------------------------------


def doctor_world(doctor, n: int) -> None:
    """n consultations of each kind the doctor's dashboard shows, each with a message."""
    now = timezone.now()
    for i in range(n):
        person = PatientProfileFactory().user
        today = ConsultationFactory(doctor=doctor, patient=person, scheduled_at=now + timedelta(minutes=5 + i))
        MessageFactory(consultation=today)
        ConsultationFactory(doctor=doctor, patient=person, scheduled_at=now + timedelta(days=2, hours=i))
        ConsultationFactory(doctor=doctor, patient=person, status="requested")
        ConsultationFactory(
            doctor=doctor, patient=person, status="completed", mode="in_person", payment_method="pay_at_clinic"
        )
        paid(doctor, 500, now, patient=person)
        paid(doctor, 300, now, patient=person, currency="USD")


def test_the_doctor_dashboard_costs_the_same_for_3_consultations_as_for_40(client, doctor, django_assert_num_queries):
    doctor_world(doctor, 3)
    client = signed_in(client, doctor)
    # session, user; today, upcoming, requests, payments to record, earnings;
    # the header's unread count and name (the doctor's profile).
    with django_assert_num_queries(9):
        small = client.get(DASHBOARD)

    doctor_world(doctor, 37)
    with django_assert_num_queries(9):
        large = client.get(DASHBOARD)

    assert len(small.context["dash"].requests) == 3
    assert len(large.context["dash"].requests) == queries.REQUESTS_LIMIT
    assert large.context["dash"].more_requests
    assert large.context["dash"].earnings.lines[0].payments == 40


def patient_world(patient, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        doctor = DoctorProfileFactory().user
        upcoming = ConsultationFactory(patient=patient, doctor=doctor, scheduled_at=now + timedelta(days=1, hours=i))
        MessageFactory(consultation=upcoming, sender=doctor)
        done = ConsultationFactory(patient=patient, doctor=doctor, status="completed")
        rx = IssuedPrescriptionFactory(consultation=done)
        PrescriptionItemFactory(prescription=rx)
        FileUploadFactory(patient=patient)


def test_the_patient_dashboard_costs_the_same_for_3_consultations_as_for_40(client, patient, django_assert_num_queries):
    patient_world(patient, 3)
    client = signed_in(client, patient)
    # session, user; upcoming, history count, history page, recent prescriptions,
    # the counts (one row of subqueries), the AI intake in progress; the
    # header's unread count and name.
    with django_assert_num_queries(10):
        small = client.get(DASHBOARD)

    patient_world(patient, 37)
    with django_assert_num_queries(10):
        large = client.get(DASHBOARD)

    assert len(small.context["dash"].upcoming) == 3
    assert len(large.context["dash"].upcoming) == queries.PATIENT_UPCOMING_LIMIT
    assert large.context["dash"].unread_messages == 40
    assert large.context["dash"].history.paginator.count == 40
