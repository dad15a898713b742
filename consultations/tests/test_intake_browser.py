"""The AI intake assistant in Chromium, on 390px phones.

A patient describes an eczema to the assistant from the dashboard: consent
(refused until the box is ticked), then every question of the homeopathic
order answered in the room, typed or tapped as a quick reply, until the case
is ready; "Book a doctor with this case" leads to the directory filtered by the
suggested specialisation, and the booking page carries the case. The doctor,
on a second phone, reads the assistant's summary and the whole conversation.
Another patient's emergency (in Hinglish) stops the case at once.

pytest-django's live server speaks HTTP only, so the room's script finds no
websocket (Chromium logs each refused attempt as a console error and the page
shows its offline banner) and the composer posts as a plain form; the server
runs the assistant's reply in the request (the immediate task backend), so
the page comes back with it. Those socket errors are the only ones forgiven.
The same journey over a real socket would need daphne sharing the test
database, as consultations/tests/test_room_browser.py does on MariaDB.

Every page on the way is checked as in the other journeys: no other console
errors or failed requests, nothing wider than the phone, no inline script or
style in the served HTML. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Page, expect

from consultations.intake.services import CONSENT_REQUIRED
from consultations.models import Consultation, ConsultationType, Message, Status
from consultations.tests.test_room_browser import Daphne, signed_in_cookie
from dhanwantari.testing.browser import assert_sound, phone_context, screenshot, sign_in, watch_for_problems
from doctors import services as doctor_services
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DASHBOARD = reverse("consultations:dashboard")
START = reverse("consultations:intake_start")
CONSENT = "I understand: the assistant takes my case for a doctor; it does not diagnose or prescribe."
COMPOSER = "Message to AI intake assistant"
SOCKET = "/ws/consultations/"
# Each question the assistant asks (a phrase only it contains), in the order
# it asks them, and the patient's answer: a quick reply is tapped when the
# answer is one of those shown, anything else is typed.
ECZEMA = (
    ("what is troubling you most", "Eczema on both hands, with itching"),
    ("Where exactly do you feel it", "Backs of both hands and between the fingers"),
    ("What does it feel like", "Itching"),
    ("When and how did it start", "About three months ago, after we changed the washing detergent"),
    ("How long have you had it", "Months"),
    ("How bad is it", "Moderate"),
    ("What makes it better", "Cold water, keeping my hands dry"),
    ("What makes it worse", "At night, wool, hot water and washing dishes"),
    ("Does anything else come with it", "The skin gets dry and cracks, and small blisters come"),
    ("another complaint", "No"),
    ("How is your appetite", "Good"),
    ("How thirsty", "Very thirsty"),
    ("foods or drinks you really crave", "Sweets"),
    ("food you dislike", "Milk"),
    ("How do you sleep", "I wake at night"),
    ("dreams that come again", "No dreams I remember"),
    ("the cold more, or the heat", "Hot"),
    ("How much do you sweat", "Normal"),
    ("How is your energy", "Tired in the evening"),
    ("How have you been feeling in yourself", "Irritable when the itching is bad, and I worry that it will spread"),
    ("Your profile lists allergies: Penicillin", "Yes, that's right"),
    ("medicines or supplements", "None"),
    ("long-term health conditions", "None"),
    ("past serious illnesses", "Typhoid as a child"),
    ("run in your family", "My mother has asthma and my father has diabetes"),
)
# Quick replies that are no answer: never tapped in these journeys.
NOT_ANSWERS = ("Skip", "Pause for now")
MAX_TURNS = len(ECZEMA) + 5
DONE = "Your case is ready for a doctor."


def watch(page: Page):
    return watch_for_problems(page, loopback=True)


def sound(page: Page, problems) -> None:
    """assert_sound, forgiving only the room's refused websocket (no ASGI server here; see the docstring)."""
    problems[:] = [p for p in problems if SOCKET not in p]
    assert_sound(page, problems)


def listed_doctor(**fields):
    """A verified doctor in the directory, with weekday hours (so free times to book)."""
    profile = DoctorProfileFactory(**fields)
    doctor_services.next_available_refresh(profile=profile)
    return profile


def assistant_bubbles(page: Page):
    return page.locator("[data-messages] .msg--theirs")


def last_assistant_id(page: Page) -> str:
    return assistant_bubbles(page).last.get_attribute("data-message-id")


