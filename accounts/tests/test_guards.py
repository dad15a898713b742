"""Role guards (accounts.policies): anonymous visitors are sent to sign in, a
signed-in person of the wrong role gets 403, the right role gets the page.

Each guard is tested as a decorator and as a mixin on small views of this
module's own (no page of the product uses every guard yet)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import HttpResponse
from django.urls import include, path, reverse
from django.views import View

from accounts.models import Role
from accounts.policies import (
    DoctorRequiredMixin,
    PatientRequiredMixin,
    StaffRequiredMixin,
    VerifiedDoctorRequiredMixin,
    doctor_required,
    patient_required,
    staff_required,
    verified_doctor_required,
)
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory, StaffUserFactory, UserFactory
from doctors.models import VerificationStatus
from doctors.tests.factories import DoctorProfileFactory


def page(request, *args, **kwargs):
    return HttpResponse("the page")


class Page(View):
    def get(self, request, *args, **kwargs):
        return HttpResponse("the page")


def _class_view(mixin):
    return type(f"{mixin.__name__}Page", (mixin, Page), {}).as_view()


GUARDS = {
    "patient": (patient_required, PatientRequiredMixin),
    "doctor": (doctor_required, DoctorRequiredMixin),
    "verified_doctor": (verified_doctor_required, VerifiedDoctorRequiredMixin),
    "staff": (staff_required, StaffRequiredMixin),
}

urlpatterns = [
    *[
        url
        for name, (decorator, mixin) in GUARDS.items()
        for url in (
            path(f"guarded/{name}/function/", decorator(page)),
            path(f"guarded/{name}/class/", _class_view(mixin)),
        )
    ],
    path("", include("dhanwantari.urls")),  # sign-in, the 403 page and the rest, as in production
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


# --- the cast -----------------------------------------------------------------------------


def patient():
    return PatientUserFactory()


def draft_doctor():
    return DoctorProfileFactory(verification_status=VerificationStatus.DRAFT, verified_at=None).user


def pending_doctor():
    return DoctorProfileFactory(verification_status=VerificationStatus.PENDING, verified_at=None).user


def rejected_doctor():
    return DoctorProfileFactory(verification_status=VerificationStatus.REJECTED, verified_at=None).user


def verified_doctor():
    return DoctorProfileFactory().user


def doctor_without_profile():
    return DoctorUserFactory()


def staff():
    return StaffUserFactory()


CAST = {
    "patient": patient,
    "draft_doctor": draft_doctor,
    "pending_doctor": pending_doctor,
    "rejected_doctor": rejected_doctor,
    "verified_doctor": verified_doctor,
    "doctor_without_profile": doctor_without_profile,
    "staff": staff,
}

# Who may enter each guarded page; everyone else in the cast gets 403.
ALLOWED = {
    "patient": {"patient"},
    "doctor": {"draft_doctor", "pending_doctor", "rejected_doctor", "verified_doctor", "doctor_without_profile"},
    "verified_doctor": {"verified_doctor"},
    "staff": {"staff"},
}

STYLES = ["function", "class"]


def url(guard: str, style: str) -> str:
    return f"/guarded/{guard}/{style}/"


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("guard", GUARDS)
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, guard, style):
    response = client.get(url(guard, style) + "?tab=2")

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_login")
    assert parse_qs(location.query)["next"] == [url(guard, style) + "?tab=2"]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("guard", "who"),
    [(guard, who) for guard in GUARDS for who in CAST],
)
def test_each_role_gets_the_page_or_403(client, guard, who, style):
    client.force_login(CAST[who]())

    response = client.get(url(guard, style))

    if who in ALLOWED[guard]:
        assert response.status_code == 200
        assert response.content == b"the page"
    else:
        assert response.status_code == 403
        assert b"the page" not in response.content


@pytest.mark.parametrize("style", STYLES)
def test_a_patient_holding_a_verified_doctor_profile_is_still_not_a_doctor(client, style):
    # The database does not stop a profile pointing at a patient account; the
    # role on the account is what counts.
    user = DoctorProfileFactory(user=PatientUserFactory()).user
    client.force_login(user)

    assert client.get(url("verified_doctor", style)).status_code == 403
    assert client.get(url("doctor", style)).status_code == 403


@pytest.mark.parametrize("style", STYLES)
def test_a_verified_doctor_whose_profile_was_deleted_is_no_longer_verified(client, style):
    profile = DoctorProfileFactory()
    profile.soft_delete()
    client.force_login(profile.user)

    assert client.get(url("verified_doctor", style)).status_code == 403


@pytest.mark.parametrize("style", STYLES)
def test_a_doctor_who_is_made_staff_reaches_staff_pages_but_keeps_the_doctor_role(client, style):
    user = DoctorProfileFactory(user=DoctorUserFactory(is_staff=True)).user
    client.force_login(user)

    assert client.get(url("staff", style)).status_code == 200
    assert client.get(url("patient", style)).status_code == 403


@pytest.mark.parametrize("style", STYLES)
def test_an_admin_role_without_the_staff_flag_is_not_staff(client, style):
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=False))

    assert client.get(url("staff", style)).status_code == 403


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("guard", GUARDS)
def test_a_deactivated_account_is_treated_as_signed_out(client, guard, style):
    user = {"patient": patient, "doctor": verified_doctor, "verified_doctor": verified_doctor, "staff": staff}[guard]()
    client.force_login(user)
    type(user).all_objects.filter(pk=user.pk).update(is_active=False)

    response = client.get(url(guard, style))

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("account_login")
