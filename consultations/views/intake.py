"""The AI intake's pages: consent and start, resume, hand-off to booking, the transcript.

The conversation itself happens in the consultation room (views.room and the
consumer), like any consultation; these pages are around it. Every state
change is a POST through consultations.intake.services.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import record_read
from accounts.policies import is_patient
from consultations import policies, queries
from consultations.forms import IntakeConsentForm
from consultations.intake import services as intake
from consultations.intake.services import HANDOFF_SESSION_KEY
from consultations.models import Consultation, Message
from patients.models import PatientProfile


def _room(consultation: Consultation) -> HttpResponse:
    return redirect(reverse("consultations:room", args=[consultation.pk]) + "#composer")


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """GET: what the assistant is and is not, and the consent box. POST: start (or resume) the intake."""
    if not is_patient(request.user):
        raise Http404("Only patients talk to the intake assistant.")
    live = queries.live_intake(request.user)
    form = IntakeConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        consultation = intake.intake_start(patient=request.user, consent=True)
        return _room(consultation)
    return render(
        request,
        "consultations/intake_start.html",
        {
            "form": form,
            "live": live,
            "emergency_number": settings.EMERGENCY_NUMBER,
            # With a model provider the conversation leaves our servers: say so.
            "external_model": settings.AI_PROVIDER != "local",
        },
    )


@login_required
@require_POST
def resume(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.consultation_for_participant(request.user, consultation_id)
    try:
        intake.intake_resume(consultation=consultation, patient=request.user)
    except intake.IntakeError as refused:
        messages.error(request, refused.message)
        return redirect("consultations:detail", consultation.pk)
    return _room(consultation)


@login_required
@require_POST
def handoff(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """ "Book a doctor with this case": remember the case for the next booking, then find a doctor."""
    consultation = policies.consultation_for_participant(request.user, consultation_id)
    try:
        intake.handoff_case(intake=consultation, patient=request.user)
    except intake.IntakeError as refused:
        messages.error(request, refused.message)
        return redirect("consultations:detail", consultation.pk)
    request.session[HANDOFF_SESSION_KEY] = consultation.pk
    suggested = (consultation.symptoms or {}).get("suggested_specializations") or []
    query = urlencode({"specialization": suggested[0]}) if suggested else ""
    messages.success(request, "Your case will be attached when you book. Choose a doctor.")
    return redirect(reverse("doctors:directory") + (f"?{query}" if query else ""))


@login_required
@require_GET
def transcript(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """The whole intake conversation, read-only: for its patient and the doctors it was handed to."""
    consultation = policies.intake_for_reader(request.user, consultation_id)
    record_read(
        reader=request.user,
        table="consultations",
        record_id=consultation.pk,
        patient_id=consultation.patient_id,
        what="intake transcript",
        request=request,
    )
    rows = list(Message.objects.filter(consultation=consultation).order_by("created_at", "id"))
    patient_name = (
        PatientProfile.all_objects.filter(user_id=consultation.patient_id).values_list("full_name", flat=True).first()
    )
    return render(
        request,
        "consultations/intake_transcript.html",
        {
            "c": consultation,
            "rows": rows,
            "patient_name": patient_name,
            "viewer_is_patient": request.user.pk == consultation.patient_id,
        },
    )
