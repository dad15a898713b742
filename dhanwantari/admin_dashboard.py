"""The staff dashboard on the admin index: what needs a person today.

Each tile is a count and a link to the changelist filtered to exactly those
rows. Four queries however many rows (one conditional aggregate per table),
and a tile the staff member may not open is neither counted nor shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import User
from consultations.models import Consultation, ConsultationType, PaymentStatus, Status, TriageLevel
from doctors.models import DoctorProfile, DoctorReview, VerificationStatus

EMERGENCY_DAYS = 7
PAYMENT_PROBLEMS = (PaymentStatus.FAILED, PaymentStatus.DISPUTED)


@dataclass(frozen=True)
class Tile:
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Section:
    title: str
    tiles: list[Tile]


def _changelist(name: str, **params: str) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Today in the current time zone (the staff member's: accounts.middleware sets it)."""
    local = timezone.localtime(now)
    # Midnight to midnight by the calendar, not start + 24 h: a DST day is 23 or 25 hours.
    start = datetime.combine(local.date(), time(), tzinfo=local.tzinfo)
    end = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=local.tzinfo)
    return start, end


def _consultation_section(now: datetime) -> list[Section]:
    start, end = _day_bounds(now)
    since = now - timedelta(days=EMERGENCY_DAYS)
    today = Q(scheduled_at__gte=start, scheduled_at__lt=end)
    emergency = Q(consultation_type=ConsultationType.AI, triage_level=TriageLevel.EMERGENCY, created_at__gte=since)
    counts = Consultation.objects.aggregate(
        **{f"today_{status}": Count("pk", filter=today & Q(status=status)) for status in Status.values},
        payment_problems=Count("pk", filter=Q(payment_status__in=PAYMENT_PROBLEMS)),
        emergencies=Count("pk", filter=emergency),
    )
    day = {"scheduled_at__gte": str(start), "scheduled_at__lt": str(end)}
    today_tiles = [
        Tile(label, counts[f"today_{status}"], _changelist("consultations_consultation", status__exact=status, **day))
        for status, label in Status.choices
    ]
    attention = [
        Tile(
            "Failed or disputed payments",
            counts["payment_problems"],
            _changelist("consultations_consultation", payment_status__in=",".join(PAYMENT_PROBLEMS)),
        ),
        Tile(
            f"AI emergencies, last {EMERGENCY_DAYS} days",
            counts["emergencies"],
            _changelist(
                "consultations_consultation",
                consultation_type__exact=ConsultationType.AI,
                triage_level__exact=TriageLevel.EMERGENCY,
                created_at__gte=str(since),
            ),
        ),
    ]
    return [Section("Today's consultations", today_tiles), Section("Consultations needing attention", attention)]


def staff_dashboard(*, user: User, now: datetime | None = None) -> list[Section]:
    """The sections `user` may see, each tile a count and its filtered list."""
    now = now or timezone.now()
    sections: list[Section] = []
    if user.has_perm("consultations.view_consultation"):
        sections += _consultation_section(now)
    people: list[Tile] = []
    if user.has_perm("doctors.view_doctorprofile"):
        pending = DoctorProfile.objects.filter(verification_status=VerificationStatus.PENDING).count()
        people.append(
            Tile(
                "Doctors awaiting verification",
                pending,
                _changelist("doctors_doctorprofile", verification_status__exact=VerificationStatus.PENDING),
            )
        )
    if user.has_perm("doctors.view_doctorreview"):
        from doctors.admin import AWAITING_MODERATION

        awaiting = DoctorReview.all_objects.filter(AWAITING_MODERATION).count()
        people.append(
            Tile("Reviews awaiting moderation", awaiting, _changelist("doctors_doctorreview", moderation="awaiting"))
        )
    if user.has_perm("accounts.view_user"):
        locked = User.objects.filter(locked_until__gt=now).count()
        people.append(Tile("Locked accounts", locked, _changelist("accounts_user", locked="yes")))
    if people:
        sections.append(Section("People waiting on staff", people))
    return sections
