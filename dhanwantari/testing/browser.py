"""Browser tests' shared parts: launching Debian's Chromium for Playwright (no
browser download happens here), signing in, and the checks every journey runs
on every page.

The flags keep Chromium quiet on a closed network: without the
background-networking ones it keeps trying to reach Google's hosts.

Every page a journey visits is checked the same way (`watch_for_problems`
from the start, `assert_sound` at each stop): no console errors or failed
requests, nothing wider than the phone, and no inline script or style in the
HTML as served (the Content-Security-Policy will forbid them; the live DOM is
not checked because Chromium's autofill adds style="" to inputs itself).
Screenshots go to test-artifacts/ (gitignored) for a person to judge.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def sign_in(page, email: str, password: str | None = None) -> None:
    """Sign in through the real form and wait for the account page."""
    # Imported here: conftest.py loads this module before Django is set up.
    import re

    from django.urls import reverse
    from playwright.sync_api import expect

    from accounts.tests.factories import TEST_PASSWORD

    page.goto(reverse("account_login"))
    page.get_by_label("Email or mobile number").fill(email)
    page.get_by_label("Password", exact=True).fill(password or TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account/$"))


# Where screenshots go (gitignored): the project root, this file being dhanwantari/testing/browser.py.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
NARROWEST_PHONE = {"width": 360, "height": 740}
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def phone_context(browser, base_url: str):
    """A new phone (390px, touch) with its own cookies: one person's device."""
    return browser.new_context(base_url=base_url, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)


class Watch(list):
    """Problems seen so far (a list of strings), and the HTML documents served."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: list[tuple[str, str]] = []


def watch_for_problems(page, *, loopback: bool = False) -> Watch:
    """Collect console errors, failed requests, error responses and served pages from now on.

    `loopback`: the page may load from another loopback server (the fake
    Razorpay). Pages pass through Playwright's router here, so Chromium counts
    them as public and asks before they reach a loopback address; the real
    Checkout is public, so production never meets that prompt.
    """
    if loopback:
        page.context.grant_permissions(["local-network-access"])
    problems = Watch()
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    # ERR_ABORTED: the browser dropped a request because the test navigated on
    # (the favicon, typically); a missing file shows up as an HTTP error instead.
    page.on(
        "requestfailed",
        lambda req: (
            problems.append(f"request failed: {req.url} {req.failure}")
            if "ERR_ABORTED" not in (req.failure or "")
            else None
        ),
    )
    page.on("response", lambda res: problems.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None)

    def keep_documents(route) -> None:
        # Each page's HTML as served, kept before the browser navigates on.
        if route.request.resource_type != "document":
            route.fallback()
            return
        response = route.fetch(max_redirects=0)
        if response.ok:
            problems.documents.append((route.request.url, response.text()))
        route.fulfill(response=response)

    page.route("**/*", keep_documents)
    return problems


def assert_sound(page, problems: Watch) -> None:
    """The page as it stands: no errors so far, no sideways scroll, and no page
    served so far with inline script or style."""
    assert list(problems) == [], list(problems)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{page.url} is wider than the viewport"
    )
    while problems.documents:
        url, html = problems.documents.pop()
        for pattern in (INLINE_STYLE, INLINE_SCRIPT, INLINE_HANDLER):
            found = pattern.search(html)
            assert found is None, f"{url} serves {found.group(0)!r}"


def assert_sound_at_360(page, problems: Watch) -> None:
    """Check the page on the narrowest phone we support, then restore the viewport."""
    viewport = page.viewport_size
    page.set_viewport_size(NARROWEST_PHONE)
    assert_sound(page, problems)
    page.set_viewport_size(viewport)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
