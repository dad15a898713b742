"""Calls between two Chromium contexts, through the real room page and socket.

The doctor starts a video (or audio) call, the patient accepts, both sides
reach `connected` with Chromium's fake camera and microphone, the doctor hangs
up, and the room holds "Video call started" and "Call ended (mm:ss)".

The websocket needs an ASGI server: a daphne subprocess, which must share the
test database, so this runs only on MySQL/MariaDB (CI's second pass; like
test_two_daphne.py). Redis is not needed: both sockets are on one process.

The room page is the real view's HTML, rendered in this process by a test
Client signed in as the same person and handed to the browser through
Playwright's router at the daphne origin, so the page's socket goes to daphne
with that person's session cookie. Static files are served from the source
tree by the router (daphne runs with production settings, without
collectstatic).
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.urls import reverse

from consultations.models import Message, MessageType
from consultations.tests.factories import ConsultationFactory
from consultations.tests.test_two_daphne import BASE_DIR, DAPHNE, free_port, test_database_url, wait_for_port
from dhanwantari.testing.browser import CHROMIUM_ARGS, chromium_path, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
CALL_TIMEOUT_MS = 20_000


@pytest.fixture
def daphne(tmp_path):
    if connection.vendor != "mysql":
        pytest.skip("needs a MySQL/MariaDB test database a daphne process can share (CI's second pass)")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "dhanwantari.settings",
    }
    log = (tmp_path / "daphne-a.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), "dhanwantari.asgi:application"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process, tmp_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def media_browser(_playwright):
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; `make sysdeps` installs it.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    browser = _playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS + MEDIA_ARGS)
    yield browser
    browser.close()


def room_html(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    assert "data-call-start" in html and "room-call.js" in html, "the room page carries the call panel"
    return html


def serve_static(route) -> None:
    path = route.request.url.split("/static/", 1)[1].split("?", 1)[0]
    found = finders.find(path)
    if found is None:
        route.fulfill(status=404)
    else:
        route.fulfill(path=found)


def open_room(browser, origin: str, user, consultation):
    client = Client()
    client.force_login(user)
    url = reverse("consultations:room", args=[consultation.pk])
    context = browser.new_context(base_url=origin, viewport={"width": 1024, "height": 800})
    # Pages fulfilled by Playwright's router count as public to Chromium, which
    # then asks before they reach a loopback address (the daphne socket).
    context.grant_permissions(["camera", "microphone", "local-network-access"], origin=origin)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": origin,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.route(f"**{url}", lambda route: route.fulfill(body=room_html(client, url), content_type="text/html"))
    page.route("**/static/**", serve_static)
    page.goto(url)
    return page, errors


def wait_for_call_messages(count: int) -> list[Message]:
    deadline = time.monotonic() + 10
    while True:
        rows = list(Message.objects.filter(message_type=MessageType.CALL).order_by("created_at", "id"))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@pytest.mark.parametrize("mode", ["video", "audio"])
def test_a_call_connects_both_sides_and_its_hangup_is_recorded(daphne, media_browser, mode):
    from playwright.sync_api import expect

    consultation = ConsultationFactory(status="in_progress", mode=mode)
    doctor, doctor_errors = open_room(media_browser, daphne, consultation.doctor, consultation)
    patient, patient_errors = open_room(media_browser, daphne, consultation.patient, consultation)
    try:
        # call.config arrived: the panel shows for the call consultation. The
        # daphne process is fresh for this test, so its first sockets also load the
        # app: the page's 10 s, not expect's default 5 s.
        expect(doctor.locator("[data-call-panel]")).to_be_visible(timeout=10_000)
        expect(patient.locator("[data-call-panel]")).to_be_visible(timeout=10_000)

        doctor.get_by_role("button", name=f"Start {mode} call").click()
        expect(patient.locator("[data-call-incoming]")).to_be_visible()
        patient.get_by_role("button", name="Accept").click()
        expect(patient.locator("[data-call-incoming]")).to_be_hidden()

        for page in (doctor, patient):
            expect(page.locator("[data-call]")).to_have_attribute("data-state", "connected", timeout=CALL_TIMEOUT_MS)
            expect(page.locator("[data-call-timer]")).to_be_visible()
            if mode == "video":
                # Frames from the other side's fake camera are playing.
                page.wait_for_function(
                    "document.querySelector('[data-call-remote]').videoWidth > 0", timeout=CALL_TIMEOUT_MS
                )
            else:
                expect(page.get_by_role("button", name="Camera off")).to_be_hidden()
        screenshot(patient, f"call-{mode}-connected-patient")

        # Mute is a toggle the person can see.
        patient.get_by_role("button", name="Mute").click()
        expect(patient.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")

        doctor.get_by_role("button", name="Hang up").click()
        expect(doctor.locator("[data-call]")).to_have_attribute("data-state", "ended")
        expect(patient.locator("[data-call]")).to_have_attribute("data-state", "ended")
        expect(patient.locator("[data-call-state]")).to_contain_text("ended the call")
        # The record reaches both rooms as system messages.
        expect(patient.locator("[data-messages]")).to_contain_text(f"{mode.title()} call started")
        expect(patient.locator("[data-messages]")).to_contain_text("Call ended (")
        screenshot(patient, f"call-{mode}-ended-patient")
    finally:
        doctor.context.close()
        patient.context.close()

    started, ended = wait_for_call_messages(2)
    assert started.body == f"{mode.title()} call started"
    assert started.metadata["kind"] == mode
    assert re.fullmatch(r"Call ended \(\d\d:\d\d\)", ended.body)
    assert ended.metadata["reason"] == "hangup"
    assert doctor_errors == [] and patient_errors == []
