"""Read paths for pages that show doctors, each a fixed number of queries.

Every public read goes through the `active_doctors` view (verified, active, not
deleted), so a doctor who is pending, rejected, deactivated or deleted is
absent from every page at once, by the same rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Case, F, FloatField, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import ASin, Cos, Radians, Sin, Sqrt
from django.http import Http404
from django.utils import timezone

from doctors.availability import Slot, bookable_slots, doctor_zone
from doctors.models import ActiveDoctor, DoctorProfile, DoctorReview

DIRECTORY_PAGE_SIZE = 12
REVIEWS_PAGE_SIZE = 10
EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
KM_PER_DEGREE_LATITUDE = 111.2


def featured_doctors(*, limit: int = 6) -> QuerySet[ActiveDoctor]:
    """The best-rated verified doctors, read from the `active_doctors` view (1 query)."""
    return ActiveDoctor.objects.order_by("-rating_avg", "-rating_count", "full_name")[:limit]


# --- the directory ----------------------------------------------------------------


class Sort:
    RELEVANCE = "relevance"
    RATING = "rating"
    FEE = "fee"
    EARLIEST = "earliest"
    DISTANCE = "distance"


class Available:
    """The "available" filter's values, read from next_available_at."""

    TODAY = "today"
    WEEK = "week"


@dataclass(frozen=True)
class Origin:
    """Where distances are measured from: a typed city or PIN, or the browser's location."""

    latitude: float
    longitude: float
    label: str


@dataclass(frozen=True)
class DirectoryParams:
    """What a patient asked the directory for; every field optional."""

    q: str = ""
    specialization: str = ""
    language: str = ""
    mode: str = ""
    fee_min: Decimal | None = None
    fee_max: Decimal | None = None
    min_rating: Decimal | None = None
    city: str = ""
    available: str = ""  # "", Available.TODAY or Available.WEEK
    origin: Origin | None = None
    radius_km: int | None = None  # only with an origin; None = any distance
    sort: str = Sort.RELEVANCE
    page: int | str = 1
    per_page: int = DIRECTORY_PAGE_SIZE


@dataclass
class DirectoryPage:
    params: DirectoryParams
    page: Page  # of ActiveDoctor, each with .distance_km (None without an origin or coordinates)
    paginator: Paginator = field(repr=False)

    @property
    def total(self) -> int:
        return self.paginator.count


class JSONArrayHas(Func):
    """True when a JSON array column holds `value`, compared case-insensitively.

    Django's `__contains` on JSON is not available on SQLite, and a LIKE on the
    JSON text would match parts of other values; these are exact on both.
    """

    output_field = BooleanField()

    def __init__(self, column: str, value: str) -> None:
        super().__init__(F(column), Value(value.casefold()))

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - per vendor below
        raise NotImplementedError(f"JSONArrayHas has no SQL for {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra_context):
        column, value = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        value_sql, value_params = compiler.compile(value)
        # Only compiled SQL is interpolated; the value travels as a parameter.
        sql = f"EXISTS (SELECT 1 FROM json_each({column_sql}) AS item WHERE lower(item.value) = {value_sql})"  # noqa: S608
        return sql, (*column_params, *value_params)

    def as_mysql(self, compiler, connection, **extra_context):
        column, value = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        value_sql, value_params = compiler.compile(value)
        return f"JSON_CONTAINS(LOWER({column_sql}), JSON_QUOTE({value_sql}))", (*column_params, *value_params)


def distance_km(origin: Origin) -> Func:
    """Great-circle distance from `origin` to each row's latitude/longitude, in km.

    The haversine formula, in SQL (the math functions exist on MySQL, MariaDB
    and, through Django, SQLite). Rows without coordinates give NULL.
    """
    lat0 = math.radians(origin.latitude)
    lng0 = math.radians(origin.longitude)
    lat = Radians("latitude", output_field=FloatField())
    lng = Radians("longitude", output_field=FloatField())
    half_dlat = Sin((lat - Value(lat0)) / Value(2.0), output_field=FloatField())
    half_dlng = Sin((lng - Value(lng0)) / Value(2.0), output_field=FloatField())
    a = half_dlat * half_dlat + Cos(lat, output_field=FloatField()) * Value(math.cos(lat0)) * half_dlng * half_dlng
    return Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(a, output_field=FloatField()), output_field=FloatField())


