"""The patient's own profile: a page to read it and a page to edit it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.policies import patient_required
from patients import queries, services
from patients.forms import ProfileEditForms


@patient_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "patients/profile.html", {"page": queries.patient_profile_page(user=request.user)})


@patient_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile = queries.patient_profile_for_edit(user=request.user)
    # Not `request.POST or None`: an empty POST is still a submission to validate.
    forms = ProfileEditForms(request.POST if request.method == "POST" else None, profile=profile)
    if forms.is_bound and forms.is_valid():
        try:
            services.patient_profile_update(profile=profile, data=forms.cleaned_data, by=request.user, request=request)
        except ValidationError as exc:
            forms.add_error(exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("patients:profile")
    return render(request, "patients/profile_edit.html", {"forms": forms, "profile": profile})
