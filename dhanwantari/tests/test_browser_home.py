"""The home page in a real browser: desktop and phone, CSS loaded, nothing broken.

Screenshots go to test-artifacts/ (gitignored) so a person can judge the design.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from doctors.tests.factories import DoctorProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

# app.css: body { background-color: var(--color-bg) } with --color-bg: #f4f7f6.
TOKEN_BACKGROUND = "rgb(244, 247, 246)"


@pytest.fixture
def doctors():
    """Five verified doctors as a real listing has them: long names, long city
    names, several specialisations, every mode, and one without reviews."""
    make = DoctorProfileFactory
    make(
        full_name="Dr. Meera Kulkarni",
        specializations=["womens_health", "dermatology"],
        city="Pune",
        experience_years=14,
        consultation_fee=Decimal("800"),
        rating_avg=Decimal("4.90"),
        rating_count=212,
        consultation_modes=["chat", "video", "in_person"],
    )
    make(
        full_name="Dr. Arjun Venkataraman",
        specializations=["paediatrics", "respiratory_allergy"],
        city="Chennai",
        experience_years=9,
        consultation_fee=Decimal("600"),
        rating_avg=Decimal("4.80"),
        rating_count=96,
        consultation_modes=["chat", "audio", "video"],
    )
    make(
        full_name="Dr. Farah Siddiqui",
        specializations=["mental_emotional", "classical"],
        city="Lucknow",
        experience_years=21,
        consultation_fee=Decimal("1500"),
        rating_avg=Decimal("4.70"),
        rating_count=341,
        consultation_modes=["video", "in_person"],
    )
    make(
        full_name="Dr. Harpreet Kaur Sandhu",
        specializations=["musculoskeletal", "geriatrics", "chronic"],
        city="Thiruvananthapuram",
        experience_years=6,
        consultation_fee=Decimal("450"),
        rating_avg=Decimal("4.60"),
        rating_count=38,
        consultation_modes=["chat", "audio", "video", "in_person"],
    )
    make(
        full_name="Dr. Rohan Das",
        specializations=["digestive"],
        city="Kolkata",
        experience_years=1,
        consultation_fee=Decimal("300"),
        rating_avg=Decimal("0"),
        rating_count=0,
        consultation_modes=["chat"],
    )


def watch_for_problems(page: Page) -> list[str]:
    """Collect console errors, failed requests and error responses while the page loads."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url} {req.failure}"))
    page.on("response", lambda res: problems.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None)
    return problems


def has_no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_home_on_a_desktop(page: Page, doctors):
    problems = watch_for_problems(page)

    page.goto("/", wait_until="networkidle")

    expect(page.get_by_role("heading", level=1)).to_have_text("Consult a verified homeopathic doctor, your way")
    cards = page.locator("[data-doctor-card]")
    expect(cards).to_have_count(5)
    expect(cards.first).to_be_visible()
    expect(cards.first).to_contain_text("Dr. Meera Kulkarni")
    expect(cards.first).to_contain_text("Verified")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a doctor")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_have_attribute("href", "/accounts/login/")
    expect(page.locator(".site-footer")).to_contain_text("In a medical emergency call 112")

    # The stylesheet loaded and its tokens apply.
    body = page.locator("body")
    expect(body).to_have_css("background-color", TOKEN_BACKGROUND)
    assert "system-ui" in body.evaluate("el => getComputedStyle(el).fontFamily")
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--color-primary').trim()")
    # The icon sprite loaded too: an external <use> that failed would render nothing.
    assert page.locator(".badge--verified .icon").first.bounding_box()["width"] > 0
    assert has_no_horizontal_overflow(page)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "home-desktop.png", full_page=True)

    # A tablet, between the phone and desktop layouts.
    page.set_viewport_size({"width": 768, "height": 1024})
    assert has_no_horizontal_overflow(page)
    page.screenshot(path=ARTIFACTS / "home-tablet.png", full_page=True)
    assert problems == []


def test_home_is_keyboard_friendly(page: Page, doctors):
    page.goto("/")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    # The focus ring is the token one, not the browser default.
    assert skip_link.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"

    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{page.url.split('#')[0].rstrip('/')}/#main")


def test_home_on_a_phone(phone_page: Page, doctors):
    page = phone_page
    problems = watch_for_problems(page)

    page.goto("/", wait_until="networkidle")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("[data-doctor-card]").first).to_be_visible()
    expect(page.locator("body")).to_have_css("background-color", TOKEN_BACKGROUND)
    assert has_no_horizontal_overflow(page)

    # Every main-nav link is on screen and big enough to tap, without JS or a menu.
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Find a doctor", "How it works", "For doctors"):
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_in_viewport()
        assert link.bounding_box()["height"] >= 44
    expect(page.get_by_role("link", name="Sign in")).to_be_in_viewport()

    nav.get_by_role("link", name="How it works").tap()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#how-it-works")
    expect(page.get_by_role("heading", name="How it works")).to_be_in_viewport()

    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "home-phone.png", full_page=True)

    # The narrowest phones we support.
    page.set_viewport_size({"width": 360, "height": 740})
    assert has_no_horizontal_overflow(page)
    page.screenshot(path=ARTIFACTS / "home-phone-360.png", full_page=True)
    assert problems == []


def test_home_without_doctors_shows_an_empty_state(page: Page):
    page.goto("/")

    expect(page.get_by_text("No verified doctors are listed yet.")).to_be_visible()


def test_404_page_is_branded_and_styled(phone_page: Page):
    page = phone_page
    problems = watch_for_problems(page)

    response = page.goto("/no-such-page", wait_until="networkidle")

    assert response.status == 404
    problems.remove(f"HTTP 404: {response.url}")
    expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't find that page")
    expect(page.locator("body")).to_have_css("background-color", TOKEN_BACKGROUND)
    assert has_no_horizontal_overflow(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "404-phone.png", full_page=True)
    # Chromium logs the 404 status of the document itself as a console error.
    assert [p for p in problems if "404" not in p] == []


def test_500_page_is_styled_without_django_context(page: Page, live_server):
    from django.template import loader

    # Served by the browser itself, as Django would serve it: rendered with an
    # empty context. Its stylesheet and icon still come from the live server.
    html = loader.get_template("500.html").render()
    page.route(f"{live_server.url}/boom", lambda route: route.fulfill(status=500, body=html, content_type="text/html"))
    problems = watch_for_problems(page)

    page.goto("/boom", wait_until="networkidle")

    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong on our side")
    expect(page.locator("body")).to_have_css("background-color", TOKEN_BACKGROUND)
    page.set_viewport_size({"width": 360, "height": 740})
    assert has_no_horizontal_overflow(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "500-phone.png", full_page=True)
    assert [p for p in problems if "500" not in p] == []