def bounding_box(origin: Origin, radius_km: float) -> Q:
    """Rows whose coordinates lie in the square around the circle of `radius_km`.

    A plain range on latitude and longitude, so the database can read it from
    the composite index dp_geo_idx instead of computing every row's distance.
    """
    dlat = radius_km / KM_PER_DEGREE_LATITUDE
    # Near the poles a degree of longitude shrinks to nothing; clamp the box.
    cos_lat = max(math.cos(math.radians(origin.latitude)), 0.01)
    dlng = min(radius_km / (KM_PER_DEGREE_LATITUDE * cos_lat), 180.0)

    def dec(value: float) -> Decimal:
        return Decimal(f"{value:.6f}")

    return Q(
        latitude__gte=dec(max(origin.latitude - dlat, -90)),
        latitude__lte=dec(min(origin.latitude + dlat, 90)),
        longitude__gte=dec(max(origin.longitude - dlng, -180)),
        longitude__lte=dec(min(origin.longitude + dlng, 180)),
    )


def _text_search(q: str) -> Q:
    """Every word must appear in the name, the clinic's name or the city."""
    condition = Q()
    for word in q.split()[:6]:
        condition &= Q(full_name__icontains=word) | Q(clinic_name__icontains=word) | Q(city__icontains=word)
    return condition


