"""Who may open which URL.

Two guards, tested separately:

- deny by default: every URL pattern, walked from the root URLconf, is either
  on the short public list below or turns an anonymous visitor away (a
  redirect to sign-in, 401/403/404/405), never a 200 page;
- the role matrix: for each page about one person's data, what the owner, the
  other party and everyone else get, written out as a table.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from accounts.tests.factories import NotificationFactory, StaffUserFactory
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory
from prescriptions.tests.factories import IssuedPrescriptionFactory
from records.tests.factories import FileUploadFactory

# The public pages, by URL name. The same list as settings.PUBLIC_URL_NAMES,
# written again on purpose: making a page public takes two edits, and the
# second one is in a test file a reviewer reads.
PUBLIC_PAGES = {
    "home",
    "healthz",
    "doctors:directory",
    "doctors:public_profile",
    "doctors:doctor_photo",
    "prescriptions:verify_lookup",
    "prescriptions:verify",
    "payments:razorpay_webhook",
    "account_signup",
    "account_signup_doctor",
    "account_login",
    "account_confirm_login_code",
    "account_inactive",
    "account_email_verification_sent",
    "account_confirm_email",
    "account_verify_phone",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "mfa_authenticate",
    "admin:login",
}

# What an anonymous visitor may get from a page that is not public.
TURNED_AWAY = {302, 401, 403, 404, 405}
SIGN_IN_PAGES = {"/accounts/login/", "/admin/login/"}


# --- walking the URLconf -------------------------------------------------------

# A dummy value for each path converter; ids that match no row.
CONVERTER_SAMPLES = {
    "IntConverter": "1",
    "StringConverter": "x_00000000000000000000000000",
    "SlugConverter": "x-1",
    "UUIDConverter": str(uuid.UUID(int=1)),
    "PathConverter": "x/y",
}
# Tried in turn for a regex group; the first the group's regex accepts wins.
REGEX_SAMPLES = ["1", "dp_00000000000000000000000000", "x_00000000000000000000000000", "abc", "a1-b2"]
NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>(?:[^()]|\([^()]*\))*)\)")


def _regex_sample(body: str) -> str:
    if re.fullmatch(r"\w+(\|\w+)*", body):  # an alternation of words: admin's app labels
        return body.split("|")[0]
    for sample in REGEX_SAMPLES:
        if re.fullmatch(body, sample):
            return sample
    raise AssertionError(f"No sample value matches the URL regex group {body!r}; add one to REGEX_SAMPLES.")


def _path_piece(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        route = str(pattern)
        for name, converter in pattern.converters.items():
            sample = CONVERTER_SAMPLES[type(converter).__name__]
            route = re.sub(rf"<(\w+:)?{name}>", sample, route)
        return route
    assert isinstance(pattern, RegexPattern)
    regex = NAMED_GROUP.sub(lambda m: _regex_sample(m.group("body")), str(pattern))
    regex = regex.removeprefix("^").removesuffix("$").removeprefix("\\A").removesuffix("\\Z")
    return re.sub(r"\\(\W)", r"\1", regex)


def every_url(resolver=None, prefix: str = "/", namespace: str = ""):
    """(view name or path, sample path) for every pattern, included ones too."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        piece = _path_piece(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from every_url(entry, prefix + piece, inner)
        else:
            assert isinstance(entry, URLPattern)
            path = prefix + piece
            yield (f"{namespace}{entry.name}" if entry.name else path), path


ALL_URLS = sorted(set(every_url()))


def test_the_walk_finds_the_whole_site():
    names = {name for name, _ in ALL_URLS}

    assert {"home", "consultations:room", "records:download", "admin:index", "account_login"} <= names
    assert len(ALL_URLS) > 100


@pytest.mark.parametrize(("name", "path"), ALL_URLS, ids=[name for name, _ in ALL_URLS])
def test_every_sample_path_reaches_its_own_pattern(name, path):
    match = resolve(path)

    assert name in (match.view_name, path)


def test_the_public_list_is_the_one_in_settings():
    assert set(settings.PUBLIC_URL_NAMES) == PUBLIC_PAGES


def test_every_public_name_is_a_real_url():
    names = {name for name, _ in ALL_URLS}

    assert names >= PUBLIC_PAGES


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path"), ALL_URLS, ids=[name for name, _ in ALL_URLS])
def test_an_anonymous_visitor_gets_only_the_public_pages(client, name, path):
    response = client.get(path)

    if name in PUBLIC_PAGES:
        # Public, and working: no 500 for a stranger with a made-up id.
        assert response.status_code < 500
        return
    assert response.status_code in TURNED_AWAY, f"{path} answered {response.status_code} to an anonymous visitor"
    if response.status_code == 302:
        # The staff console sends people to its own sign-in, which forwards to ours.
        assert urlsplit(response["Location"]).path in SIGN_IN_PAGES


@pytest.mark.django_db
def test_an_anonymous_request_for_a_private_page_goes_to_sign_in_and_back(client):
    response = client.get("/records/?page=2")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=/records/%3Fpage%3D2"


