"""Site-wide hardening: security headers, caching of private pages, the deploy
check, the health check, the error pages, and logs that keep no secrets."""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
import subprocess
import sys
import traceback
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.test import RequestFactory
from django.urls import path, reverse
from django.utils import timezone
from django.views.defaults import server_error

from accounts.tests.factories import TEST_PASSWORD, PatientUserFactory
from consultations.messaging import message_send
from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.fake_razorpay import fake_razorpay as fake_razorpay  # a fixture
from doctors.tests.factories import DoctorProfileFactory, verified_doctor
from patients.tests.factories import PatientProfileFactory, patient_with_profile
from prescriptions.services import HeaderData, ItemData, prescription_save_draft

BASE_DIR = Path(settings.BASE_DIR)


def _boom(request):
    raise RuntimeError("a bug")


# Test-only URLs (pytest.mark.urls) for a view that fails.
urlpatterns = [path("boom/", _boom, name="boom")]


# --- headers ----------------------------------------------------------------------


def csp_of(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


@pytest.mark.django_db
def test_every_page_forbids_inline_script_and_style_and_framing(client):
    policy = csp_of(client.get(reverse("home")))

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["media-src"] == ["'self'", "blob:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.django_db
def test_websockets_may_connect_only_to_this_host(client):
    plain = csp_of(client.get(reverse("home")))
    secure = csp_of(client.get(reverse("home"), secure=True))

    assert plain["connect-src"] == ["'self'", "ws://testserver"]
    assert secure["connect-src"] == ["'self'", "wss://testserver"]


@pytest.mark.django_db
def test_the_classic_headers_are_set(client):
    response = client.get(reverse("home"))

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_razorpay_checkout_is_allowed_only_on_the_pay_page_and_only_with_razorpay(client, settings, fake_razorpay):
    consultation = ConsultationFactory(
        status="scheduled",
        patient=patient_with_profile(),
        doctor=verified_doctor(),
        fee_amount=Decimal("500.00"),
        scheduled_at=timezone.now() + timedelta(days=3),
    )
    client.force_login(consultation.patient)
    pay_url = reverse("payments:pay", args=[consultation.pk])
    checkout = urlsplit(settings.RAZORPAY_CHECKOUT_JS)
    checkout_origin = f"{checkout.scheme}://{checkout.netloc}"

    online = csp_of(client.get(pay_url))
    elsewhere = csp_of(client.get(reverse("consultations:detail", args=[consultation.pk])))
    settings.PAYMENT_PROVIDER = "offline"
    offline = csp_of(client.get(pay_url))

    assert online["script-src"] == ["'self'", checkout_origin]
    assert online["frame-src"] == [checkout_origin, "https://api.razorpay.com"]
    assert online["connect-src"] == [
        "'self'",
        "ws://testserver",
        checkout_origin,
        "https://api.razorpay.com",
        "https://lumberjack.razorpay.com",
    ]
    assert elsewhere["connect-src"] == ["'self'", "ws://testserver"]
    assert elsewhere["script-src"] == ["'self'"] and "frame-src" not in elsewhere
    assert offline["script-src"] == ["'self'"] and "frame-src" not in offline


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+=\"", re.IGNORECASE)


def page_templates():
    for template in sorted((BASE_DIR / "templates").rglob("*.html")):
        relative = template.relative_to(BASE_DIR / "templates")
        # Emails are read in mail clients, where inline styles are the only styles.
        if relative.parts[0] == "emails" or "email" in relative.parts:
            continue
        yield str(relative), template.read_text()


# Templates known to break the policy, each with what should be done. A
# strict xfail: once the template is fixed its entry must go.
KNOWN_INLINE: dict[str, str] = {}


def _template_case(name: str, source: str):
    if name in KNOWN_INLINE:
        return pytest.param(name, source, id=name, marks=pytest.mark.xfail(reason=KNOWN_INLINE[name], strict=True))
    return pytest.param(name, source, id=name)


@pytest.mark.parametrize(("name", "source"), [_template_case(*case) for case in page_templates()])
def test_no_page_template_needs_inline_script_or_style(name, source):
    # Multi-line tags: look at each tag whole.
    tags = re.findall(r"<[a-zA-Z][^>]*>", source)
    offending = [
        tag for tag in tags if INLINE_SCRIPT.match(tag) or INLINE_STYLE.search(tag) or INLINE_HANDLER.search(tag)
    ]

    assert offending == []


# --- caching ---------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_for_a_signed_in_person_are_never_stored(client):
    consultation = ConsultationFactory(status="scheduled")
    client.force_login(consultation.patient)

    for url in (reverse("consultations:detail", args=[consultation.pk]), reverse("records:index"), reverse("home")):
        assert client.get(url)["Cache-Control"] == "no-store, private", url


@pytest.mark.django_db
def test_public_pages_for_anonymous_visitors_are_left_cacheable(client):
    response = client.get(reverse("doctors:directory"))

    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_a_views_own_caching_decision_is_kept(client):
    # A listed doctor's photo is public whoever looks at it (doctors.views.doctor_photo).
    from django.core.files.base import ContentFile

    from records.tests.factories import image_bytes

    profile = DoctorProfileFactory()
    profile.photo.save("photo.jpg", ContentFile(image_bytes("JPEG")), save=True)
    client.force_login(PatientUserFactory())

    response = client.get(reverse("doctors:doctor_photo", args=[profile.pk]))

    assert response["Cache-Control"] == "public, max-age=86400"


# --- check --deploy ----------------------------------------------------------------


def production_env(**extra) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "SECURE_", "DEBUG", "SECRET_KEY"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dhanwantari.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="example.org",
        DATABASE_URL="sqlite:////tmp/dhanwantari-deploy-check.sqlite3",
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
    )
    env.update(extra)
    return env


