"""Fixtures for the whole suite: private media per test, fixed cast of users,
and the Playwright browser (Debian's Chromium)."""

from __future__ import annotations

import os

import pytest

from dhanwantari.testing.browser import CHROMIUM_ARGS, chromium_path, phone_context


@pytest.fixture(autouse=True)
def _test_storage(settings, tmp_path):
    # Uploaded files go to a fresh folder per test; static files are served
    # unhashed (the manifest exists only after collectstatic in production).
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow and factories hash a password per user;
    # production's hasher list is tested on its own (test_settings).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Under CI the cache is a real Redis database shared by the whole run;
    # rate-limit counters from one test must not leak into the next.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def staff_client(client):
    """A client signed in as a superuser."""
    from accounts.tests.factories import StaffUserFactory

    client.force_login(StaffUserFactory())
    return client


# --- browser -------------------------------------------------------------


def pytest_collection_modifyitems(items):
    # Playwright's sync API leaves an event loop running in the main thread
    # for the rest of the session, and async_to_sync (websocket tests) refuses
    # to run in such a thread: browser tests go last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # refuses to run in a thread with a running loop unless told it is safe.
    # It is here: the ORM calls in browser tests are ordinary sync test code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(_playwright):
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; `make sysdeps` installs it.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    browser = _playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = phone_context(browser, live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def second_phone(browser, live_server):
    """Another phone with its own cookies, for the other person in a journey."""
    context = phone_context(browser, live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
