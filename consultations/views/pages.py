"""Consultations: the dashboards, a consultation's page, the waiting room and quick actions.

Every view here is for a signed-in patient or doctor. A consultation is found
only through its participants (consultations.queries.participant_consultation
or policies.consultation_for_participant): for anyone else, staff included,
it does not exist (404). State changes are POSTs with a CSRF token and go
through consultations.services; these views only translate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import record_read
from accounts.models import is_local_path
from accounts.policies import is_doctor, is_patient
from accounts.queries import user_timezone
from consultations import lifecycle, queries, services
from consultations.forms import EARNINGS_DEFAULT_SHOWN, EarningsRangeForm, TransitionForm
from consultations.models import Consultation, Status
from consultations.policies import consultation_for_participant
from dhanwantari.links import url_for_each

NO_WAITING_ROOM = "This consultation has no waiting room."

# What the person who made a status change is told.
TRANSITION_DONE = {
    Status.SCHEDULED: "Request accepted. The patient is told it is booked.",
    Status.IN_PROGRESS: "The consultation has started.",
    Status.COMPLETED: "The consultation is complete.",
    Status.NO_SHOW: "Marked as a no-show.",
    Status.CANCELLED: "The consultation is cancelled.",
}
REQUEST_DECLINED = "The request is declined. The patient is told."


# --- links of a listed consultation ----------------------------------------------

# Every link a card, its actions or a list row may offer, reversed once per
# page (dhanwantari.links.url_for_each).
ROW_LINKS = {
    "detail": "consultations:detail",
    "transition": "consultations:transition",
    "waiting_room": "consultations:waiting_room",
    "ics": "consultations:ics",
    "reschedule": "consultations:reschedule",
    "cancel": "consultations:cancel",
    "pay": "payments:pay",
    "record_payment": "payments:record_payment",
    "record_refund": "payments:record_refund",
    "review_write": "doctors:review_write",
    "review_edit": "doctors:review_edit",
}


def with_links(rows: Iterable) -> None:
    """Give each consultation (or history row) `.links`, the ROW_LINKS by name."""
    makers = {key: url_for_each(name) for key, name in ROW_LINKS.items()}
    for row in rows:
        row.links = {key: make(row.pk) for key, make in makers.items()}


# --- dashboards ---------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """One address: a patient gets theirs, a doctor theirs; anyone else (staff) 403."""
    if is_patient(request.user):
        return _patient_dashboard(request)
    if is_doctor(request.user):
        return _doctor_dashboard(request)
    raise PermissionDenied


def _patient_dashboard(request: HttpRequest) -> HttpResponse:
    dash = queries.patient_dashboard(
        patient=request.user, now=timezone.now(), history_page=request.GET.get("page") or 1
    )
    with_links([*dash.upcoming, *dash.history.object_list])
    return render(
        request,
        "consultations/dashboard_patient.html",
        {"dash": dash, "zone": user_timezone(user=request.user), "here": request.get_full_path()},
    )


def _doctor_dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    zone = user_timezone(user=request.user)
    month = queries.this_month(now.astimezone(zone).date())
    asked = "start" in request.GET or "end" in request.GET
    form = EarningsRangeForm(request.GET if asked else None, initial={"start": month[0], "end": month[1]})
    earnings_range: tuple[date, date] = month
    if asked and form.is_valid():
        earnings_range = (form.cleaned_data["start"], form.cleaned_data["end"])
    dash = queries.doctor_dashboard(doctor=request.user, now=now, zone=zone, earnings_range=earnings_range)
    with_links([*dash.now, *dash.upcoming, *dash.requests, *dash.payments_due, *dash.refunds_due])
    return render(
        request,
        "consultations/dashboard_doctor.html",
        {
            "dash": dash,
            "zone": zone,
            "form": form,
            "earnings_fallback": asked and not form.is_valid(),
            "earnings_default_shown": EARNINGS_DEFAULT_SHOWN,
            "here": request.get_full_path(),
        },
    )


# --- one consultation ------------------------------------------------------------------


@login_required
@require_GET
def detail(request: HttpRequest, consultation_id: str) -> HttpResponse:
    now = timezone.now()
    page = queries.consultation_page(user=request.user, consultation_id=consultation_id, now=now)
    with_links([page.consultation])
    # The doctor's reading of the patient's record is a disclosure: one INSERT.
    record_read(
        reader=request.user,
        table="consultations",
        record_id=page.consultation.pk,
        patient_id=page.consultation.patient_id,
        what="consultation page",
        request=request,
    )
    return render(
        request,
        "consultations/detail.html",
        {
            "page": page,
            "c": page.consultation,
            "actions": page.actions,
            "viewer": page.actions.role,
            "zone": user_timezone(user=request.user),
            "here": request.get_full_path(),
        },
    )


# The waiting room asks every few seconds; a stamp stays fresh for
# services.PRESENCE_WINDOW (45 s), so a missed poll or two changes nothing.
POLL_SECONDS = 5


def _opens_minutes() -> int:
    return settings.WAITING_ROOM_OPENS_MINUTES


@login_required
@require_GET
def waiting_room(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """The online waiting room: the patient waits to be admitted, the doctor admits.

    Reading it changes nothing; the page's script reports presence by POSTing
    to `presence` (and a button does the same without JavaScript).
    """
    consultation = queries.participant_consultation(user=request.user, consultation_id=consultation_id)
    if not consultation.is_online or consultation.is_ai or consultation.scheduled_at is None:
        raise Http404(NO_WAITING_ROOM)
    if consultation.status not in queries.LIVE_STATUSES:
        messages.info(
            request, f"This consultation is {consultation.get_status_display().lower()}: the waiting room is closed."
        )
        return redirect("consultations:detail", consultation.pk)
    now = timezone.now()
    actions = queries.consultation_actions(consultation, request.user, now)
    return render(
        request,
        "consultations/waiting_room.html",
        {
            "c": consultation,
            "actions": actions,
            "viewer": actions.role,
            "zone": user_timezone(user=request.user),
            "opens_at": consultation.scheduled_at - timedelta(minutes=_opens_minutes()),
            "opens_minutes": _opens_minutes(),
            "is_open": actions.join or actions.role == lifecycle.DOCTOR,
            "start_from": queries.earliest_start(consultation),
            "presence": _presence(consultation, now),
            "poll_seconds": POLL_SECONDS,
        },
    )


def _presence(consultation: Consultation, now) -> dict:
    detail_url = reverse("consultations:detail", args=[consultation.pk])
    data = {
        "status": consultation.status,
        "status_label": consultation.get_status_display(),
        "doctor_present": services.is_present(consultation.doctor_joined_at, now),
        "patient_present": services.is_present(consultation.patient_joined_at, now),
        "detail_url": detail_url,
    }
    if consultation.status == Status.IN_PROGRESS:
        data["room_url"] = detail_url + "#room"
    return data


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def presence(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """Heartbeat from the waiting room: "I am here". Answers who else is, and the status.

    JSON for the page's script ({status, doctor_present, patient_present,
    detail_url, room_url once started}); a plain form POST is sent back to the
    waiting room. Too early for the patient: 409 with the reason.
    """
    consultation = consultation_for_participant(request.user, consultation_id)
    if not consultation.is_online or consultation.is_ai:
        raise Http404(NO_WAITING_ROOM)
    now = timezone.now()
    status_code, note = 200, ""
    if consultation.status in queries.LIVE_STATUSES:
        try:
            services.consultation_join(consultation=consultation, user=request.user, now=now)
        except services.WaitingRoomClosed as closed:
            status_code, note = 409, queries.validation_message(closed)
    else:
        note = f"This consultation is {consultation.get_status_display().lower()}."

    if _wants_json(request):
        data = _presence(consultation, now)
        if status_code != 200:
            data["error"] = note
            if consultation.scheduled_at is not None:
                data["opens_at"] = (consultation.scheduled_at - timedelta(minutes=_opens_minutes())).isoformat()
        elif note:
            data["message"] = note
        return JsonResponse(data, status=status_code)

    if status_code != 200:
        messages.error(request, note)
    elif note:
        messages.info(request, note)
    else:
        messages.success(request, "Your doctor can see that you are here.")
    return redirect("consultations:waiting_room", consultation.pk)


@login_required
@require_POST
def transition(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """A quick action: accept, decline, start, mark no-show, complete (POST `to`, `reason`, `next`).

    A refusal is shown as the lifecycle's own message, back where it was asked.
    """
    consultation = consultation_for_participant(request.user, consultation_id)
    form = TransitionForm(request.POST)
    detail_url = reverse("consultations:detail", args=[consultation.pk])
    back = request.POST.get("next", "")
    back = back if is_local_path(back) else detail_url
    if not form.is_valid():
        messages.error(request, "That action is not one this page offers.")
        return redirect(back)
    target, was = form.cleaned_data["to"], consultation.status
    try:
        services.consultation_transition(
            consultation=consultation, to=target, by=request.user, reason=form.cleaned_data["reason"]
        )
    except lifecycle.LifecycleError as refused:
        messages.error(request, queries.validation_message(refused))
        return redirect(back)
    if target == Status.CANCELLED and was == Status.REQUESTED:
        messages.success(request, REQUEST_DECLINED)
    else:
        messages.success(request, TRANSITION_DONE[target])
    if target == Status.IN_PROGRESS:
        # Started: the doctor goes where the consultation happens.
        return redirect(detail_url + ("#room" if consultation.is_online else ""))
    return redirect(back)
