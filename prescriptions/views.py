"""Prescriptions: the doctor's editor, issuing and correcting; the printable page,
the PDF and the patient's list; the remedy suggestions; the public verification page.

Views only translate: access through prescriptions.policies / queries (404 for
anything that is not the viewer's, whether it exists or not), writes through
prescriptions.services. Signed-out visitors are sent to sign in, whatever the
id: the answer is the same for a real prescription and a made-up one.
"""

from __future__ import annotations

import filetype
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.policies import doctor_required, patient_required
from consultations.models import Consultation
from dhanwantari.uploads import IMAGE_TYPES
from doctors.models import DoctorProfile
from prescriptions import policies, queries, services
from prescriptions.forms import CorrectionForm, PrescriptionEditor, VerifyForm
from prescriptions.models import Prescription, PrescriptionLocked, PrescriptionType
from prescriptions.pdf import render_pdf

SAVED = "Draft saved."
CHECK_THEN_ISSUE = "Saved. Check the prescription as the patient will see it, then issue it."
ISSUED = "Prescription issued. {name} has been notified and can download it."
WITHDRAWN = "The prescription is withdrawn and {name} has been told. Fix this new version, then issue it."
ALREADY_ISSUED = "This prescription has been issued, so it can no longer be edited. Correct it instead."
CANNOT_WRITE_YET = "You can write the prescription once the consultation has started."


# --- the doctor's editor ---------------------------------------------------------------------


def _patient_name(consultation: Consultation) -> str:
    profile = getattr(consultation.patient, "patient_profile", None)
    return (profile.full_name if profile else "") or "your patient"


def _editor_page(
    request: HttpRequest,
    *,
    editor: PrescriptionEditor,
    consultation: Consultation,
    prescription: Prescription | None,
    status: int = 200,
) -> HttpResponse:
    action = (
        reverse("prescriptions:edit", args=[prescription.pk])
        if prescription is not None
        else reverse("prescriptions:write", args=[consultation.pk])
    )
    return render(
        request,
        "prescriptions/editor.html",
        {
            "editor": editor,
            "errors": editor.errors(),
            "consultation": consultation,
            "patient_profile": getattr(consultation.patient, "patient_profile", None),
            "patient_name": _patient_name(consultation),
            "prescription": prescription,
            "action": action,
        },
        status=status,
    )


def _after_save(request: HttpRequest, prescription: Prescription) -> HttpResponse:
    if request.POST.get("action") == "preview":
        messages.success(request, CHECK_THEN_ISSUE)
        return redirect("prescriptions:detail", prescription.pk)
    messages.success(request, SAVED)
    return redirect("prescriptions:edit", prescription.pk)


@doctor_required
@require_http_methods(["GET", "POST"])
def write(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """Start the consultation's prescription, or continue its draft if it has one."""
    consultation = policies.consultation_for_prescriber(request.user, consultation_id)
    draft = queries.consultation_draft(consultation_id=consultation.pk)
    if draft is not None:
        return redirect("prescriptions:edit", draft.pk)
    if not policies.can_write_for(consultation):
        messages.error(request, CANNOT_WRITE_YET)
        return redirect("consultations:detail", consultation.pk)
    default_type = PrescriptionType.FOLLOW_UP if consultation.follow_up_of_id else PrescriptionType.ACUTE
    editor = PrescriptionEditor(request.POST if request.method == "POST" else None, default_type=default_type)
    if request.method == "POST" and editor.is_valid():
        try:
            prescription = services.prescription_save_draft(
                consultation=consultation,
                doctor=request.user,
                header=editor.header(),
                items=editor.items(),
                request=request,
            )
        except services.DraftExists as exc:
            messages.info(request, exc.messages[0])
            return redirect("prescriptions:edit", exc.draft.pk)
        except ValidationError as exc:
            editor.add_error(exc)
        else:
            return _after_save(request, prescription)
    status = 400 if request.method == "POST" else 200
    return _editor_page(request, editor=editor, consultation=consultation, prescription=None, status=status)


@doctor_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, prescription_id: str) -> HttpResponse:
    prescription = queries.draft_for_editor(doctor=request.user, prescription_id=prescription_id)
    if not prescription.is_editable:
        messages.info(request, ALREADY_ISSUED)
        return redirect("prescriptions:detail", prescription.pk)
    editor = PrescriptionEditor(request.POST if request.method == "POST" else None, prescription=prescription)
    if request.method == "POST" and editor.is_valid():
        try:
            services.prescription_save_draft(
                consultation=prescription.consultation,
                doctor=request.user,
                header=editor.header(),
                items=editor.items(),
                prescription=prescription,
                request=request,
            )
        except PrescriptionLocked:
            messages.info(request, ALREADY_ISSUED)
            return redirect("prescriptions:detail", prescription.pk)
        except ValidationError as exc:
            editor.add_error(exc)
        else:
            return _after_save(request, prescription)
    status = 400 if request.method == "POST" else 200
    return _editor_page(
        request, editor=editor, consultation=prescription.consultation, prescription=prescription, status=status
    )


@doctor_required
@require_POST
def issue(request: HttpRequest, prescription_id: str) -> HttpResponse:
    """The confirm step's button, on the draft's preview page."""
    prescription = policies.prescription_for_prescriber(request.user, prescription_id)
    try:
        services.prescription_issue(prescription=prescription, doctor=request.user, request=request)
    except services.CannotIssue as exc:
        messages.error(request, exc.messages[0])
        if exc.code in ("no_items", "item_without_potency", "validity_passed"):
            return redirect("prescriptions:edit", prescription.pk)
        return redirect("prescriptions:detail", prescription.pk)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("prescriptions:detail", prescription.pk)
    patient = getattr(prescription.patient, "patient_profile", None)
    messages.success(request, ISSUED.format(name=(patient.full_name if patient else "") or "The patient"))
    return redirect("prescriptions:detail", prescription.pk)


