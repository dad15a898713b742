"""Consultations: read paths for the dashboards, the consultation page and the waiting room.

Each function runs a fixed number of SQL queries whatever the amount of data
(the number is in its docstring); consultations/tests/test_dashboards.py and
test_pages.py prove it by comparing small and large data sets.

Times are stored in UTC. "Today" and the earnings range are days in the
viewer's own time zone (`User.timezone`, the zone the middleware activates for
the page), so the days the page shows and the days it counts are the same.

What a viewer may do next (`consultation_actions`) is answered by the rules'
own homes: consultations.lifecycle for status changes, consultations.policies
for the waiting room and rescheduling. Nothing here re-states a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import User
from consultations import lifecycle, policies
from consultations.models import (
    Consultation,
    ConsultationType,
    Message,
    PatientConsultationHistory,
    PaymentMethod,
    PaymentStatus,
    Status,
)
from doctors.models import DoctorReview
from prescriptions.models import Prescription, PrescriptionStatus
from records.models import FileUpload

# How much each list shows. A list asks for one row more than it shows, so
# the page can say "there are more" without a COUNT.
# The doctor's lists are short on purpose: the dashboard is what needs doing
# now, read on a phone between patients, and each card costs render time.
TODAY_LIMIT = 12
UPCOMING_LIMIT = 8
REQUESTS_LIMIT = 6
MONEY_LIMIT = 10
PATIENT_UPCOMING_LIMIT = 10
HISTORY_PAGE_SIZE = 10
RECENT_PRESCRIPTIONS = 3

LIVE_STATUSES = (Status.SCHEDULED, Status.IN_PROGRESS)
# Consultations whose fee is still owed: booked, running or over (a
# cancellation settles the money itself, see payments.services).
OWING_STATUSES = (Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED, Status.NO_SHOW)
STARTED_STATUSES = (Status.IN_PROGRESS, Status.COMPLETED, Status.NO_SHOW)


# --- shared pieces ------------------------------------------------------------------


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of `day` and of the day after, in `zone` (aware, so UTC-comparable)."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _count(queryset: QuerySet, group: str) -> Coalesce:
    """COUNT(*) of `queryset` as a scalar subquery (0 when there are no rows)."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def unread_messages(viewer: User) -> Coalesce:
    """Per consultation (the outer row): messages the other party sent that are unread.

    In a consultation of two people "sent by the other party" is "sent by
    someone who is not the viewer"; system messages (no sender) are not
    counted. Uses the (consultation_id, created_at) index.
    """
    mine = Message.objects.filter(consultation_id=OuterRef("pk"), read_at__isnull=True, sender__isnull=False).exclude(
        sender_id=viewer.pk
    )
    return _count(mine, "consultation_id")


# --- what the viewer may do -----------------------------------------------------------


@dataclass(frozen=True)
class QuickAction:
    """A status change offered as a button (POST to consultations:transition)."""

    to: str
    label: str
    style: str = "secondary"  # the button's modifier: primary, secondary, danger
    asks_reason: bool = False


# The buttons a doctor may be offered, in the order they are shown. Whether
# each one shows is lifecycle.transition_check's answer, now.
_QUICK = (
    QuickAction(Status.SCHEDULED, "Accept", "primary"),
    QuickAction(Status.IN_PROGRESS, "Start", "primary"),
    QuickAction(Status.COMPLETED, "Complete", "primary"),
    QuickAction(Status.NO_SHOW, "Mark no-show", "secondary"),
)
_DECLINE = QuickAction(Status.CANCELLED, "Decline", "danger", asks_reason=True)


@dataclass
class Actions:
    role: str | None
    quick: list[QuickAction] = field(default_factory=list)
    join: bool = False  # the patient may enter the waiting room now
    waiting_room: bool = False  # the doctor's link to the waiting room
    can_start_from: datetime | None = None  # the doctor cannot start yet; from then on
    cancel: bool = False
    reschedule: bool = False
    reschedule_refused: str = ""
    pay: bool = False
    calendar: bool = False
    review: bool = False
    record_payment: bool = False
    record_refund: bool = False