@pytest.mark.django_db
def test_an_anonymous_fetch_asking_for_json_gets_401_not_a_sign_in_page(client):
    response = client.get(reverse("prescriptions:remedy_search"), {"q": "arn"}, headers={"accept": "application/json"})

    assert response.status_code == 401
    assert response.json() == {"error": "Sign in to continue."}


@pytest.mark.django_db
def test_the_razorpay_webhook_is_reachable_without_a_session(client):
    response = client.post(reverse("payments:razorpay_webhook"), data=b"{}", content_type="application/json")

    # Refused for its missing signature by the view itself, not sent to sign in.
    assert response.status_code == 400 or response.status_code == 401 or response.status_code == 403
    assert "Location" not in response


# --- the role matrix -----------------------------------------------------------

# One consultation between `patient` and `doctor`, its issued prescription, a
# file the patient uploaded, a notification for the patient. `other patient`
# and `other doctor` have nothing to do with them; staff is a superuser with
# MFA. GET only: what each person is shown.
#
# Staff read prescriptions and files outside the admin on purpose (support;
# every such read is audited: records.policies, prescriptions.policies), but
# not consultations, which are between the patient and the doctor. A
# consultation's files page is the doctor's view (the patient has /records/).
#
#   R    redirect to the sign-in page
#   A    redirect to the staff console's sign-in (the admin's own check)
#   200  the page          403 wrong role       404 not yours (looks missing)
#   405  GET not allowed (the URL only takes POST)
MATRIX = """
page                             anonymous  patient  other_patient  doctor  other_doctor  staff
consultations:detail             R          200      404            200     404           404
consultations:waiting_room       R          200      404            200     404           404
consultations:room               R          200      404            200     404           404
consultations:ics                R          200      404            200     404           404
records:consultation_files       R          403      403            200     404           403
payments:pay                     R          200      404            403     404           404
prescriptions:detail             R          200      404            200     404           200
prescriptions:pdf                R          200      404            200     404           200
records:download                 R          200      404            200     404           200
records:view                     R          200      404            200     404           200
records:index                    R          200      200            403     403           403
accounts:notifications           R          200      200            200     200           200
accounts:notification_open       R          405      405            405     405           405
patients:profile                 R          200      200            403     403           403
doctors:profile_edit             R          403      403            200     200           403
doctors:availability             R          403      403            200     200           403
doctors:public_profile           200        200      200            200     200           200
prescriptions:mine               R          200      200            403     403           403
consultations:dashboard          R          200      200            200     200           403
admin:index                      A          A        A              A       A             200
"""

ROLES = MATRIX.split("\n")[1].split()[1:]
CELLS = [
    (page, role, expected)
    for line in MATRIX.strip().split("\n")[1:]
    for page, *row in [line.split()]
    for role, expected in zip(ROLES, row, strict=True)
]


@pytest.fixture
def cast(db):
    patient = PatientProfileFactory(full_name="Meera Iyer").user
    doctor_profile = DoctorProfileFactory(full_name="Dr. Asha Kulkarni")
    consultation = ConsultationFactory(patient=patient, doctor=doctor_profile.user, status="in_progress")
    prescription = IssuedPrescriptionFactory(consultation=consultation)
    record = FileUploadFactory(patient=patient, consultation=consultation)
    notification = NotificationFactory(user=patient)
    users = {
        "anonymous": None,
        "patient": patient,
        "other_patient": PatientProfileFactory(full_name="Arjun Rao").user,
        "doctor": doctor_profile.user,
        "other_doctor": DoctorProfileFactory(full_name="Dr. Ravi Menon").user,
        "staff": StaffUserFactory(),
    }
    by_kind = {
        "consultations": consultation.pk,
        "records": record.pk,
        "prescriptions": prescription.pk,
        "notification": notification.pk,
        "doctor_profile": doctor_profile.pk,
    }
    return users, by_kind


def url_of(page: str, ids: dict) -> str:
    kwargs_by_page = {
        "records:download": {"file_id": ids["records"]},
        "records:view": {"file_id": ids["records"]},
        "records:consultation_files": {"consultation_id": ids["consultations"]},
        "payments:pay": {"consultation_id": ids["consultations"]},
        "prescriptions:detail": {"prescription_id": ids["prescriptions"]},
        "prescriptions:pdf": {"prescription_id": ids["prescriptions"]},
        "accounts:notification_open": {"notification_id": ids["notification"]},
        "doctors:public_profile": {"profile_id": ids["doctor_profile"]},
    }
    if page in kwargs_by_page:
        return reverse(page, kwargs=kwargs_by_page[page])
    if page.startswith("consultations:") and page != "consultations:dashboard":
        return reverse(page, kwargs={"consultation_id": ids["consultations"]})
    return reverse(page)


@pytest.mark.parametrize(("page", "role", "expected"), CELLS, ids=[f"{p}-{r}" for p, r, _ in CELLS])
def test_role_matrix(client, cast, page, role, expected):
    users, ids = cast
    if users[role] is not None:
        client.force_login(users[role])
    url = url_of(page, ids)

    response = client.get(url)

    if expected == "R":
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("account_login")
    elif expected == "A":
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("admin:login")
    else:
        assert response.status_code == int(expected), f"{role} GET {url}"
