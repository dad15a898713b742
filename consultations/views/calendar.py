"""The .ics download of a consultation, for its patient and its doctor only."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from consultations.calendar import CONTENT_TYPE, consultation_ics, ics_filename
from consultations.models import Consultation
from consultations.policies import consultation_for_participant


@login_required
@require_safe
def ics(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = consultation_for_participant(request.user, consultation_id)
    if consultation.scheduled_at is None:
        # An AI intake has no time to put in a calendar.
        raise Http404("No such consultation.")
    # One query for the names and the clinic, after the access check.
    consultation = Consultation.objects.select_related("patient__patient_profile", "doctor__doctor_profile").get(
        pk=consultation.pk
    )
    response = HttpResponse(consultation_ics(consultation, recipient=request.user), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{ics_filename(consultation)}"'
    # It names the patient and the doctor: no shared cache may keep it.
    response["Cache-Control"] = "private, no-store"
    return response