def _allowed(consultation: Consultation, to: str, user: User, now: datetime) -> bool:
    try:
        lifecycle.transition_check(consultation=consultation, to=to, by=user, reason="", now=now)
    except lifecycle.LifecycleError:
        return False
    return True


def consultation_actions(consultation: Consultation, user: User, now: datetime) -> Actions:
    """Everything `user` may do with the consultation now, for its buttons and links. No query."""
    role = lifecycle.role_in(consultation, user)
    actions = Actions(role=role)
    if role not in (lifecycle.PATIENT, lifecycle.DOCTOR) or consultation.is_ai:
        return actions
    status = consultation.status
    may_cancel = lifecycle.may(consultation, Status.CANCELLED, user)
    actions.cancel = may_cancel and status != Status.REQUESTED
    try:
        policies.reschedule_check(consultation, role, now)
    except policies.RescheduleRefused as refused:
        actions.reschedule_refused = refused.messages[0] if status == Status.SCHEDULED else ""
    else:
        actions.reschedule = True
    actions.calendar = status == Status.SCHEDULED and consultation.scheduled_at is not None

    if role == lifecycle.PATIENT:
        actions.join = policies.waiting_room_open(consultation, now)
        # A request the doctor has not accepted yet is withdrawn on the cancel page too.
        actions.cancel = may_cancel
        actions.pay = (
            consultation.payment_status == PaymentStatus.PENDING
            and consultation.payment_method != PaymentMethod.PAY_AT_CLINIC
            and status in (Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED)
        )
        actions.review = status == Status.COMPLETED
        return actions

    actions.quick = [action for action in _QUICK if _allowed(consultation, action.to, user, now)]
    if status == Status.REQUESTED and _allowed(consultation, Status.CANCELLED, user, now):
        actions.quick.append(_DECLINE)
    if status == Status.SCHEDULED:
        start = lifecycle.TRANSITIONS[(Status.SCHEDULED, Status.IN_PROGRESS)]
        earliest = start.earliest(consultation)
        if earliest is not None and now < earliest:
            actions.can_start_from = earliest
    actions.waiting_room = consultation.is_online and status == Status.SCHEDULED
    actions.record_payment = consultation.payment_status == PaymentStatus.PENDING and status in OWING_STATUSES
    # Online refunds complete through the provider; the clinic records its own.
    actions.record_refund = (
        consultation.payment_status == PaymentStatus.REFUND_PENDING
        and consultation.payment_method != PaymentMethod.RAZORPAY
    )
    return actions


def _with_actions(consultations: list[Consultation], user: User, now: datetime) -> list[Consultation]:
    for consultation in consultations:
        consultation.actions = consultation_actions(consultation, user, now)
    return consultations


# --- the doctor -----------------------------------------------------------------------


def doctor_upcoming_appointments(*, doctor: User, now: datetime) -> QuerySet[Consultation]:
    """The spec's "Get doctor's upcoming appointments", as a QuerySet (1 query when read).

        SELECT c.*, pp.full_name AS patient_name FROM consultations c
        JOIN patient_profiles pp ON c.patient_id = pp.user_id
        WHERE c.doctor_id = ? AND c.status = 'scheduled' AND c.scheduled_at > NOW()
        ORDER BY c.scheduled_at ASC

    One deliberate difference: the profile is LEFT JOINed, so a booking by a
    patient who has no profile yet still shows (nameless) instead of vanishing
    from the doctor's diary. Uses the (doctor_id, status, scheduled_at) index.
    """
    return (
        Consultation.objects.filter(doctor=doctor, status=Status.SCHEDULED, scheduled_at__gt=now)
        .annotate(patient_name=F("patient__patient_profile__full_name"))
        .order_by("scheduled_at", "id")
    )


@dataclass(frozen=True)
class EarningsLine:
    """One currency's money in the range: fees paid minus refunds made."""

    currency: str
    payments: int
    paid: Decimal
    refunds: int
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.paid - self.refunded


