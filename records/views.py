"""Medical records pages: thin adapters around records.queries, services and policies.

- /records/                          the patient's records: upload, timeline, search, remove
- /records/upload/                   the patient's upload (a plain multipart POST; the page's
                                     script sends the same form with a progress bar and
                                     asks for JSON)
- /records/files/<id>/download|view|thumbnail/
                                     the one permission-checked way to a file's bytes
- /consultations/<id>/records/       the treating doctor's view of the patient's records,
  and …/records/upload/              and their upload, through that consultation
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.policies import doctor_required, patient_required
from consultations.models import Consultation
from dhanwantari.uploads import IMAGE_TYPES
from records import policies, queries, services
from records.forms import SearchForm, UploadForm

VARIANTS = ("download", "view", "thumbnail")


# --- the patient's records page --------------------------------------------------------


def _search(request: HttpRequest) -> tuple[str, str]:
    form = SearchForm(request.GET)
    form.is_valid()
    return form.cleaned_data.get("q", ""), form.cleaned_data.get("category", "")


def _page_context(request: HttpRequest, patient_id: str) -> dict:
    q, category = _search(request)
    records = queries.records_page(patient_id=patient_id, q=q, category=category, page_number=request.GET.get("page"))
    return {
        "records": records,
        "search_form": SearchForm(initial={"q": records.q, "category": records.category}),
        "max_bytes": settings.RECORDS_MAX_UPLOAD_BYTES,
        "max_files": settings.RECORDS_MAX_FILES_PER_UPLOAD,
        "here": request.get_full_path(),
    }


@patient_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    consultations = queries.consultation_choices(request.user.pk)
    chosen = request.GET.get("consultation", "")
    form = UploadForm(
        consultations=consultations,
        initial={"consultation": chosen if chosen in dict(consultations) else ""},
    )
    return _index_page(request, form)


def _index_page(request: HttpRequest, form: UploadForm, status: int = 200) -> HttpResponse:
    context = {**_page_context(request, request.user.pk), "form": form, "viewer": "patient"}
    return render(request, "records/index.html", context, status=status)


@patient_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    consultations = queries.consultation_choices(request.user.pk)
    form = UploadForm(request.POST, request.FILES, consultations=consultations)
    consultation = None
    if form.is_valid() and form.cleaned_data["consultation"]:
        consultation = Consultation.objects.filter(
            pk=form.cleaned_data["consultation"], patient_id=request.user.pk
        ).first()
    return _upload(
        request,
        form,
        patient=request.user,
        consultation=consultation,
        done=reverse("records:index"),
        invalid=lambda: _index_page(request, form, status=400),
    )


def _upload(request: HttpRequest, form: UploadForm, *, patient, consultation, done: str, invalid) -> HttpResponse:
    """Shared by the patient's and the doctor's upload: validate, call the service, report each file."""
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    batch = None
    if form.is_valid():
        try:
            batch = services.files_upload(
                patient=patient,
                by=request.user,
                files=form.cleaned_data["files"],
                category=form.cleaned_data["category"],
                consultation=consultation,
                notes=form.cleaned_data["notes"],
                request=request,
            )
        except services.RecordsError as exc:
            form.add_error(None, exc.messages[0])
    if batch is None:
        if wants_json:
            errors = [str(error) for errors in form.errors.values() for error in errors]
            return JsonResponse({"errors": errors}, status=400)
        return invalid()
    _report(request, batch)
    if wants_json:
        return JsonResponse(
            {
                "redirect": done,
                "added": [upload.original_filename for upload in batch.stored],
                "rejected": [{"name": r.name, "reason": r.reason} for r in batch.rejected],
            }
        )
    return redirect(done)


def _names(names: list[str]) -> str:
    quoted = [f"“{name}”" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _report(request: HttpRequest, batch: services.UploadBatch) -> None:
    """What became of each file, in words: the ones added are kept even when others were refused."""
    added = [upload.original_filename for upload in batch.stored]
    n, total = len(added), len(added) + len(batch.rejected)
    reading = (
        f" {'Their' if n != 1 else 'Its'} text is being read, so you can search for words inside "
        f"{'them' if n != 1 else 'it'} shortly."
    )
    if n and not batch.rejected:
        messages.success(request, f"Added {n} file{'s' if n != 1 else ''}: {_names(added)}.{reading}")
    elif n:
        messages.warning(
            request,
            f"Added {n} of {total} files: {_names(added)}. {'They are' if n != 1 else 'It is'} kept. "
            f"The {len(batch.rejected)} below {'were' if len(batch.rejected) != 1 else 'was'} not added: "
            "fix them and upload them again.",
        )
    else:
        messages.error(request, "No file was added.")
    for rejected in batch.rejected:
        messages.error(request, f"“{rejected.name}” was not added: {rejected.reason}")
    for sentence in services.duplicate_messages(batch):
        messages.info(request, sentence)


@patient_required
@require_POST
def delete(request: HttpRequest, file_id: str) -> HttpResponse:
    upload = policies.file_for_owner(request.user, file_id)
    services.file_delete(upload=upload, by=request.user, request=request)
    messages.success(request, f"“{upload.original_filename}” is removed from your records.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(back)
    return redirect("records:index")


# --- the doctor's view, through a consultation -------------------------------------------


@doctor_required
@require_GET
def consultation_files(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.consultation_for_records(request.user, consultation_id)
    return _consultation_page(request, consultation, UploadForm(consultations=None))


def _consultation_page(
    request: HttpRequest, consultation: Consultation, form: UploadForm, status: int = 200
) -> HttpResponse:
    context = _page_context(request, consultation.patient_id)
    services.records_listed(
        patient_id=consultation.patient_id, by=request.user, consultation=consultation, request=request
    )
    context.update(form=form, c=consultation, viewer="doctor")
    return render(request, "records/consultation_files.html", context, status=status)


@doctor_required
@require_POST
def consultation_upload(request: HttpRequest, consultation_id: str) -> HttpResponse:
    consultation = policies.consultation_for_records(request.user, consultation_id)
    form = UploadForm(request.POST, request.FILES, consultations=None)
    return _upload(
        request,
        form,
        patient=consultation.patient,
        consultation=consultation,
        done=reverse("records:consultation_files", args=[consultation.pk]),
        invalid=lambda: _consultation_page(request, consultation, form, status=400),
    )


# --- the files themselves ---------------------------------------------------------------


@login_required
@require_GET
def file_serve(request: HttpRequest, file_id: str, variant: str) -> FileResponse:
    """The one way to a record's bytes: the owner, a treating doctor or staff (records.policies).

    `download` is always an attachment; `view` shows a re-encoded image in the
    browser and downloads a PDF (a PDF is never shown inside our origin);
    `thumbnail` is the small JPEG made on upload. Every read by someone other
    than the patient is written to admin_logs first.
    """
    if variant not in VARIANTS:
        raise Http404(policies.NO_SUCH_FILE)
    upload = policies.file_for_user(request.user, file_id)
    stored = upload.thumbnail if variant == "thumbnail" else upload.file
    if not stored:
        raise Http404(policies.NO_SUCH_FILE)
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing.") from None
    services.file_opened(upload=upload, by=request.user, variant=variant, request=request)

    if variant == "thumbnail":
        content_type, inline = "image/jpeg", True
        stem = upload.original_filename.rpartition(".")[0] or upload.original_filename
        filename = f"{stem}-thumbnail.jpg"
    else:
        content_type = upload.content_type
        inline = variant == "view" and content_type in IMAGE_TYPES
        filename = upload.original_filename
    response = FileResponse(handle, as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Should a browser ever render it in place, it runs no script and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
