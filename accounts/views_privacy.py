"""Data protection pages: "Download my data" and the archive's download.

Asking for an export needs a fresh re-authentication (allauth's, the same
as closing the account: password, or the second factor / passwordless code
the account uses). The archive is built in the background
(accounts.tasks.data_export_build); the page lists it with a link that works
for EXPORT_LINK_HOURS.
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts import privacy
from accounts.models import User
from accounts.policies import is_clinical_staff

NO_SUCH_EXPORT = "No such export."


@login_required
@reauthentication_required(allow_get=True)
@require_http_methods(["GET", "POST"])
def data_export(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        privacy.export_request(user=request.user, request=request)
        messages.success(request, "We are preparing your data. The download appears here when it is ready.")
        return redirect("accounts:data_export")
    return render(
        request,
        "accounts/privacy/data_export.html",
        {"exports": privacy.exports_for(user=request.user), "link_hours": settings.EXPORT_LINK_HOURS},
    )


def _serve(request: HttpRequest, export: privacy.DataExport) -> HttpResponse:
    if export.is_expired:
        return render(request, "accounts/privacy/export_expired.html", {"message": privacy.EXPORT_EXPIRED}, status=410)
    if export.status != privacy.READY:
        raise Http404(NO_SUCH_EXPORT)
    try:
        handle = default_storage.open(export.archive_name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404(NO_SUCH_EXPORT) from None
    response = FileResponse(handle, as_attachment=True, filename=export.filename, content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def data_export_download(request: HttpRequest, export_id: str) -> HttpResponse:
    """The owner's archive: looked up in the owner's own folder, so anyone else's id is simply not there."""
    export = privacy.export_get(user_id=request.user.pk, export_id=export_id)
    if export is None:
        raise Http404(NO_SUCH_EXPORT)
    return _serve(request, export)


@login_required
@require_GET
def data_export_staff_download(request: HttpRequest, user_id: str, export_id: str) -> HttpResponse:
    """Staff fetch an export they ran for someone (admin action); every download is audited."""
    if not is_clinical_staff(request.user):
        raise Http404(NO_SUCH_EXPORT)
    if not User.all_objects.filter(pk=user_id, deleted_at__isnull=True).exists():
        raise Http404(NO_SUCH_EXPORT)
    export = privacy.export_get(user_id=user_id, export_id=export_id)
    # Only the export this staff member ran: never one the person made for themselves.
    if export is None or export.requested_by != request.user.pk:
        raise Http404(NO_SUCH_EXPORT)
    response = _serve(request, export)
    if response.status_code == 200:
        privacy.export_downloaded(export=export, by=request.user, request=request)
    return response