@doctor_required
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest, prescription_id: str) -> HttpResponse:
    """Withdraw an issued prescription with a reason; a new version opens in the editor."""
    prescription = policies.prescription_for_prescriber(request.user, prescription_id)
    if not prescription.is_issued:
        messages.info(request, services.NOT_ISSUED if prescription.is_editable else services.ALREADY_WITHDRAWN)
        return redirect("prescriptions:detail", prescription.pk)
    form = CorrectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.prescription_correct(
                prescription=prescription, doctor=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except services.DraftExists as exc:
            messages.info(request, exc.messages[0])
            return redirect("prescriptions:edit", exc.draft.pk)
        except ValidationError as exc:
            form.add_error("reason", exc)
        else:
            patient = getattr(prescription.patient, "patient_profile", None)
            messages.success(request, WITHDRAWN.format(name=(patient.full_name if patient else "") or "The patient"))
            return redirect("prescriptions:edit", draft.pk)
    return render(
        request,
        "prescriptions/correct.html",
        {"prescription": prescription, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@doctor_required
@require_GET
def remedy_search(request: HttpRequest) -> JsonResponse:
    """Suggestions for the editor's remedy field: ?q=ars -> {"results": [{name, abbreviation, ...}]}."""
    results = queries.remedy_search(request.GET.get("q", ""))
    response = JsonResponse(
        {
            "results": [
                {
                    "name": remedy.name,
                    "abbreviation": remedy.abbreviation,
                    "also_known_as": remedy.other_names,
                    "tissue_salt": remedy.is_tissue_salt,
                }
                for remedy in results
            ]
        }
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- reading: the page, the PDF, the list ------------------------------------------------------------


def _viewer_role(request: HttpRequest, prescription: Prescription) -> str:
    if request.user.pk == prescription.patient_id:
        return "patient"
    if request.user.pk == prescription.doctor_id:
        return "doctor"
    return "staff"


@login_required
@require_GET
def detail(request: HttpRequest, prescription_id: str) -> HttpResponse:
    """The printable prescription (print CSS). For the prescriber a draft is the preview with Issue."""
    document = queries.prescription_document(user=request.user, prescription_id=prescription_id)
    prescription = document.prescription
    services.prescription_read_record(prescription=prescription, reader=request.user, what="page", request=request)
    role = _viewer_role(request, prescription)
    response = render(
        request,
        "prescriptions/detail.html",
        {
            "doc": document,
            "rx": prescription,
            "role": role,
            "show_placebo": role in ("doctor", "staff"),
            "can_issue": role == "doctor" and prescription.is_editable,
            "can_correct": role == "doctor" and prescription.is_issued,
            "verify_url": request.build_absolute_uri(document.verify_path),
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _filename(document: queries.RxDocument) -> str:
    day = document.date or document.written_on
    doctor = slugify(document.letterhead.doctor_name.replace("Dr.", "")) or "doctor"
    return f"prescription-{day:%Y-%m-%d}-{doctor}.pdf"


@login_required
@require_GET
def pdf(request: HttpRequest, prescription_id: str) -> HttpResponse:
    document = queries.prescription_document(user=request.user, prescription_id=prescription_id)
    services.prescription_read_record(
        prescription=document.prescription, reader=request.user, what="pdf", request=request
    )
    data = render_pdf(document, verify_url=request.build_absolute_uri(document.verify_path))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(document)}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@patient_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My prescriptions: the patient's issued prescriptions, newest first, each with its PDF."""
    page = queries.patient_prescriptions(patient=request.user, page=request.GET.get("page") or 1)
    return render(request, "prescriptions/mine.html", {"page": page})


def _image_response(field) -> FileResponse:
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("No signature.") from None
    kind = filetype.guess(handle.read(262))
    handle.seek(0)
    if kind is None or kind.mime not in IMAGE_TYPES:
        # Only re-encoded PNGs are stored here; anything else was put there by hand.
        handle.close()
        raise Http404("No signature.")
    response = FileResponse(handle, content_type=kind.mime)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def signature(request: HttpRequest, prescription_id: str) -> FileResponse:
    """The prescribing doctor's signature, for whoever may read the prescription."""
    prescription = Prescription.objects.select_related("doctor__doctor_profile").filter(pk=prescription_id).first()
    policies.prescription_for_viewer(request.user, prescription)
    profile = getattr(prescription.doctor, "doctor_profile", None)
    if profile is None or not profile.signature:
        raise Http404("No signature.")
    return _image_response(profile.signature)


@doctor_required
@require_GET
def own_signature(request: HttpRequest) -> FileResponse:
    """A doctor's own signature, for the preview on their profile page."""
    profile = DoctorProfile.objects.filter(user_id=request.user.pk).first()
    if profile is None or not profile.signature:
        raise Http404("No signature.")
    return _image_response(profile.signature)


# --- public verification ---------------------------------------------------------------------------


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Is this prescription genuine? Doctor, date, validity and status; nothing about the patient."""
    result = queries.verification(code=code, now=timezone.now())
    response = render(
        request,
        "prescriptions/verify.html",
        {"result": result, "code": code[:16], "form": VerifyForm()},
        status=200 if result is not None else 404,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def verify_lookup(request: HttpRequest) -> HttpResponse:
    """Type the code printed on a prescription."""
    form = VerifyForm(request.GET if "code" in request.GET else None)
    if form.is_bound and form.is_valid():
        return redirect("prescriptions:verify", form.cleaned_data["code"])
    return render(
        request,
        "prescriptions/verify.html",
        {"result": None, "code": "", "form": form, "lookup": True},
        status=400 if form.is_bound else 200,
    )