def directory_search(
    *, params: DirectoryParams, now: datetime | None = None, zone: ZoneInfo | None = None
) -> DirectoryPage:
    """One page of the public directory: 2 queries (the count, then the page's rows),
    however many doctors match. Times ("available today") are read in `zone`,
    the viewer's zone (the active one by default)."""
    now = now or timezone.now()
    zone = zone or timezone.get_current_timezone()
    doctors = ActiveDoctor.objects.all()

    if params.q:
        doctors = doctors.filter(_text_search(params.q))
    if params.specialization:
        doctors = doctors.filter(JSONArrayHas("specializations", params.specialization))
    if params.language:
        doctors = doctors.filter(JSONArrayHas("languages", params.language))
    if params.mode:
        doctors = doctors.filter(JSONArrayHas("consultation_modes", params.mode))
    if params.fee_min is not None:
        doctors = doctors.filter(consultation_fee__gte=params.fee_min)
    if params.fee_max is not None:
        doctors = doctors.filter(consultation_fee__lte=params.fee_max)
    if params.min_rating is not None:
        doctors = doctors.filter(rating_avg__gte=params.min_rating, rating_count__gt=0)
    if params.city:
        doctors = doctors.filter(city__iexact=params.city.strip())
    if params.available == Available.TODAY:
        tomorrow = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), zone)
        doctors = doctors.filter(next_available_at__gte=now, next_available_at__lt=tomorrow)
    elif params.available == Available.WEEK:
        doctors = doctors.filter(next_available_at__gte=now, next_available_at__lt=now + timedelta(days=7))

    if params.origin is not None:
        doctors = doctors.annotate(distance_km=distance_km(params.origin))
        if params.radius_km:
            doctors = doctors.filter(bounding_box(params.origin, params.radius_km)).filter(
                distance_km__lte=params.radius_km
            )
    else:
        doctors = doctors.annotate(distance_km=Value(None, output_field=FloatField()))

    by_rating = ["-rating_avg", "-rating_count", "full_name", "id"]
    nearest = [F("distance_km").asc(nulls_last=True)] if params.origin is not None else []
    sort = params.sort
    if sort == Sort.RATING:
        order = by_rating
    elif sort == Sort.FEE:
        order = ["consultation_fee", *by_rating]
    elif sort == Sort.EARLIEST:
        order = [F("next_available_at").asc(nulls_last=True), *by_rating]
    elif sort == Sort.DISTANCE:
        order = [*nearest, *by_rating]
    else:
        # Best match: the name matching what was typed first, then the
        # nearest (when a place was given), then the best rated.
        order = [*nearest, *by_rating]
        if params.q:
            doctors = doctors.annotate(
                name_match=Case(
                    When(full_name__icontains=params.q.strip(), then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            order = ["name_match", *order]

    paginator = Paginator(doctors.order_by(*order), params.per_page)
    return DirectoryPage(params=params, page=paginator.get_page(params.page), paginator=paginator)


# --- a doctor's public page ---------------------------------------------------------------


def doctor_public(*, profile_id: str) -> DoctorProfile:
    """A listed doctor's full profile, or 404 for anyone not in `active_doctors` (1 query).

    The view has the listing rule; the table has the credentials the view leaves out.
    """
    profile = DoctorProfile.objects.filter(pk=profile_id, pk__in=ActiveDoctor.objects.values("id")).first()
    if profile is None:
        raise Http404("No such doctor.")
    return profile


@dataclass(frozen=True)
class SlotDay:
    day: date
    slots: list[Slot]


def upcoming_slots(
    *, profile: DoctorProfile, days: int = 7, zone: ZoneInfo | None = None, now: datetime | None = None
) -> list[SlotDay]:
    """Free slots in the next `days` days, grouped by day in `zone` (the viewer's,
    by default), soonest first (1 query)."""
    now = now or timezone.now()
    zone = zone or timezone.get_current_timezone()
    doctor_today = now.astimezone(doctor_zone(profile.availability, profile.timezone)).date()
    # One day more than asked: the viewer's week can end after the doctor's.
    horizon = now + timedelta(days=days)
    slots = [
        slot
        for slot in bookable_slots(profile, doctor_today, doctor_today + timedelta(days=days), now=now)
        if slot.start < horizon
    ]
    return [
        SlotDay(day=day, slots=list(group))
        for day, group in groupby(slots, key=lambda slot: slot.start.astimezone(zone).date())
    ]


@dataclass(frozen=True)
class PublicReview:
    """What a visitor may see of a review: no surname, no patient id."""

    rating: int
    comment: str
    created_at: datetime
    author: str


def _first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.split() else "A patient"


class _PublicReviews:
    """A sliceable sequence for Paginator: counts and slices in SQL, yields PublicReview."""

    def __init__(self, queryset: QuerySet[DoctorReview]) -> None:
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:  # pragma: no cover - Paginator prefers count()
        return self.count()

    def __getitem__(self, index) -> list[PublicReview]:
        rows = self.queryset[index]
        return [
            PublicReview(
                rating=row.rating,
                comment=row.comment,
                created_at=row.created_at,
                author=_first_name(getattr(getattr(row.patient, "patient_profile", None), "full_name", "") or ""),
            )
            for row in rows
        ]

    def __iter__(self) -> Iterator[PublicReview]:  # pragma: no cover - only slices are read
        return iter(self[:])


def visible_reviews(*, doctor_user_id: str, page: int | str = 1) -> Page:
    """A page of a doctor's visible reviews, newest first, with the patient's
    first name only: 2 queries (count, rows) however many reviews there are."""
    reviews = (
        DoctorReview.objects.filter(doctor_id=doctor_user_id, is_visible=True)
        .select_related("patient__patient_profile")
        .only("rating", "comment", "created_at", "patient__id", "patient__patient_profile__full_name")
        .order_by("-created_at", "-id")
    )
    return Paginator(_PublicReviews(reviews), REVIEWS_PAGE_SIZE).get_page(page)


# --- the doctor's own pages -------------------------------------------------------------


def own_doctor_profile(*, user) -> DoctorProfile:
    """The signed-in doctor's own profile, verified or not; 404 if they have none (1 query).

    Read through `user.doctor_profile`, so it is cached on the user and the
    header's name (User.display_name) costs no second query.
    """
    profile = getattr(user, "doctor_profile", None)
    if profile is None or profile.deleted_at is not None:
        raise Http404("No doctor profile.")
    return profile


def consultations_to_review(*, patient, limit: int = 5) -> list:
    """A patient's completed consultations with a doctor, newest first, each with
    its review if there is one (1 query)."""
    from consultations.models import Consultation, ConsultationType, Status

    return list(
        Consultation.objects.filter(patient=patient, status=Status.COMPLETED, consultation_type=ConsultationType.DOCTOR)
        .select_related("doctor__doctor_profile", "review")
        .order_by("-ended_at", "-created_at")[:limit]
    )