@dataclass(frozen=True)
class Earnings:
    start: date
    end: date  # inclusive
    zone: ZoneInfo
    lines: list[EarningsLine]


def doctor_earnings(*, doctor: User, start: date, end: date, zone: ZoneInfo) -> Earnings:
    """Fees paid and refunds made from `start` to `end` (both days included, in `zone`), per currency (1 query).

    Counted by when the money moved: a fee by `paid_at`, a refund by
    `refunded_at`. A refund still pending is not subtracted (the money has not
    gone back yet); the dashboard lists it under refunds to record.
    """
    start_at, _ = day_bounds(start, zone)
    _, end_at = day_bounds(end, zone)
    paid_in = Q(paid_at__gte=start_at, paid_at__lt=end_at)
    refunded_in = Q(refunded_at__gte=start_at, refunded_at__lt=end_at)
    rows = (
        Consultation.objects.filter(doctor=doctor)
        .filter(paid_in | refunded_in)
        .values("currency")
        .annotate(
            payments=Count("pk", filter=paid_in),
            paid=Sum("fee_amount", filter=paid_in),
            refunds=Count("pk", filter=refunded_in),
            refunded=Sum("refund_amount", filter=refunded_in),
        )
        .order_by("currency")
    )
    lines = [
        EarningsLine(
            currency=row["currency"],
            payments=row["payments"],
            paid=row["paid"] or Decimal("0"),
            refunds=row["refunds"],
            refunded=row["refunded"] or Decimal("0"),
        )
        for row in rows
    ]
    return Earnings(start=start, end=end, zone=zone, lines=lines)


def this_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    return first, next_first - timedelta(days=1)


@dataclass
class DoctorDashboard:
    today: date
    zone: ZoneInfo
    # Today's consultations (scheduled or running) and any still open from an
    # earlier day, which the doctor has to start, complete or mark no-show.
    now: list[Consultation]
    more_now: bool
    upcoming: list[Consultation]  # after today: the spec's upcoming appointments
    more_upcoming: bool
    requests: list[Consultation]
    more_requests: bool
    payments_due: list[Consultation]  # pending fees of consultations held or due by today
    refunds_due: list[Consultation]
    more_money: bool
    earnings: Earnings


# Encrypted free text no dashboard card shows: deferred, so no row is decrypted for nothing.
NOT_ON_CARDS = ("ai_summary", "doctor_notes")


def _split_more(rows: list, limit: int) -> tuple[list, bool]:
    return rows[:limit], len(rows) > limit


