"""Launching Debian's Chromium for Playwright: no browser download happens here.

The flags keep Chromium quiet on a closed network: without the
background-networking ones it keeps trying to reach Google's hosts.
"""

from __future__ import annotations

import os
import shutil

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
