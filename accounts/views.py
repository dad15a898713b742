"""Account pages: doctor sign-up, the signed-in landing page, email
confirmation with our token check, account deletion, notifications."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from allauth.account.views import ConfirmEmailView as AllauthConfirmEmailView
from allauth.account.views import SignupView
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import queries, services
from accounts.forms import DeleteAccountForm, NotificationPreferencesForm
from accounts.models import Notification, Role, is_local_path
from dhanwantari.links import url_for_each

# --- sign-up and email confirmation ----------------------------------------------


class DoctorSignupView(SignupView):
    """The same sign-up, arriving with the doctor role chosen."""

    def get_initial(self):
        return {**super().get_initial(), "role": Role.DOCTOR}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "signup_as_doctor": True}


doctor_signup = DoctorSignupView.as_view()


class ConfirmEmailView(AllauthConfirmEmailView):
    """allauth's confirmation page, refusing any link we have no usable record of.

    allauth's keys are signed and expire; our row (digest only) also makes each
    link single-use and visible to staff.
    """

    def get_object(self, queryset=None):
        confirmation = super().get_object(queryset)
        if services.email_token_usable(self.kwargs["key"]) is None:
            raise Http404("This confirmation link has expired or was already used.")
        return confirmation


confirm_email = ConfirmEmailView.as_view()


# --- the signed-in landing page ---------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    profile = None
    if user.role == Role.PATIENT:
        profile = getattr(user, "patient_profile", None)
    elif user.role == Role.DOCTOR:
        profile = getattr(user, "doctor_profile", None)
    context = {"profile": profile, "recent_notifications": queries.notifications_for(user=user)[:5]}
    if user.role == Role.PATIENT:
        from doctors.queries import consultations_to_review

        context["to_review"] = consultations_to_review(patient=user)
    return render(request, "accounts/dashboard.html", context)


# --- account deletion -------------------------------------------------------------


@login_required
@reauthentication_required(allow_get=True)
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=request.user, request=request)
        except services.AccountDeletionError as exc:
            form.add_error(None, str(exc))
        else:
            logout(request)
            messages.success(request, "Your account is closed. You can sign up again with the same email.")
            return redirect("home")
    return render(request, "accounts/delete_account.html", {"form": form})


# --- notifications ---------------------------------------------------------------


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page, counts = queries.notification_page(user=request.user, page=request.GET.get("page"))
    # Each row's two form actions, from one reverse() each rather than two {% url %} a row.
    read_url = url_for_each("accounts:notification_read")
    open_url = url_for_each("accounts:notification_open")
    for notification in page:
        notification.read_url = read_url(notification.pk)
        notification.open_url = open_url(notification.pk)
    return render(
        request,
        "accounts/notifications.html",
        # The header's badge reads unread_notifications too: this replaces its lazy COUNT.
        {"page": page, "unread_notifications": counts.unread},
    )


def _back_to_list(request: HttpRequest) -> HttpResponse:
    """Back to the page of the list the button was on; anything but a page number is ignored."""
    url = reverse("accounts:notifications")
    page = request.POST.get("page", "")
    if page.isascii() and page.isdecimal() and len(page) <= 6:
        url = f"{url}?page={page}"
    return redirect(url)


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: str) -> HttpResponse:
    try:
        services.notification_mark_read(user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    return _back_to_list(request)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(user=request.user)
    if count:
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("accounts:notifications")


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: str) -> HttpResponse:
    """Mark read and follow the deeplink (checked again: only paths on this site)."""
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    if notification.deeplink and is_local_path(notification.deeplink):
        return redirect(notification.deeplink)
    return redirect("accounts:notifications")


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    current = queries.notification_preferences(user=request.user)
    form = NotificationPreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_update(user=request.user, choices=form.choices())
        messages.success(request, "Your notification choices are saved.")
        return redirect("accounts:notification_preferences")
    return render(request, "accounts/notification_preferences.html", {"form": form})
