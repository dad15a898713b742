"""The consultation room: the page where patient and doctor talk.

The page is server-rendered and works without JavaScript: the latest page of
history (an "older messages" link walks back with a `?before=<message id>`
cursor), a composer that POSTs here, and a file form that POSTs to
`room_attachment`. static/js/room.js then takes over through the websocket
(consultations.protocol): live messages, receipts, typing, presence, resync.

Only the consultation's patient and doctor see the room; for anyone else,
staff included, it does not exist (404), as on the consultation's other pages.
Reading the page changes nothing (messages become read when the script sees
them on screen and says so over the socket). Every write goes through
consultations.messaging, which refuses a finished consultation with a
sentence shown to the person as it is.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.audit import record_read
from accounts.queries import user_timezone
from consultations import messaging, protocol, queries, tasks
from consultations.intake import services as intake
from consultations.models import Consultation
from dhanwantari.uploads import IMAGE_TYPES
from records import services as records
from records.models import Category

PAGE_SIZE = protocol.HISTORY_LIMIT
NO_FILE = "Choose a file to send."
FILE_SENT = "File sent."
NO_FILES_FOR_ASSISTANT = "The assistant does not read files. Add them to your records and share them with your doctor."


def _room_url(consultation: Consultation) -> str:
    return reverse("consultations:room", args=[consultation.pk])


def _other_name(consultation: Consultation, viewer_id: str) -> str:
    if viewer_id == consultation.doctor_id:
        profile = getattr(consultation.patient, "patient_profile", None)
        return (profile and profile.full_name) or "Your patient"
    if consultation.is_ai:
        return "AI intake assistant"
    profile = getattr(consultation.doctor, "doctor_profile", None)
    return (profile and profile.full_name) or "Your doctor"


@login_required
@require_http_methods(["GET", "POST"])
def room(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """GET: the room (3 queries besides the session's: consultation, messages, notifications badge).

    POST `body`: the no-JavaScript composer; saved through messaging.message_send.
    """
    consultation = queries.participant_consultation(user=request.user, consultation_id=consultation_id)
    if request.method == "POST":
        try:
            if consultation.is_ai:
                _intake_post(consultation, request.user, request.POST.get("body", ""))
            else:
                messaging.message_send(
                    consultation=consultation, sender=request.user, body=request.POST.get("body", "")
                )
        except messaging.MessagingError as refused:
            messages.error(request, refused.message)
        return redirect(_room_url(consultation) + "#composer")

    before = request.GET.get("before") or None
    try:
        history, has_more = messaging.messages_page(consultation=consultation, before_id=before, limit=PAGE_SIZE)
    except messaging.UnknownCursor:
        raise Http404(messaging.CURSOR_UNKNOWN) from None
    # Reading the conversation, by anyone but the patient, is in the audit trail (one INSERT).
    record_read(
        reader=request.user,
        table="consultations",
        record_id=consultation.pk,
        patient_id=consultation.patient_id,
        what="consultation room",
        request=request,
    )
    writable = messaging.room_writable(consultation)
    viewer = "doctor" if request.user.pk == consultation.doctor_id else "patient"
    chips = intake.chips_for(consultation, history[-1] if history and not before else None)
    return render(
        request,
        "consultations/room.html",
        {
            "c": consultation,
            "viewer": viewer,
            "other_name": _other_name(consultation, request.user.pk),
            "history": history,
            "has_more": has_more,
            "before": before,
            "writable": writable,
            "readonly_reason": "" if writable else _readonly_reason(consultation),
            "zone": user_timezone(user=request.user),
            "ws_path": f"/ws/consultations/{consultation.pk}/",
            "max_chars": messaging.MAX_BODY_CHARS,
            "chips": chips,
            "intake_state": intake.intake_state(consultation) if consultation.is_ai else "",
        },
    )


def _readonly_reason(consultation: Consultation) -> str:
    if consultation.is_ai:
        return intake.INTAKE_CLOSED
    return messaging.RoomReadOnly(consultation.status).message


def _intake_post(consultation: Consultation, patient, body: str) -> None:
    """The no-JavaScript composer of an AI intake: the guard, then the reply (a task)."""
    turn = intake.intake_message(consultation=consultation, patient=patient, body=body)
    if not turn.emergency:
        tasks.intake_reply.enqueue(consultation.pk)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def attachment(request: HttpRequest, consultation_id: str) -> HttpResponse:
    """POST multipart `file` (and an optional `body` caption): stored in the patient's
    records (records.services.files_upload, linked to this consultation), then sent
    as an attachment message.

    JSON for the page's script ({message} or {error} with status 400); a plain
    form POST is sent back to the room with the outcome as a flash message.
    A refused file is never stored and no message is written.
    """
    consultation = queries.participant_consultation(user=request.user, consultation_id=consultation_id)
    error, message = _send_file(request, consultation)
    if _wants_json(request):
        if error:
            return JsonResponse({"error": error}, status=400)
        return JsonResponse({"message": protocol.message_json(message)})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, FILE_SENT)
    return redirect(_room_url(consultation) + "#composer")


def _send_file(request: HttpRequest, consultation: Consultation):
    """(error sentence, None) or ("", the attachment message)."""
    # Checked before storing: a file sent to a closed room would land in the
    # records with no message to show for it.
    if not messaging.room_writable(consultation):
        return messaging.RoomReadOnly(consultation.status).message, None
    if consultation.is_ai:
        return NO_FILES_FOR_ASSISTANT, None
    file = request.FILES.get("file")
    if file is None:
        return NO_FILE, None
    # Photos taken for the doctor are the common case; anything else (a PDF
    # report) is "other" until the patient files it under a better heading.
    declared = (getattr(file, "content_type", "") or "").lower()
    category = Category.PHOTO if declared in IMAGE_TYPES else Category.OTHER
    try:
        batch = records.files_upload(
            patient=consultation.patient,
            by=request.user,
            files=[file],
            category=category,
            consultation=consultation,
            request=request,
        )
    except records.RecordsError as refused:
        return refused.messages[0], None
    if batch.rejected:
        return batch.rejected[0].reason, None
    try:
        message = messaging.attachment_send(
            consultation=consultation,
            sender=request.user,
            upload=batch.stored[0],
            body=request.POST.get("body", ""),
        )
    except messaging.MessagingError as refused:
        # Closed between the check and the send: the file stays in the
        # patient's records (linked to this consultation), where it belongs anyway.
        return refused.message, None
    return "", message
