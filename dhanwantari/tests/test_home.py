import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from doctors.tests.factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db


def modes_offered(response) -> list[str]:
    """The consultation modes shown on the first doctor card, as text."""
    html = response.content.decode()
    modes = re.search(r'aria-label="Consults by">(.*?)</ul>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>|\s+", " ", item).strip() for item in re.findall(r"<li[^>]*>(.*?)</li>", modes, re.S)]


def test_home_lists_verified_doctors_only(client):
    DoctorProfileFactory(full_name="Dr. Asha Verified")
    DoctorProfileFactory(full_name="Dr. Pending Person", verification_status="pending")

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert b"Dr. Asha Verified" in response.content
    assert b"Dr. Pending Person" not in response.content


def test_healthz_reports_database(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_home_shows_what_a_doctor_card_promises(client):
    DoctorProfileFactory(
        full_name="Dr. Meera Kulkarni",
        specializations=["womens_health", "dermatology"],
        city="Nashik",
        experience_years=12,
        consultation_fee=Decimal("1500.00"),
        currency="INR",
        consultation_modes=["chat", "audio", "in_person"],
        rating_avg=Decimal("4.80"),
        rating_count=37,
    )

    response = client.get(reverse("home"))

    assertContains(response, "Dr. Meera Kulkarni")
    assertContains(response, "Women&#x27;s health and PCOS, Skin and hair")
    assertContains(response, "Nashik")
    assertContains(response, "12 years of experience")
    assertContains(response, "&#8377;1,500</span>", html=False)
    assertContains(response, '<span class="rating__value">4.8</span>', html=False)
    assertContains(response, "(37 reviews)")
    assert modes_offered(response) == ["Chat", "Audio", "In person"]


def test_home_cards_do_not_link_to_doctor_pages_that_do_not_exist_yet(client):
    DoctorProfileFactory(full_name="Dr. Asha Verified")

    response = client.get(reverse("home"))

    assertNotContains(response, 'href="#"', html=False)


def test_home_says_so_when_no_doctor_is_listed(client):
    DoctorProfileFactory(verification_status="pending")

    response = client.get(reverse("home"))

    assertContains(response, "No verified doctors are listed yet.")
    assertNotContains(response, "data-doctor-card", html=False)


def test_home_renders_the_emergency_number_from_settings(client, settings):
    settings.EMERGENCY_NUMBER = "108"

    response = client.get(reverse("home"))

    assertContains(response, 'In a medical emergency call <a class="emergency-notice__number" href="tel:108">108</a>')
    assertContains(response, "Homeopathic consultations are not a substitute for emergency care.")
    # The intake preview in the hero names the same number.
    assertContains(response, "tells you to call 108.")


def test_home_links_the_stylesheet_favicon_sign_in_and_sign_up(client):
    response = client.get(reverse("home"))

    assertTemplateUsed(response, "base.html")
    assertContains(response, 'href="/static/css/app.css"', html=False)
    assertContains(response, 'href="/static/img/favicon.svg"', html=False)
    assertContains(response, f'href="{reverse("account_login")}"', html=False)
    assertContains(response, f'href="{reverse("account_signup")}"', html=False)
    # A later Content-Security-Policy forbids inline scripts and style attributes.
    assertNotContains(response, "<script", html=False)
    assertNotContains(response, "style=", html=False)


@pytest.mark.parametrize("verified_doctors", [2, 12])
def test_home_runs_one_query_however_many_doctors_are_listed(client, django_assert_num_queries, verified_doctors):
    DoctorProfileFactory.create_batch(verified_doctors)

    # 1. the featured doctors, read from the active_doctors view. An anonymous
    #    visitor has no session cookie, so the session table is not read.
    with django_assert_num_queries(1):
        response = client.get(reverse("home"))

    assert response.content.count(b"data-doctor-card") == min(verified_doctors, 6)


def test_unknown_page_gets_the_branded_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assertTemplateUsed(response, "404.html")
    assertContains(response, "We couldn't find that page", status_code=404)
    assertContains(response, "In a medical emergency call", status_code=404)


def test_500_page_renders_without_request_context_or_database(django_assert_num_queries):
    from django.template import loader

    # Django renders 500.html with an empty Context; it must not need more.
    with django_assert_num_queries(0):
        html = loader.get_template("500.html").render()

    assert "Something went wrong on our side" in html
    assert 'href="/static/css/app.css"' in html
    assert "{{" not in html


def test_base_layout_shows_flash_messages(rf):
    from django.contrib import messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    messages.success(request, "Your consultation is booked.")
    messages.error(request, "That slot was just taken.")

    html = render_to_string("404.html", request=request)

    assert '<li class="alert alert--success">Your consultation is booked.</li>' in html
    assert '<li class="alert alert--error">That slot was just taken.</li>' in html


def test_403_page_is_branded(rf):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    response = permission_denied(rf.get("/records/1"), PermissionDenied())

    assert response.status_code == 403
    assert b"You don't have access to this page" in response.content
    assert b"In a medical emergency call" in response.content