def test_the_deploy_check_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# --- health check ------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_is_public_uncached_and_reports_each_dependency(client, settings):
    settings.REDIS_URL = ""

    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "not configured"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_pings_redis_when_it_is_used(client, settings):
    settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("No Redis here.")

    response = client.get(reverse("healthz"))

    assert (response.status_code, response.json()) == (200, {"database": "ok", "redis": "ok"})


@pytest.mark.django_db
def test_healthz_answers_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get(reverse("healthz"))

    assert (response.status_code, response.json()) == (503, {"database": "ok", "redis": "error"})


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client, settings):
    settings.REDIS_URL = ""
    with mock.patch("dhanwantari.views.connection.cursor", side_effect=Exception("connection refused")):
        response = client.get(reverse("healthz"))

    assert (response.status_code, response.json()) == (503, {"database": "error", "redis": "not configured"})
    assert b"refused" not in response.content


# --- error pages ----------------------------------------------------------------


@pytest.mark.django_db
def test_404_is_the_branded_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"find that page" in response.content
    assert b'class="site-header"' in response.content


@pytest.mark.django_db
def test_403_is_the_branded_page_with_a_sign_in_link(client):
    client.force_login(PatientUserFactory())

    response = client.get(reverse("doctors:availability"))

    assert response.status_code == 403
    assert b"have access to this page" in response.content
    assert reverse("account_login").encode() in response.content


def test_500_renders_without_a_request_context_or_database():
    # No django_db mark: any query the page made would fail this test.
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"112" in response.content


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_an_unhandled_error_shows_the_500_page_and_no_traceback(client):
    client.raise_request_exception = False
    client.force_login(PatientUserFactory())

    response = client.get("/boom/")

    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"Traceback" not in response.content
    assert b"a bug" not in response.content


# --- logs keep no secrets ---------------------------------------------------------

MARKERS = {
    "password": "Pw-marker-7f3a9c-very-secret",
    "chat": "Chat-marker-piles-since-childhood",
    "diagnosis": "Dx-marker-chronic-eczema-flare",
    "history": "History-marker-tuberculosis-1998",
}


def logged_text(records) -> str:
    """Everything a handler could write: messages, arguments and tracebacks."""
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.extend(traceback.format_exception(*record.exc_info))
    return "\n".join(parts)


@pytest.fixture
def log_everything(caplog):
    for name in ("", "django", "django.request", "django.server", "django.db.backends", "allauth"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_failing_request_logs_no_medical_text(client, log_everything):
    client.raise_request_exception = False
    client.force_login(PatientUserFactory())

    client.post("/boom/", {"medical_history": MARKERS["history"]})

    assert any(record.name == "django.request" for record in log_everything.records)  # it was logged …
    assert MARKERS["history"] not in logged_text(log_everything.records)  # … without the form's content


@pytest.mark.django_db
def test_logs_never_hold_passwords_tokens_or_medical_text(client, log_everything):
    assert not settings.DEBUG  # as in production: no SQL (with its parameters) is logged
    patient = PatientProfileFactory(full_name="Meera Iyer").user
    patient.set_password(MARKERS["password"])
    patient.save()
    doctor = DoctorProfileFactory().user
    consultation = ConsultationFactory(patient=patient, doctor=doctor, status="in_progress")

    # Sign in: a wrong password (a failure is logged and counted), then the right one.
    client.post(reverse("account_login"), {"login": patient.email, "password": MARKERS["password"] + "x"})
    client.post(reverse("account_login"), {"login": patient.email, "password": MARKERS["password"]})
    # Medical text: a chat message, a diagnosis, a profile edit that fails validation.
    message_send(consultation=consultation, sender=patient, body=MARKERS["chat"])
    prescription_save_draft(
        consultation=consultation,
        doctor=doctor,
        header=HeaderData(diagnosis=MARKERS["diagnosis"]),
        items=[ItemData(remedy_name="Arnica montana", potency_value=30, potency_scale="C", dose="4 globules")],
    )
    client.post(
        reverse("patients:profile_edit"), {"medical_history": MARKERS["history"], "date_of_birth": "not a date"}
    )
    client.logout()
    # A password reset: the link carries a token; opening it, and a forged one.
    client.post(reverse("account_reset_password"), {"email": patient.email})
    reset_url = re.search(r"https?://\S+/password/reset/key/\S+/", mail.outbox[-1].body).group(0)
    token = reset_url.rstrip("/").rsplit("/", 1)[-1]
    client.get(reset_url)
    client.get(reset_url.replace(token, token[:-4] + "zzzz"))
    client.get(reverse("account_confirm_email", args=["forged-confirmation-key-abc123"]))

    logged = logged_text(log_everything.records)
    assert log_everything.records  # the flows did log something
    leaked = [name for name, marker in {**MARKERS, "reset token": token.split("-", 1)[-1]}.items() if marker in logged]
    assert leaked == []
    assert "forged-confirmation-key-abc123" not in logged
    assert TEST_PASSWORD not in logged
