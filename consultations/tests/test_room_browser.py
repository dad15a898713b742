"""The consultation room in Chromium, on phones.

Two journeys, because the room has two ways of working:

- Reading and writing without JavaScript (`test_the_room_works_without_javascript`)
  runs everywhere, on pytest-django's `live_server`. That server speaks HTTP
  only, so the page is opened with JavaScript off: exactly the case it proves
  (the history, the "older messages" cursor, the plain POST composer).

- The live room (`test_patient_and_doctor_talk_live`) needs a websocket server.
  pytest-django's live server has none, so the test starts daphne, the ASGI
  server production runs for /ws/, in a subprocess on a free port and points
  both phones at it (pages and socket from one origin, as in `make run`). The
  subprocess must read the rows this test creates, so it is given the test
  database's URL (transaction=True: the rows are committed). On SQLite
  pytest-django's test database is in memory, private to this process, so the
  journey runs only on a MySQL/MariaDB test database (the CI run, `make
  test-mysql`), like consultations/tests/test_two_daphne.py, and skips
  otherwise. The alternative, an ASGI server on a thread of this process
  sharing the in-memory SQLite database, was not taken: SQLite's shared-cache
  mode locks whole tables across connections, which the consumer's thread
  pool would trip over, and a test that is flaky on SQLite is worse than one
  that runs where the real pieces are. daphne runs with DEBUG on only so that
  it serves the static files from the source tree (no collectstatic manifest).
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from consultations import messaging
from consultations.models import Message, MessageType
from consultations.tests.factories import ConsultationFactory, MessageFactory
from consultations.tests.test_two_daphne import DAPHNE, free_port, test_database_url, wait_for_port
from dhanwantari.testing.browser import (
    PHONE,
    assert_sound,
    phone_context,
    screenshot,
    sign_in,
    watch_for_problems,
)
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory
from records.models import FileUpload
from records.tests.factories import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 15_000


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


@pytest.fixture
def doctor():
    return DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user


# --- without JavaScript, anywhere --------------------------------------------------------------


def test_the_room_works_without_javascript(browser, live_server, patient, doctor):
    consultation = ConsultationFactory(patient=patient, doctor=doctor, mode="chat", status="in_progress")
    for n in range(55):
        MessageFactory(
            consultation=consultation,
            sender=patient if n % 2 else doctor,
            body=f"Earlier message {n:02d}",
        )
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        problems = watch_for_problems(page)
        sign_in(page, patient.email)
        page.goto(reverse("consultations:room", args=[consultation.pk]))
        expect(page.get_by_role("heading", name="Dr. Asha Kulkarni")).to_be_visible()
        expect(page.get_by_text("Earlier message 54")).to_be_visible()
        expect(page.get_by_text("Earlier message 04", exact=True)).to_have_count(0)
        assert_sound(page, problems)
        screenshot(page, "room-no-js-patient-phone")

        page.get_by_role("link", name="Older messages").click()
        expect(page.get_by_text("Earlier message 04", exact=True)).to_be_visible()
        expect(page.get_by_text("Earlier message 54")).to_have_count(0)
        page.get_by_role("link", name="Back to the latest messages").click()

        page.get_by_label("Message to Dr. Asha Kulkarni").fill("Sent without JavaScript")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator(".msg--mine").last).to_contain_text("Sent without JavaScript")
        expect(page.locator(".msg--mine").last).to_contain_text("Sent")
        assert_sound(page, problems)
    finally:
        context.close()
    assert Message.objects.filter(sender=patient, body="Sent without JavaScript").exists()


# --- live, where daphne can share the test database ----------------------------------------------


class Daphne:
    """One daphne process serving the project on a fixed port; `restart` drops every socket."""

    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "dhanwantari.settings",
            "DEBUG": "true",
            "MEDIA_ROOT": str(tmp_path / "media"),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.tmp_path / "daphne-room.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [str(DAPHNE), "-b", "127.0.0.1", "-p", str(self.port), "dhanwantari.asgi:application"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process, self.tmp_path)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def daphne(tmp_path):
    if connection.vendor != "mysql":
        pytest.skip("needs a MySQL/MariaDB test database a daphne process can share (see the module docstring)")
    server = Daphne(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def signed_in_cookie(user, url: str) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


def test_patient_and_doctor_talk_live(browser, daphne, patient, doctor, tmp_path):
    daphne_url = daphne.url
    consultation = ConsultationFactory(patient=patient, doctor=doctor, mode="video", status="in_progress")
    for n in range(52):
        # Not messaging.system_message: its broadcast runs async_to_sync, which
        # refuses this thread (Playwright's loop); nobody is connected yet anyway.
        MessageFactory(
            consultation=consultation, sender=None, message_type=MessageType.SYSTEM, body=f"Earlier note {n:02d}"
        )
    room = reverse("consultations:room", args=[consultation.pk])
    home_context, clinic_context = phone_context(browser, daphne_url), phone_context(browser, daphne_url)
    try:
        home, clinic = home_context.new_page(), clinic_context.new_page()
        for page in (home, clinic):
            page.set_default_timeout(WAIT_MS)
        # loopback: pages served through Playwright's router count as public,
        # and Chromium then blocks their socket to 127.0.0.1 unless allowed.
        home_problems = watch_for_problems(home, loopback=True)
        clinic_problems = watch_for_problems(clinic, loopback=True)
        # Signed in by cookie: the daphne process keeps production's password
        # hashers and cannot check the fast test hash the factories wrote.
        home_context.add_cookies([signed_in_cookie(patient, daphne_url)])
        clinic_context.add_cookies([signed_in_cookie(doctor, daphne_url)])
        home.goto(room)
        clinic.goto(room)

        # Each sees the other arrive; nothing warns of anything.
        expect(home.locator("[data-presence]")).to_have_text("Online")
        expect(clinic.locator("[data-presence]")).to_have_text("Online")
        for page in (home, clinic):
            for quiet in ("[data-offline]", "[data-room-alert]", "[data-readonly]", "[data-attach-submit]"):
                expect(page.locator(quiet)).to_be_hidden()

        # The patient types: the doctor sees it.
        home.get_by_label("Message to Dr. Asha Kulkarni").press_sequentially("The headache")
        expect(clinic.get_by_text("Meera Iyer is typing…")).to_be_visible()
        home.get_by_label("Message to Dr. Asha Kulkarni").press_sequentially(" is back since Monday")
        home.get_by_role("button", name="Send", exact=True).tap()

        # It reaches the doctor live; the doctor's screen shows it, so it is read.
        expect(clinic.locator(".msg--theirs").last).to_contain_text("The headache is back since Monday")
        expect(clinic.get_by_text("Meera Iyer is typing…")).to_be_hidden()
        mine = home.locator(".msg--mine").last
        expect(mine).to_contain_text("The headache is back since Monday")
        expect(mine.locator("[data-ticks]")).to_have_text("✓✓ Read")

        # The doctor answers.
        clinic.get_by_label("Message to Meera Iyer").fill("Is it worse in the sun?")
        clinic.get_by_role("button", name="Send", exact=True).tap()
        expect(home.locator(".msg--theirs").last).to_contain_text("Is it worse in the sun?")
        expect(clinic.locator(".msg--mine").last.locator("[data-ticks]")).to_have_text("✓✓ Read")

        # The patient sends a photo: both see it as an image from the records view.
        photo = tmp_path / "rash.png"
        photo.write_bytes(image_bytes())
        home.locator("[data-attach-input]").set_input_files(str(photo))
        image = clinic.locator(".msg--theirs .msg__image img").last
        expect(image).to_be_visible()
        expect(image).to_have_attribute("alt", "rash.png")
        expect(image).to_have_attribute("src", re.compile(r"^/records/files/.+/thumbnail/$"))
        assert clinic.evaluate("img => img.naturalWidth", image.element_handle()) > 0
        expect(home.locator(".msg--mine .msg__image img")).to_have_count(1)

        for page, problems in ((home, home_problems), (clinic, clinic_problems)):
            assert_sound(page, problems)
        screenshot(home, "room-live-patient-phone")
        screenshot(clinic, "room-live-doctor-phone")

        # The server goes away: both phones say they are offline and keep
        # trying. What is written meanwhile arrives once, in order, after the
        # reconnect (resync after the last id each phone has).
        daphne.stop()
        expect(home.locator("[data-offline]")).to_be_visible()
        expect(clinic.locator("[data-offline]")).to_be_visible()
        for n in (1, 2):
            messaging.message_send(consultation=consultation, sender=doctor, body=f"While you were away {n}")
        daphne.start()
        expect(home.locator("[data-offline]")).to_be_hidden()
        expect(clinic.locator("[data-offline]")).to_be_hidden()
        expect(home.locator(".msg--theirs").last).to_contain_text("While you were away 2")
        for page in (home, clinic):
            expect(page.get_by_text("While you were away 1")).to_have_count(1)
            expect(page.get_by_text("While you were away 2")).to_have_count(1)
        away = home.locator(".msg--theirs").all_text_contents()[-2:]
        assert "While you were away 1" in away[0] and "While you were away 2" in away[1]
        # Chromium reports each refused reconnect attempt as a console error:
        # expected while the server was down, and only then.
        for problems in (home_problems, clinic_problems):
            problems[:] = [p for p in problems if "/ws/consultations/" not in p]
        assert_sound(home, home_problems)

        # Scrolling to the top loads the older messages over the socket, once.
        expect(home.get_by_text("Earlier note 01", exact=True)).to_have_count(0)
        home.locator("[data-log]").evaluate("log => { log.scrollTop = 0; }")
        expect(home.get_by_text("Earlier note 01", exact=True)).to_have_count(1)
        expect(home.get_by_text("Earlier note 00", exact=True)).to_have_count(1)
        expect(home.locator("[data-older]")).to_have_count(0)
        assert_sound(home, home_problems)

        # The doctor completes the consultation: the patient's open room turns
        # read-only at once, without a reload.
        clinic.goto(reverse("consultations:detail", args=[consultation.pk]))
        clinic.get_by_role("button", name="Complete").tap()
        expect(clinic.get_by_text("The consultation is complete.")).to_be_visible()
        expect(home.locator("[data-readonly]")).to_be_visible()
        expect(home.locator("[data-readonly]")).to_have_text(
            "This consultation is completed, so its chat is read-only."
        )
        expect(home.locator("[data-composer]")).to_be_hidden()
        assert_sound(home, home_problems)
        screenshot(home, "room-read-only-patient-phone")
    finally:
        home_context.close()
        clinic_context.close()

    kinds = list(
        Message.objects.filter(consultation=consultation, sender__isnull=False).values_list("message_type", flat=True)
    )
    assert kinds == [MessageType.TEXT, MessageType.TEXT, MessageType.ATTACHMENT, MessageType.TEXT, MessageType.TEXT]
    assert Message.objects.get(sender=patient, message_type=MessageType.TEXT).read_at is not None
    assert FileUpload.objects.get().consultation_id == consultation.pk
