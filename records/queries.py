"""Medical records: the read paths of the records pages, each a fixed number of SQL queries.

`records_page` is the timeline the patient sees at /records/ and the
treating doctor at /consultations/<id>/records/: newest first, grouped by the
day the file was added (in the viewer's time zone) and, within a day, by
category; filtered by category and searched by words in the file's name,
its notes and its OCR text. The timeline's date is the upload date: the
date printed on a report is not known to us.

Search is a LIKE per word (every word must appear in one of the three
columns), inside one patient's files, which the (patient_id, created_at)
index narrows first. A patient has hundreds of files, not millions; a
full-text index would be the next step if that changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from consultations.models import Consultation, ConsultationType, Status
from records.models import Category, FileUpload

PAGE_SIZE = 20
MAX_SEARCH_WORDS = 8
CONSULTATION_CHOICES = 30

CATEGORY_TITLES = {
    Category.LAB_REPORT: "Lab reports",
    Category.PRESCRIPTION_SCAN: "Prescription scans",
    Category.IMAGING: "Imaging",
    Category.PHOTO: "Photos",
    Category.OTHER: "Other",
}
CATEGORY_ORDER = {value: index for index, value in enumerate(Category.values)}


@dataclass(frozen=True)
class CategoryGroup:
    category: str
    title: str
    files: list[FileUpload]


@dataclass(frozen=True)
class Day:
    day: date
    groups: list[CategoryGroup]


@dataclass(frozen=True)
class CategoryCount:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class RecordsPage:
    page: Page
    days: list[Day]
    counts: list[CategoryCount]  # every category, with how many files the patient has in it
    total: int  # all the patient's files, whatever the filters
    q: str = ""
    category: str = ""
    words: list[str] = field(default_factory=list)

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.category)


def search_words(q: str) -> list[str]:
    return [word for word in q.split() if word][:MAX_SEARCH_WORDS]


def patient_files(patient_id: str, *, q: str = "", category: str = "") -> QuerySet[FileUpload]:
    files = FileUpload.objects.filter(patient_id=patient_id)
    if category:
        files = files.filter(category=category)
    for word in search_words(q):
        files = files.filter(
            Q(original_filename__icontains=word) | Q(notes__icontains=word) | Q(ocr_text__icontains=word)
        )
    return files


def records_page(*, patient_id: str, q: str = "", category: str = "", page_number: str | int = 1) -> RecordsPage:
    """One page of a patient's timeline (3 queries: the counts per category, the
    pager's COUNT, the page's files with who added them; 2 when there are none)."""
    q = " ".join(search_words(q or ""))
    category = category if category in Category.values else ""
    per_category = dict(
        FileUpload.objects.filter(patient_id=patient_id)
        .order_by()
        .values_list("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
    counts = [CategoryCount(value, label, per_category.get(value, 0)) for value, label in Category.choices]
    total = sum(per_category.values())

    files = (
        patient_files(patient_id, q=q, category=category)
        .select_related("uploaded_by__doctor_profile")
        .order_by("-created_at", "-id")
    )
    if total == 0:
        files = files.none()  # no second query for someone with no files at all
    page = Paginator(files, PAGE_SIZE).get_page(page_number)
    return RecordsPage(
        page=page,
        days=_timeline(list(page.object_list)),
        counts=counts,
        total=total,
        q=q,
        category=category,
        words=search_words(q),
    )


def _timeline(files: list[FileUpload]) -> list[Day]:
    """Files (newest first) grouped by local day, then by category in the categories' order."""
    days: dict[date, dict[str, list[FileUpload]]] = {}
    for upload in files:
        day = timezone.localtime(upload.created_at).date()
        days.setdefault(day, {}).setdefault(upload.category, []).append(upload)
    return [
        Day(
            day=day,
            groups=[
                CategoryGroup(category, CATEGORY_TITLES.get(category, category), by_category[category])
                for category in sorted(by_category, key=lambda c: CATEGORY_ORDER.get(c, 99))
            ],
        )
        for day, by_category in days.items()
    ]


def consultation_choices(patient_id: str) -> list[tuple[str, str]]:
    """The patient's consultations a file may be linked to, newest first, as (id, label) (1 query)."""
    rows = (
        Consultation.objects.filter(patient_id=patient_id, consultation_type=ConsultationType.DOCTOR)
        .exclude(status=Status.CANCELLED)
        .select_related("doctor__doctor_profile")
        .order_by("-scheduled_at", "-created_at")[:CONSULTATION_CHOICES]
    )
    choices = []
    for consultation in rows:
        profile = getattr(consultation.doctor, "doctor_profile", None)
        who = profile.full_name if profile and profile.full_name else "your doctor"
        when = timezone.localtime(consultation.scheduled_at or consultation.created_at)
        choices.append((consultation.pk, f"{date_format(when, 'j M Y')} with {who}"))
    return choices
