"""Prescriptions: read paths for the pages, each a fixed number of SQL queries.

The number is in each docstring; prescriptions/tests/test_query_counts.py
proves it by comparing small and large data sets.

`prescription_document` builds everything the printable page and the PDF
show (`RxDocument`), so the two always say the same thing: dates are the
prescribing doctor's calendar dates (their time zone), not the reader's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.query import prefetch_related_objects
from django.http import Http404
from django.urls import reverse

from accounts.models import User
from patients.models import age_on
from prescriptions import policies
from prescriptions.models import Prescription, PrescriptionItem, PrescriptionStatus, Remedy

SEARCH_LIMIT = 10
SEARCH_MAX_LENGTH = 60
MY_PRESCRIPTIONS_PAGE_SIZE = 20


# --- the remedy catalogue ---------------------------------------------------------------


def remedy_key(text: str) -> str:
    """A name as compared: no accents, no case, punctuation as spaces ("Nux-v." -> "nux v")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def remedy_search(query: str, *, limit: int = SEARCH_LIMIT) -> list[Remedy]:
    """Active remedies whose name, abbreviation or another name contains `query`, best first (1 query).

    Case-insensitive. A name that starts with the query comes first, then an
    abbreviation that does, then another name that does, then the rest, each
    group alphabetical; at most `limit`. The catalogue is a few hundred rows:
    the `contains` match reads them all, in well under a millisecond; prefix
    matches alone could use the name and abbreviation indexes, but would miss
    "vomica" in Nux vomica.
    """
    text = " ".join((query or "").split())[:SEARCH_MAX_LENGTH]
    if not text:
        return []
    rank = Case(
        When(name__istartswith=text, then=Value(0)),
        When(abbreviation__istartswith=text, then=Value(1)),
        When(Q(also_known_as__istartswith=text) | Q(also_known_as__icontains=f", {text}"), then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return list(
        Remedy.objects.filter(active=True)
        .filter(Q(name__icontains=text) | Q(abbreviation__icontains=text) | Q(also_known_as__icontains=text))
        .annotate(rank=rank)
        .order_by("rank", "name")[:limit]
    )


def remedy_lookup(names: Iterable[str]) -> dict[str, Remedy]:
    """The catalogue entry for each name typed, by remedy_key of a name, abbreviation or other name (1 query).

    Names with no entry are left out. With nothing to look up, no query.
    """
    wanted = {remedy_key(name): name for name in names if remedy_key(name)}
    if not wanted:
        return {}
    found: dict[str, Remedy] = {}
    for remedy in Remedy.objects.filter(active=True).only("id", "name", "abbreviation", "also_known_as"):
        for label in (remedy.name, remedy.abbreviation, *remedy.other_names):
            key = remedy_key(label)
            if key in wanted and wanted[key] not in found:
                found[wanted[key]] = remedy
    return found


# --- the patient's list ------------------------------------------------------------------


def patient_prescriptions(*, patient: User, page: int | str = 1) -> Page:
    """The patient's issued prescriptions, newest first, with doctor and remedies (3 queries:
    count, page, remedies; 2 when there are none).

    Drafts and withdrawn ones are not listed: a withdrawn one is replaced by
    its corrected version, and its own page says so.
    """
    rows = (
        Prescription.objects.filter(patient=patient, status=PrescriptionStatus.ISSUED)
        .select_related("doctor__doctor_profile")
        .order_by("-issued_at", "-id")
    )
    result = Paginator(rows, MY_PRESCRIPTIONS_PAGE_SIZE).get_page(page)
    result.object_list = list(result.object_list)
    prefetch_related_objects(result.object_list, "items")
    return result


# --- one prescription, as a document --------------------------------------------------------


@dataclass(frozen=True)
class Letterhead:
    clinic_name: str
    clinic_address: str
    doctor_name: str
    qualifications: str
    registration: str  # "Reg. No. 12345 · Maharashtra Council of Homoeopathy"


@dataclass
class RxDocument:
    """Everything printed on a prescription, in the words printed."""

    prescription: Prescription
    letterhead: Letterhead
    patient_name: str
    patient_age: int | None
    patient_sex: str
    date: date | None  # issue date in the doctor's zone; None for a draft
    written_on: date  # the draft's date, for the preview
    items: list[PrescriptionItem]
    has_signature: bool
    verify_path: str
    replaced_by_id: str | None = None
    replaced_by_version: int | None = None
    cancelled_on: date | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    @property
    def is_draft(self) -> bool:
        return self.prescription.status == PrescriptionStatus.DRAFT

    @property
    def is_cancelled(self) -> bool:
        return self.prescription.status == PrescriptionStatus.CANCELLED

    @property
    def patient_line(self) -> str:
        parts = [self.patient_name]
        if self.patient_age is not None:
            parts.append(f"{self.patient_age} years")
        if self.patient_sex:
            parts.append(self.patient_sex)
        return " · ".join(parts)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _local_date(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return moment.astimezone(zone).date() if moment is not None else None


def _letterhead(doctor: User) -> Letterhead:
    profile = getattr(doctor, "doctor_profile", None)
    if profile is None:
        return Letterhead("", "", doctor.display_name, "", "")
    address = ", ".join(
        part for part in (profile.clinic_address, profile.city, profile.state, profile.postal_code) if part
    )
    registration = " · ".join(
        part
        for part in (
            f"Reg. No. {profile.registration_number}" if profile.registration_number else "",
            profile.registration_council,
        )
        if part
    )
    return Letterhead(
        clinic_name=profile.clinic_name,
        clinic_address=address,
        doctor_name=profile.full_name,
        qualifications=", ".join(profile.qualifications or []),
        registration=registration,
    )


def _replaced_by(field_name: str) -> Subquery:
    newer = Prescription.objects.filter(supersedes_id=OuterRef("pk"), status=PrescriptionStatus.ISSUED).order_by(
        "-version"
    )
    return Subquery(newer.values(field_name)[:1])


def prescription_document(*, user: User, prescription_id: str) -> RxDocument:
    """A prescription as its page and PDF show it, if `user` may read it (2 queries:
    the prescription with consultation-party profiles and its issued successor; its remedies).

    Http404 for anyone else (policies.prescription_for_viewer).
    """
    prescription = (
        Prescription.objects.select_related("patient__patient_profile", "doctor__doctor_profile", "supersedes")
        .annotate(replaced_by_id=_replaced_by("pk"), replaced_by_version=_replaced_by("version"))
        .filter(pk=prescription_id)
        .first()
        if user.is_authenticated
        else None
    )
    policies.prescription_for_viewer(user, prescription)
    return build_document(prescription)


def build_document(prescription: Prescription) -> RxDocument:
    """The RxDocument of a prescription fetched with its parties' profiles (1 query: its remedies)."""
    doctor_profile = getattr(prescription.doctor, "doctor_profile", None)
    zone = _zone(doctor_profile.timezone if doctor_profile else settings.TIME_ZONE)
    patient_profile = getattr(prescription.patient, "patient_profile", None)
    issued_on = _local_date(prescription.issued_at, zone)
    written_on = _local_date(prescription.created_at, zone)
    return RxDocument(
        prescription=prescription,
        letterhead=_letterhead(prescription.doctor),
        patient_name=(patient_profile.full_name if patient_profile else "") or prescription.patient.display_name,
        patient_age=(
            age_on(patient_profile.date_of_birth, issued_on or written_on) if patient_profile is not None else None
        ),
        patient_sex=(
            patient_profile.get_gender_display()
            if patient_profile is not None and patient_profile.gender in ("female", "male", "other")
            else ""
        ),
        date=issued_on,
        written_on=written_on,
        items=list(prescription.items.order_by("position", "created_at")),
        has_signature=bool(doctor_profile and doctor_profile.signature),
        verify_path=reverse("prescriptions:verify", args=[prescription.verification_code]),
        replaced_by_id=getattr(prescription, "replaced_by_id", None),
        replaced_by_version=getattr(prescription, "replaced_by_version", None),
        cancelled_on=_local_date(prescription.cancelled_at, zone),
        zone=zone,
    )


# --- the doctor's editor -----------------------------------------------------------------------


def draft_for_editor(*, doctor: User, prescription_id: str) -> Prescription:
    """One of the doctor's prescriptions with its consultation, patient and remedies (2 queries).

    Http404 when it is not theirs (or does not exist).
    """
    prescription = (
        Prescription.objects.select_related("consultation__patient__patient_profile", "supersedes")
        .filter(pk=prescription_id, doctor_id=doctor.pk)
        .first()
        if doctor.is_authenticated
        else None
    )
    if prescription is None:
        raise Http404(policies.NOT_FOUND)
    prefetch_related_objects([prescription], "items")
    return prescription


def consultation_draft(*, consultation_id: str) -> Prescription | None:
    """The consultation's draft, if it has one (1 query)."""
    return (
        Prescription.objects.filter(consultation_id=consultation_id, status=PrescriptionStatus.DRAFT).only("id").first()
    )


# --- public verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What the public page says about a code: only that the prescription is genuine."""

    doctor_name: str
    qualifications: str
    registration: str
    clinic_name: str
    status: str  # issued or cancelled
    issued_on: date
    valid_until: date | None
    cancelled_on: date | None
    version: int
    replaced_by_version: int | None
    today: date

    @property
    def is_current(self) -> bool:
        return self.status == PrescriptionStatus.ISSUED and (self.valid_until is None or self.valid_until >= self.today)

    @property
    def has_expired(self) -> bool:
        return (
            self.status == PrescriptionStatus.ISSUED and self.valid_until is not None and self.valid_until < self.today
        )


def verification(*, code: str, now: datetime) -> Verification | None:
    """The public facts of the issued or withdrawn prescription with this code, else None (1 query).

    No patient data, no remedies: the page proves the paper is genuine, nothing more.
    """
    code = (code or "").strip()
    if not code or len(code) > 16:
        return None
    prescription = (
        Prescription.objects.filter(
            verification_code=code, status__in=(PrescriptionStatus.ISSUED, PrescriptionStatus.CANCELLED)
        )
        .select_related("doctor__doctor_profile")
        .annotate(replaced_by_version=_replaced_by("version"))
        .first()
    )
    # MySQL compares the code case-insensitively (utf8mb4_unicode_ci); the
    # code is case-sensitive, so "ABC" must not find "abc".
    if prescription is None or prescription.verification_code != code or prescription.issued_at is None:
        return None
    letterhead = _letterhead(prescription.doctor)
    profile = getattr(prescription.doctor, "doctor_profile", None)
    zone = _zone(profile.timezone if profile else settings.TIME_ZONE)
    return Verification(
        doctor_name=letterhead.doctor_name,
        qualifications=letterhead.qualifications,
        registration=letterhead.registration,
        clinic_name=letterhead.clinic_name,
        status=prescription.status,
        issued_on=prescription.issued_at.astimezone(zone).date(),
        valid_until=prescription.valid_until,
        cancelled_on=_local_date(prescription.cancelled_at, zone),
        version=prescription.version,
        replaced_by_version=prescription.replaced_by_version,
        today=now.astimezone(zone).date(),
    )
