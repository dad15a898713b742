"""Doctors: views, in three parts: the doctor's own profile, documents,
verification and reviews; the directory and public pages; availability."""

from __future__ import annotations

import filetype
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.policies import doctor_required, patient_required
from consultations.models import Consultation
from dhanwantari.uploads import IMAGE_TYPES
from doctors import geo, policies, queries, services
from doctors.availability import doctor_zone
from doctors.forms import (
    INDIAN_STATES,
    AvailabilityEditor,
    DirectorySearchForm,
    DoctorDocumentForm,
    DoctorProfileForm,
    ReviewForm,
)
from doctors.models import DoctorDocument, DoctorProfile, DoctorReview
from prescriptions.services import doctor_signature_update

# --- profile, documents, verification, reviews -----------------------------------
# The doctor's profile editor and documents, the photo and document downloads,
# and patients' review pages.

PHOTO_CACHE_SECONDS = 60 * 60 * 24


def _own_profile(request: HttpRequest) -> DoctorProfile:
    # Through the user's accessor, so the header's display_name reuses it.
    profile = getattr(request.user, "doctor_profile", None)
    if profile is None or profile.is_deleted:
        raise Http404("You have no doctor profile.")
    return profile


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _profile_page(
    request: HttpRequest,
    profile: DoctorProfile,
    *,
    form: DoctorProfileForm | None = None,
    document_form: DoctorDocumentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    documents = list(DoctorDocument.objects.filter(doctor_id=profile.user_id).order_by("created_at"))
    checklist = services.verification_checklist(profile, documents=documents)
    return render(
        request,
        "doctors/profile_edit.html",
        {
            "profile": profile,
            "form": form or DoctorProfileForm(profile=profile),
            "document_form": document_form or DoctorDocumentForm(),
            "documents": documents,
            "checklist": checklist,
            "missing": [item for item, done in checklist if not done],
            "can_submit": policies.can_submit_for_verification(profile),
            "can_remove_documents": policies.can_remove_documents(profile),
            "states": INDIAN_STATES,
        },
        status=status,
    )


@doctor_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile = _own_profile(request)
    if request.method == "GET":
        return _profile_page(request, profile)
    form = DoctorProfileForm(request.POST, request.FILES, profile=profile)
    if form.is_valid():
        try:
            saved = services.doctor_profile_update(
                profile=profile,
                by=request.user,
                changes=form.changes(),
                photo=form.cleaned_data["photo"],
                remove_photo=form.cleaned_data["remove_photo"],
                request=request,
            )
            # The signature printed on prescriptions has its own service (prescriptions owns its use).
            signature_changed = doctor_signature_update(
                profile=profile,
                by=request.user,
                signature=form.cleaned_data["signature"],
                remove=form.cleaned_data["remove_signature"],
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if saved.sent_back_for_verification:
                messages.warning(
                    request,
                    "Your profile is saved. You changed your registration details, so it is back with our staff "
                    "for verification: patients cannot find or book you until they have checked it.",
                )
            elif saved.changed or signature_changed:
                messages.success(request, "Your profile is saved.")
            else:
                messages.info(request, "Nothing had changed, so there was nothing to save.")
            return redirect("doctors:profile_edit")
    return _profile_page(request, profile, form=form, status=400)


@doctor_required
@require_POST
def profile_submit(request: HttpRequest) -> HttpResponse:
    profile = _own_profile(request)
    try:
        services.doctor_submit_for_verification(profile=profile, by=request.user, request=request)
    except services.DoctorVerificationError as exc:
        messages.error(request, exc.messages[0])
        return redirect(reverse("doctors:profile_edit") + "#submit")
    messages.success(
        request,
        "Thank you. Your profile is with our staff, who check your registration with your council. "
        "We will let you know as soon as it is done, usually within a few working days.",
    )
    return redirect("doctors:profile_edit")


@doctor_required
@require_POST
def document_upload(request: HttpRequest) -> HttpResponse:
    profile = _own_profile(request)
    form = DoctorDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.doctor_document_add(
                profile=profile,
                by=request.user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"“{form.cleaned_data['file'].original_name}” is uploaded.")
            return redirect("doctors:profile_edit")
    return _profile_page(request, profile, document_form=form, status=400)


@doctor_required
@require_POST
def document_remove(request: HttpRequest, document_id: str) -> HttpResponse:
    document = policies.document_for_user(request.user, document_id)
    if document.doctor_id != request.user.pk:  # staff see documents; they do not remove them here
        raise Http404("No such document.")
    try:
        services.doctor_document_remove(document=document, by=request.user, request=request)
    except services.DocumentError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"“{document.original_filename}” is removed.")
    return redirect("doctors:profile_edit")


@login_required
@require_GET
def document_download(request: HttpRequest, document_id: str) -> FileResponse:
    document = policies.document_for_user(request.user, document_id)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    services.doctor_document_opened(document=document, by=request.user, request=request)
    response = FileResponse(
        handle, as_attachment=True, filename=document.original_filename, content_type=document.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Should a browser ever render it in place, it runs no script and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
def doctor_photo(request: HttpRequest, profile_id: str) -> FileResponse:
    """A doctor's photo: public once they are listed, else only for them and staff.

    MEDIA_ROOT has no URL of its own, so photos are streamed from here.
    """
    profile, public = policies.profile_for_photo(request.user, profile_id)
    try:
        handle = profile.photo.open("rb")
    except FileNotFoundError:
        raise Http404("The photo is missing.") from None
    kind = filetype.guess(handle.read(262))
    handle.seek(0)
    if kind is None or kind.mime not in IMAGE_TYPES:
        # Only re-encoded images are ever stored here; anything else was put there by hand.
        handle.close()
        raise Http404("No such photo.")
    response = FileResponse(handle, content_type=kind.mime)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"{'public' if public else 'private'}, max-age={PHOTO_CACHE_SECONDS}"
    return response


# --- reviews ---------------------------------------------------------------------------------


def _review_page(
    request: HttpRequest,
    consultation: Consultation,
    *,
    form: ReviewForm | None,
    review: DoctorReview | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "doctors/review_form.html",
        {
            "consultation": consultation,
            "doctor_profile": getattr(consultation.doctor, "doctor_profile", None),
            "form": form,
            "review": review,
            "edit_deadline": policies.review_edit_deadline(review) if review else None,
        },
        status=status,
    )


@patient_required
@require_http_methods(["GET", "POST"])
def review_write(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.reviewable_consultation_for(request.user, consultation_id)
    existing = DoctorReview.all_objects.filter(consultation=consultation).first()
    if existing is not None:
        if existing.is_deleted:
            raise Http404("This consultation's review was removed.")
        messages.info(request, services.REVIEW_ALREADY_WRITTEN)
        return redirect("doctors:review_edit", consultation_id=consultation.pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_create(
                consultation=consultation,
                patient=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Thank you. Your review is published on the doctor's page.")
            return redirect("doctors:review_edit", consultation_id=consultation.pk)
    return _review_page(request, consultation, form=form, status=400 if form.errors else 200)


def _own_review(request: HttpRequest, consultation: Consultation) -> DoctorReview:
    review = DoctorReview.objects.filter(consultation=consultation, patient=request.user).first()
    if review is None:
        raise Http404("You have not reviewed this consultation.")
    return review


@patient_required
@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.reviewable_consultation_for(request.user, consultation_id)
    review = _own_review(request, consultation)
    initial = {"rating": review.rating, "comment": review.comment}
    if request.method == "GET":
        form = ReviewForm(initial=initial) if policies.review_editable(review) else None
        return _review_page(request, consultation, form=form, review=review)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_update(
                review=review,
                by=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            if not policies.review_editable(review):
                messages.error(request, exc.messages[0])
                return redirect("doctors:review_edit", consultation_id=consultation.pk)
            _add_errors(form, exc)
        else:
            messages.success(request, "Your review is updated.")
            return redirect("doctors:review_edit", consultation_id=consultation.pk)
    return _review_page(request, consultation, form=form, review=review, status=400)


@patient_required
@require_POST
def review_delete(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.reviewable_consultation_for(request.user, consultation_id)
    review = _own_review(request, consultation)
    try:
        services.review_delete(review=review, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("doctors:review_edit", consultation_id=consultation.pk)
    messages.success(request, "Your review is removed.")
    return redirect("accounts:dashboard")


# --- directory and public pages --------------------------------------------------

# Imports sit with the section that uses them (each section has its own author);
# the leading underscore keeps them from clashing with another section's names.
from dataclasses import dataclass as _dataclass  # noqa: E402
from datetime import date as _date_type  # noqa: E402
from datetime import datetime as _datetime  # noqa: E402
from urllib.parse import quote as _quote  # noqa: E402

from django.contrib.humanize.templatetags.humanize import naturalday as _naturalday  # noqa: E402
from django.template.defaultfilters import capfirst as _capfirst  # noqa: E402
from django.template.defaultfilters import date as _date  # noqa: E402
from django.template.defaultfilters import time as _time  # noqa: E402

from dhanwantari.links import url_for_each as _url_for_each  # noqa: E402
from doctors.form_rendering import DirectFormRenderer as _DirectFormRenderer  # noqa: E402
from doctors.templatetags.doctor_media import photo_url as _photo_url  # noqa: E402

# The search form's ~60 options, written directly rather than through a template each.
_SEARCH_FORM_RENDERER = _DirectFormRenderer()

# A consultation mode's icon in the sprite and its label; any other mode shows as its name.
_MODE_TAGS = {
    "chat": ("chat", "Chat"),
    "audio": ("audio", "Audio"),
    "video": ("video", "Video"),
    "in_person": ("clinic", "In person"),
}


@_dataclass(frozen=True)
class _NextSlot:
    iso: str
    label: str  # "Today, 4:30 PM", "Fri 28 Nov, 9:00 AM", in the viewer's zone


def _prepare_cards(doctors, *, now: _datetime) -> None:
    """Give each directory card what it shows, worked out once here: a per-card
    {% url %}, include and date filters cost more than the rest of the card."""
    profile_url = _url_for_each("doctors:public_profile", stand_in="dp_STANDIN")
    for doctor in doctors:
        doctor.profile_url = profile_url(doctor.pk)
        doctor.photo_src = _photo_url(doctor)
        doctor.initial = doctor.full_name.replace("Dr. ", "")[:1].upper()
        doctor.mode_tags = [_MODE_TAGS.get(mode, (None, _capfirst(mode))) for mode in doctor.consultation_modes or []]
        at = doctor.next_available_at
        if at is not None and at >= now:
            local = timezone.localtime(at)
            label = f"{_capfirst(_naturalday(local, 'D j M'))}, {_time(local, 'g:i A')}"
            doctor.next_slot = _NextSlot(iso=_date(local, "c"), label=label)
        else:
            doctor.next_slot = None


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    """The public directory: search, filters, distance. 2 queries for any number of doctors."""
    form = DirectorySearchForm(request.GET or None, renderer=_SEARCH_FORM_RENDERER)
    result = queries.directory_search(params=form.params(page=request.GET.get("page", 1)))
    now = timezone.now()
    _prepare_cards(result.page.object_list, now=now)
    return render(
        request,
        "doctors/directory.html",
        {
            "form": form,
            "result": result,
            "page": result.page,
            "places": geo.city_names(),
            "now": now,
        },
    )


@_dataclass(frozen=True)
class _SlotLink:
    start: _datetime
    iso: str  # in the viewer's zone, as <time datetime> wants it
    href: str  # the booking page with this slot chosen
    label: str  # "4:30 PM"


@_dataclass(frozen=True)
class _SlotDayLinks:
    day: _date_type
    label: str  # "Today", "Monday 8 December"
    slots: list[_SlotLink]


def _slot_links(slot_days: list[queries.SlotDay], *, book_url: str) -> list[_SlotDayLinks]:
    """The week's slots with their links and labels worked out here, once each:
    a week is a few hundred {% url %} and date filters in a template. The same
    clock times recur every day, so each time's label is formatted once."""
    labels: dict[tuple[int, int], str] = {}
    days = []
    for slot_day in slot_days:
        links = []
        for slot in slot_day.slots:
            local = timezone.localtime(slot.start)
            key = (local.hour, local.minute)
            if key not in labels:
                labels[key] = _time(local, "g:i A")
            iso = local.isoformat()  # what the date filter's "c" gives
            href = f"{book_url}?slot={_quote(iso, safe='/')}"  # as the urlencode filter quotes
            links.append(_SlotLink(start=slot.start, iso=iso, href=href, label=labels[key]))
        days.append(_SlotDayLinks(day=slot_day.day, label=_capfirst(_naturalday(slot_day.day, "l j F")), slots=links))
    return days


@require_GET
def public_profile(request: HttpRequest, profile_id: str) -> HttpResponse:
    """A listed doctor's page: credentials, fees, the next week's free slots in
    the viewer's zone, visible reviews. 4 queries however many reviews."""
    profile = queries.doctor_public(profile_id=profile_id)
    book_url = reverse("consultations:book", args=[profile.pk])
    return render(
        request,
        "doctors/public_profile.html",
        {
            "doctor": profile,
            "book_url": book_url,
            "photo_src": _photo_url(profile),
            "slot_days": _slot_links(queries.upcoming_slots(profile=profile, days=7), book_url=book_url),
            "reviews": queries.visible_reviews(doctor_user_id=profile.user_id, page=request.GET.get("page", 1)),
            "viewer_zone": timezone.get_current_timezone_name(),
        },
    )


# --- availability ----------------------------------------------------------------


AVAILABILITY_SAVED = "Your working hours are saved. See below what patients can book this week."


@doctor_required
@require_http_methods(["GET", "POST"])
def availability_edit(request: HttpRequest) -> HttpResponse:
    """The signed-in doctor's weekly hours and date overrides, with a preview
    of the next 7 days' free slots. Any doctor, verified or not."""
    profile = queries.own_doctor_profile(user=request.user)
    zone = doctor_zone(profile.availability, profile.timezone)
    editor = AvailabilityEditor(
        request.POST if request.method == "POST" else None,
        availability=profile.availability,
        fallback_zone=profile.timezone,
        today=timezone.now().astimezone(zone).date(),
    )
    if request.method == "POST" and editor.is_valid():
        try:
            services.availability_update(
                profile=profile, availability=editor.availability(), by=request.user, request=request
            )
        except ValidationError as exc:
            editor.add_model_errors(exc)
        else:
            messages.success(request, AVAILABILITY_SAVED)
            return redirect("doctors:availability")
    return render(
        request,
        "doctors/availability_edit.html",
        {
            "profile": profile,
            "editor": editor,
            "zone_name": str(zone),
            "preview": queries.upcoming_slots(profile=profile, days=7, zone=zone),
        },
    )