def send(page: Page, words: str) -> bool:
    """Answer the assistant: tap the quick reply with these words if one is shown, else type them and Send.

    Waits until the page shows the assistant's next message. The room shows its
    latest 50 messages, so a finished case may show no more bubbles than before:
    a new last bubble is what is waited for. Returns whether a quick reply was tapped.
    """
    before = last_assistant_id(page)
    chip = page.locator("[data-chips]").get_by_role("button", name=words, exact=True)
    tapped = chip.count() == 1 and chip.is_visible()
    if tapped:
        chip.tap()
    else:
        page.get_by_label(COMPOSER).fill(words)
        page.get_by_role("button", name="Send", exact=True).tap()
    expect(assistant_bubbles(page).last).not_to_have_attribute("data-message-id", before)
    expect(page.locator("[data-messages] .msg--mine").last).to_contain_text(words)
    return tapped


def start_intake(page: Page, problems, *, shot: str = "") -> None:
    """From the consent page: tick the box, Start, and wait for the first question in the room."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Describe your problem")
    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name="Start", exact=True).tap()
    expect(page).to_have_url(re.compile(r"/consultations/[^/]+/room/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("AI intake assistant")
    expect(assistant_bubbles(page)).to_have_count(1)
    expect(assistant_bubbles(page).last).to_contain_text("In your own words, what is troubling you most?")
    expect(page.locator("[data-intake-disclaimer]")).to_contain_text("It does not diagnose or prescribe.")
    sound(page, problems)
    if shot:
        screenshot(page, shot)


def answer_every_question(page: Page, check, *, shot: str = "") -> None:
    """Answer each question as it comes, until the assistant says the case is ready.

    The questions must come in the order of ECZEMA; quick replies are tapped
    where one fits, the rest typed. `check` runs after every answer.
    """
    asked, tapped, typed = [], [], []
    for _ in range(MAX_TURNS):
        question = assistant_bubbles(page).last.locator(".msg__body").inner_text()
        if DONE in question:
            break
        matches = [(key, words) for key, words in ECZEMA if key.casefold() in question.casefold()]
        assert len(matches) == 1, f"not one known question in {question!r}: {matches}"
        key, words = matches[0]
        chips = page.locator("[data-chips] [data-chip]").all_inner_texts()
        assert words not in NOT_ANSWERS
        if shot and key == "How bad is it":
            screenshot(page, shot)
        (tapped if send(page, words) else typed).append(words)
        assert words not in chips or words in tapped, f"{words!r} was shown as a quick reply but typed"
        asked.append(key)
        check()
    assert asked == [key for key, _ in ECZEMA]
    # Both ways of answering were used: quick replies where they fit, typing where they do not.
    assert {"Itching", "Months", "Moderate", "No", "Hot", "Yes, that's right"} <= set(tapped)
    assert {"Backs of both hands and between the fingers", "Cold water, keeping my hands dry"} <= set(typed)


def test_a_patient_describes_the_problem_and_books_a_doctor_with_the_case(
    phone_page: Page, second_phone: Page, settings
):
    settings.EMERGENCY_NUMBER = "112"
    patient = PatientProfileFactory(
        full_name="Meera Iyer",
        allergies=[{"name": "Penicillin", "severity": "severe"}],
        medications=[],
        chronic_conditions=[],
    ).user
    doctor = listed_doctor(full_name="Dr. Asha Kulkarni", specializations=["dermatology", "classical"])
    listed_doctor(full_name="Dr. Ravi Menon", specializations=["digestive"])

    home = phone_page
    problems = watch(home)
    sign_in(home, patient.email)

    # The dashboard offers the assistant; its page says what it is and is not.
    home.goto(DASHBOARD)
    home.locator("[data-start-intake]").tap()
    expect(home.get_by_role("heading", level=1)).to_have_text("Describe your problem")
    expect(home.locator('[data-emergency-note] a[href="tel:112"]')).to_be_visible()
    sound(home, problems)

    # Start without ticking the box: refused, the error by the box, nothing started.
    home.get_by_role("button", name="Start", exact=True).tap()
    box = home.get_by_label(CONSENT)
    field = home.locator(".field--check", has=box)
    expect(field.locator(".field__error")).to_have_text(CONSENT_REQUIRED)
    expect(box).not_to_be_checked()
    assert not Consultation.objects.filter(patient=patient).exists()
    sound(home, problems)
    screenshot(home, "intake-consent-error-phone")

    start_intake(home, problems, shot="intake-first-question-phone")
    intake = Consultation.objects.get(patient=patient, consultation_type=ConsultationType.AI)
    assert (intake.status, intake.fee_amount) == (Status.IN_PROGRESS, 0)

    # Every question, in the homeopathic order, until the case is ready.
    answer_every_question(home, lambda: sound(home, problems), shot="intake-quick-replies-phone")

    # The case is ready: the hand-off shows, the composer is gone.
    done = home.locator("[data-intake-done]")
    expect(done).to_be_visible()
    expect(assistant_bubbles(home).last).to_contain_text(DONE)
    expect(home.locator("[data-composer]")).to_have_count(0)
    expect(home.locator("[data-chips]")).to_have_count(0)
    sound(home, problems)
    screenshot(home, "intake-done-phone")
    intake.refresh_from_db()
    assert intake.status == Status.COMPLETED
    assert intake.symptoms["intake"]["state"] == "done"
    assert intake.symptoms["suggested_specializations"][0] == "dermatology"
    assert intake.symptoms["profile_confirmed"]["allergies"] == "Penicillin"
    complaint = intake.symptoms["complaints"][0]
    assert (complaint["sensation"], complaint["duration"], complaint["severity"]) == ("Itching", "Months", "moderate")
    assert complaint["modalities"]["worse"] == ["At night", "wool", "hot water", "washing dishes"]
    assert intake.triage_level == "routine"
    assert "Eczema on both hands, with itching" in intake.ai_summary

    # "Book a doctor with this case": the directory, filtered by the suggested specialisation.
    done.get_by_role("button", name="Book a doctor with this case").tap()
    expect(home).to_have_url(re.compile(r"/doctors/\?specialization=dermatology$"))
    expect(home.get_by_text("Your case will be attached when you book. Choose a doctor.")).to_be_visible()
    expect(home.get_by_role("link", name="Dr. Asha Kulkarni")).to_be_visible()
    expect(home.get_by_role("link", name="Dr. Ravi Menon")).to_have_count(0)
    sound(home, problems)
    screenshot(home, "intake-directory-phone")

    # The doctor's page, the first free time, and the booking form with the case.
    home.get_by_role("link", name="Dr. Asha Kulkarni").tap()
    expect(home.get_by_role("heading", level=1)).to_have_text("Dr. Asha Kulkarni")
    sound(home, problems)
    home.locator(".doc-slot__link").first.tap()
    expect(home.get_by_role("heading", level=1)).to_have_text("Book a consultation")
    handed = home.locator("[data-handed-intake]")
    expect(handed).to_be_visible()
    expect(handed.get_by_label(re.compile(r"^Attach the case the assistant took"))).to_be_checked()
    expect(home.get_by_label("What is the main problem?")).to_have_value("Eczema on both hands, with itching")
    expect(home.get_by_label("Since when?")).to_have_value("Months")
    expect(home.get_by_label("How bad is it?")).to_have_value("moderate")
    home.get_by_label("Video call").check()
    home.get_by_label("I agree to the fee and the cancellation policy").check()
    sound(home, problems)
    screenshot(home, "intake-book-phone")
    home.get_by_role("button", name="Book consultation").tap()
    expect(home.get_by_role("heading", level=1)).to_have_text("Payment")
    sound(home, problems)
    screenshot(home, "intake-booked-pay-phone")

    booking = Consultation.objects.get(patient=patient, doctor=doctor.user)
    assert booking.intake_id == intake.pk
    assert booking.ai_summary == intake.ai_summary
    assert (booking.mode, booking.status) == ("video", "scheduled")
    assert booking.symptoms["source"] == "ai_intake"

    # The doctor, on her phone, reads the assistant's summary and the whole conversation.
    clinic = second_phone
    clinic_problems = watch(clinic)
    sign_in(clinic, doctor.user.email)
    clinic.goto(reverse("consultations:detail", args=[booking.pk]))
    expect(clinic.get_by_role("heading", level=1)).to_have_text("Meera Iyer")
    summary = clinic.locator("[data-ai-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Case summary (taken by the AI intake assistant; not a diagnosis)")
    expect(summary).to_contain_text("Eczema on both hands, with itching")
    expect(summary).to_contain_text("Allergies: Penicillin")
    sound(clinic, clinic_problems)
    screenshot(clinic, "intake-doctor-summary-phone")
    clinic.get_by_role("link", name="Read the whole conversation with the assistant").tap()
    expect(clinic.get_by_role("heading", level=1)).to_have_text("Intake conversation")
    patient_words = clinic.locator(".msg--mine")
    expect(patient_words).to_have_count(len(ECZEMA))
    expect(patient_words.first).to_contain_text("Eczema on both hands, with itching")
    expect(clinic.get_by_text("About three months ago, after we changed the washing detergent")).to_be_visible()
    expect(clinic.locator(".msg--theirs").first).to_contain_text("Namaste!")
    sound(clinic, clinic_problems)
    screenshot(clinic, "intake-doctor-transcript-phone")


def test_an_emergency_message_stops_the_case_at_once(phone_page: Page, settings):
    settings.EMERGENCY_NUMBER = "112"
    patient = PatientProfileFactory(full_name="Rahul Verma").user

    page = phone_page
    problems = watch(page)
    sign_in(page, patient.email)
    page.goto(START)
    start_intake(page, problems)

    send(page, "Itchy rash on my hands for two weeks")
    expect(assistant_bubbles(page).last).to_contain_text("Where exactly do you feel it?")
    sound(page, problems)

    send(page, "mere seene mein tez dard hai aur pasina aa raha hai")
    emergency = page.locator("[data-intake-emergency]")
    expect(emergency).to_be_visible()
    expect(emergency.locator('a[href="tel:112"]').first).to_be_visible()
    expect(emergency.get_by_role("link", name="Call 112")).to_have_attribute("href", "tel:112")
    expect(page.locator("[data-composer]")).to_have_count(0)
    expect(page.locator("[data-chips]")).to_have_count(0)
    last = assistant_bubbles(page).last
    expect(last).to_contain_text("This could be a medical emergency")
    assert "?" not in last.locator(".msg__body").inner_text()
    sound(page, problems)
    screenshot(page, "intake-emergency-phone")

    intake = Consultation.objects.get(patient=patient, consultation_type=ConsultationType.AI)
    assert (intake.triage_level, intake.status) == ("emergency", Status.COMPLETED)
    assert intake.symptoms["intake"]["state"] == "emergency"
    rows = list(Message.objects.filter(consultation=intake).select_related("sender").order_by("created_at", "id"))
    said = next(n for n, m in enumerate(rows) if m.body.startswith("mere seene"))
    after = rows[said + 1 :]
    assert [m.sender.email for m in after] == [settings.AI_ASSISTANT_EMAIL]
    assert after[0].body.startswith("This could be a medical emergency")


# --- live, over the room's websocket, where daphne can share the test database ----------------------------


@pytest.fixture
def daphne(tmp_path):
    """daphne serving pages and socket, as in consultations/tests/test_room_browser.py (MySQL/MariaDB only).

    The default message rate limit: an intake's allowance (consumers.INTAKE_PACE)
    takes 25 answers given within seconds.
    """
    if connection.vendor != "mysql":
        pytest.skip("needs a MySQL/MariaDB test database a daphne process can share (see test_room_browser.py)")
    server = Daphne(tmp_path)
    server.env.update({"EMERGENCY_NUMBER": "112"})
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_a_patient_describes_the_problem_live_and_the_page_turns_to_the_hand_off(browser, daphne):
    patient = PatientProfileFactory(
        full_name="Meera Iyer",
        allergies=[{"name": "Penicillin", "severity": "severe"}],
        medications=[],
        chronic_conditions=[],
    ).user
    context = phone_context(browser, daphne.url)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        # loopback: pages served through Playwright's router count as public, and
        # Chromium then blocks their socket to 127.0.0.1 unless allowed.
        problems = watch_for_problems(page, loopback=True)
        # By cookie: daphne keeps production's password hashers, not the fast test hash.
        context.add_cookies([signed_in_cookie(patient, daphne.url)])
        page.goto(START)
        start_intake(page, problems)
        expect(page.locator('[data-room][data-intake="true"]')).to_have_class(re.compile(r"\broom--live\b"))
        expect(page.locator("[data-offline]")).to_be_hidden()
        # Every answer goes over the socket: the page is never reloaded until the case is done.
        page.evaluate("window.sameRoomPage = true")

        def still_live() -> None:
            assert page.evaluate("window.sameRoomPage === true"), "the room page was reloaded mid-case"
            assert_sound(page, problems)

        answer_every_question(page, still_live, shot="intake-live-quick-replies-phone")

        # The room closes: the page draws itself again with the hand-off.
        expect(page.locator("[data-intake-done]")).to_be_visible()
        expect(page.get_by_role("button", name="Book a doctor with this case")).to_be_visible()
        expect(page.locator("[data-composer]")).to_have_count(0)
        # The closed page stays put: its socket hears "readonly" on connect, which
        # must not draw it again (that reloaded the page every half second).
        page.evaluate("window.donePage = true")
        page.wait_for_timeout(1500)
        assert page.evaluate("window.donePage === true"), "the closed intake page reloaded itself"
        assert_sound(page, problems)
        screenshot(page, "intake-live-done-phone")
    finally:
        context.close()

    intake = Consultation.objects.get(patient=patient, consultation_type=ConsultationType.AI)
    assert (intake.status, intake.symptoms["intake"]["state"]) == (Status.COMPLETED, "done")
    assert intake.symptoms["suggested_specializations"][0] == "dermatology"
    said = list(Message.objects.filter(consultation=intake, sender=patient).values_list("body", flat=True))
    assert sorted(said) == sorted(words for _, words in ECZEMA)