def doctor_dashboard(
    *, doctor: User, now: datetime, zone: ZoneInfo, earnings_range: tuple[date, date] | None = None
) -> DoctorDashboard:
    """The doctor's dashboard (5 queries: today, upcoming, requests, money to record, earnings)."""
    today = now.astimezone(zone).date()
    today_start, today_end = day_bounds(today, zone)
    unread = unread_messages(doctor)

    # Running ones first, then today's in time order, then those still open
    # from an earlier day: with a short list, today's must not be pushed off
    # it by old ones nobody closed.
    current, more_now = _split_more(
        list(
            # Spelt per status so that both are ranges of the (doctor_id, status,
            # scheduled_at) index, not every scheduled row the doctor has.
            Consultation.objects.filter(doctor=doctor)
            .filter(Q(status=Status.SCHEDULED, scheduled_at__lt=today_end) | Q(status=Status.IN_PROGRESS))
            .defer(*NOT_ON_CARDS)
            .annotate(
                patient_name=F("patient__patient_profile__full_name"),
                unread=unread,
                today_order=Case(
                    When(status=Status.IN_PROGRESS, then=Value(0)),
                    When(scheduled_at__gte=today_start, then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                ),
            )
            .order_by("today_order", "scheduled_at", "id")[: TODAY_LIMIT + 1]
        ),
        TODAY_LIMIT,
    )
    upcoming, more_upcoming = _split_more(
        list(
            doctor_upcoming_appointments(doctor=doctor, now=now)
            .filter(scheduled_at__gte=today_end)
            .defer(*NOT_ON_CARDS)
            .annotate(unread=unread)[: UPCOMING_LIMIT + 1]
        ),
        UPCOMING_LIMIT,
    )
    requests, more_requests = _split_more(
        list(
            Consultation.objects.filter(doctor=doctor, status=Status.REQUESTED)
            .defer(*NOT_ON_CARDS)
            .annotate(patient_name=F("patient__patient_profile__full_name"), unread=unread)
            .order_by("created_at", "id")[: REQUESTS_LIMIT + 1]
        ),
        REQUESTS_LIMIT,
    )
    money, more_money = _split_more(
        list(
            Consultation.objects.filter(doctor=doctor)
            .filter(
                # A fee is due once the consultation has happened or its day has
                # come; a booking still ahead is not yet something to collect.
                Q(payment_status=PaymentStatus.PENDING)
                & (Q(status__in=STARTED_STATUSES) | Q(status=Status.SCHEDULED, scheduled_at__lt=today_end))
                | Q(payment_status=PaymentStatus.REFUND_PENDING)
            )
            .defer(*NOT_ON_CARDS)
            .annotate(patient_name=F("patient__patient_profile__full_name"))
            .order_by(F("scheduled_at").asc(nulls_last=True), "id")[: MONEY_LIMIT + 1]
        ),
        MONEY_LIMIT,
    )
    for consultation in current:
        consultation.earlier = consultation.scheduled_at is not None and consultation.scheduled_at < today_start
    start, end = earnings_range or this_month(today)
    _with_actions([*current, *upcoming, *requests, *money], doctor, now)
    return DoctorDashboard(
        today=today,
        zone=zone,
        now=current,
        more_now=more_now,
        upcoming=upcoming,
        more_upcoming=more_upcoming,
        requests=requests,
        more_requests=more_requests,
        payments_due=[c for c in money if c.payment_status == PaymentStatus.PENDING],
        refunds_due=[c for c in money if c.payment_status == PaymentStatus.REFUND_PENDING],
        more_money=more_money,
        earnings=doctor_earnings(doctor=doctor, start=start, end=end, zone=zone),
    )


# --- the patient ----------------------------------------------------------------------


@dataclass
class PatientDashboard:
    upcoming: list[Consultation]
    more_upcoming: bool
    history: Page  # of PatientConsultationHistory rows, each with .reviewed
    recent_prescriptions: list[Prescription]
    prescriptions_count: int
    records_count: int
    unread_messages: int
    live_intake: Consultation | None = None  # an AI intake in progress, to continue


def patient_dashboard(*, patient: User, now: datetime, history_page: int | str = 1) -> PatientDashboard:
    """The patient's dashboard (6 queries: upcoming, history count and page, prescriptions, counts,
    the AI intake in progress).

    Upcoming: consultations with a doctor that are requested, scheduled or in
    progress, soonest first, with the doctor's profile (name, photo) and the
    unread messages of each. History: the spec's `patient_consultation_history`
    view, the finished ones newest first. The notification count is the
    header's (accounts.context_processors), read once per page.
    """
    upcoming, more_upcoming = _split_more(
        list(
            Consultation.objects.filter(
                patient=patient,
                consultation_type=ConsultationType.DOCTOR,
                status__in=(Status.REQUESTED, *LIVE_STATUSES),
            )
            .select_related("doctor__doctor_profile")
            .defer(*NOT_ON_CARDS)
            .annotate(unread=unread_messages(patient))
            .order_by(F("scheduled_at").asc(nulls_last=True), "created_at", "id")[: PATIENT_UPCOMING_LIMIT + 1]
        ),
        PATIENT_UPCOMING_LIMIT,
    )
    _with_actions(upcoming, patient, now)

    history_rows = (
        PatientConsultationHistory.objects.filter(patient=patient)
        .exclude(status__in=(Status.REQUESTED, *LIVE_STATUSES))
        .annotate(reviewed=Exists(DoctorReview.objects.filter(consultation_id=OuterRef("id"))))
        .order_by("-created_at", "-id")
    )
    history = Paginator(history_rows, HISTORY_PAGE_SIZE).get_page(history_page)
    history.object_list = list(history.object_list)

    recent_prescriptions = list(
        Prescription.objects.filter(patient=patient, status=PrescriptionStatus.ISSUED)
        .select_related("doctor__doctor_profile")
        .annotate(item_count=Count("items"))
        .order_by("-issued_at", "-id")[:RECENT_PRESCRIPTIONS]
    )

    counts = (
        User.objects.filter(pk=patient.pk)
        .values(
            prescriptions=_count(
                Prescription.objects.filter(patient_id=OuterRef("pk"), status=PrescriptionStatus.ISSUED), "patient_id"
            ),
            records=_count(FileUpload.objects.filter(patient_id=OuterRef("pk")), "patient_id"),
            messages=_count(
                Message.objects.filter(
                    consultation__patient_id=OuterRef("pk"),
                    consultation__deleted_at__isnull=True,
                    sender_id=F("consultation__doctor_id"),
                    read_at__isnull=True,
                ),
                "consultation__patient_id",
            ),
        )
        .get()
    )
    return PatientDashboard(
        live_intake=live_intake(patient),
        upcoming=upcoming,
        more_upcoming=more_upcoming,
        history=history,
        recent_prescriptions=recent_prescriptions,
        prescriptions_count=counts["prescriptions"],
        records_count=counts["records"],
        unread_messages=counts["messages"],
    )


def live_intake(patient: User) -> Consultation | None:
    """The patient's unfinished AI intake, if any (there is one at a time; 1 query)."""
    return (
        Consultation.objects.filter(patient=patient, consultation_type=ConsultationType.AI, status=Status.IN_PROGRESS)
        .order_by("-created_at", "-id")
        .first()
    )


# --- one consultation -----------------------------------------------------------------


def participant_consultation(*, user: User, consultation_id: str) -> Consultation:
    """The consultation with both parties' profiles, if `user` is its patient or doctor (1 query).

    Http404 otherwise, the same answer for missing and forbidden, decided by
    policies.is_participant (the question consultation_for_participant asks),
    so ids cannot be probed. Carries `.unread` for the viewer.
    """
    consultation = (
        Consultation.objects.select_related(
            "patient__patient_profile", "doctor__doctor_profile", "follow_up_of", "review"
        )
        .annotate(unread=unread_messages(user))
        .filter(pk=consultation_id)
        .first()
        if user.is_authenticated
        else None
    )
    if consultation is None or not policies.is_participant(user, consultation):
        raise Http404("No such consultation.")
    return consultation


@dataclass
class ConsultationPage:
    consultation: Consultation
    actions: Actions
    prescriptions: list[Prescription]


def consultation_page(*, user: User, consultation_id: str, now: datetime) -> ConsultationPage:
    """A consultation's page for one of its parties (3 queries: the consultation, its
    issued prescriptions, their remedies; 2 when it has no prescription)."""
    consultation = participant_consultation(user=user, consultation_id=consultation_id)
    prescriptions = list(
        Prescription.objects.filter(consultation=consultation, status=PrescriptionStatus.ISSUED)
        .prefetch_related("items")
        .order_by("-issued_at", "-id")
    )
    return ConsultationPage(
        consultation=consultation,
        actions=consultation_actions(consultation, user, now),
        prescriptions=prescriptions,
    )


def earliest_start(consultation: Consultation) -> datetime | None:
    """When the doctor may start (admit) the consultation, per the lifecycle table."""
    return lifecycle.TRANSITIONS[(Status.SCHEDULED, Status.IN_PROGRESS)].earliest(consultation)


def validation_message(error: ValidationError) -> str:
    return error.messages[0] if error.messages else "That could not be done."
