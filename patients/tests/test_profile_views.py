"""The patient's profile pages: /account/profile/ shows it, /account/profile/edit/ edits it.

Forms are submitted as a browser would: the edit page is fetched, every input
it renders is read back (tests/test_profile_views.py:page_form), a few values
are changed, and the lot is posted. So the tests break if the page stops
rendering a field the save needs.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.test import Client
from django.test.html import Element, parse_html
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminLog, AuditAction
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory, StaffUserFactory
from patients import forms
from patients.models import PatientProfile
from patients.services import REDACTED
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

PROFILE = reverse("patients:profile")
EDIT = reverse("patients:profile_edit")


# --- helpers -------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would submit from the page's one POST form (templates ignored)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._in_form = self._in_template = False
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "profile-form":
            self._in_form = True
        if tag == "template":
            self._in_template = True
        if not self._in_form or self._in_template:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[a["name"]] = a.get("value") or "on"
            else:
                self.data[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.data.setdefault(self._select, value)
            if "selected" in a:
                self.data[self._select] = value
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template = False
        elif tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._in_form and not self._in_template:
            # A textarea's first newline is not part of its value.
            self.data[self._textarea] += data.removeprefix("\n") if not self.data[self._textarea] else data


def page_form(response) -> dict[str, str]:
    assert response.status_code == 200
    reader = _FormReader()
    reader.feed(response.content.decode())
    assert reader.data, "no profile form on the page"
    return reader.data


def edit_form(client: Client, **changes: str) -> dict[str, str]:
    data = page_form(client.get(EDIT))
    data.update(changes)
    return data


def find_all(node, predicate) -> list[Element]:
    found = []
    for child in getattr(node, "children", []):
        if isinstance(child, Element):
            if predicate(child):
                found.append(child)
            found.extend(find_all(child, predicate))
    return found


def attr(element: Element, name: str) -> str | None:
    return dict(element.attributes).get(name)


def has_class(element: Element, name: str) -> bool:
    return name in (attr(element, "class") or "").split()


def text_of(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(text_of(child) for child in node.children)


def assert_error_beside(response, input_id: str, message: str) -> None:
    """The message sits in the .field box of that input, which is marked as wrong."""
    page = parse_html(response.content.decode())
    (control,) = find_all(page, lambda e: attr(e, "id") == input_id)
    assert attr(control, "aria-invalid") == "true", input_id
    assert f"{input_id}_error" in attr(control, "aria-describedby").split()
    boxes = [
        box
        for box in find_all(page, lambda e: has_class(e, "field"))
        if find_all(box, lambda e: attr(e, "id") == input_id)
    ]
    box = boxes[-1]  # the innermost
    assert has_class(box, "field--error")
    (errors,) = find_all(box, lambda e: attr(e, "id") == f"{input_id}_error")
    assert message in " ".join(text_of(errors).split()), text_of(errors)


def error_summary(response) -> str:
    page = parse_html(response.content.decode())
    (summary,) = find_all(page, lambda e: attr(e, "data-error-summary") is not None)
    return " ".join(text_of(summary).split())


def snapshot(profile: PatientProfile) -> dict:
    return PatientProfile.all_objects.filter(pk=profile.pk).values().get()


def assert_ready_for_csp(response) -> None:
    content = response.content.decode()
    assert "style=" not in content
    assert not re.search(r"<script(?![^>]*\ssrc=)", content), "inline <script>"


@pytest.fixture
def profile() -> PatientProfile:
    return PatientProfileFactory(
        full_name="Asha Rao",
        allergies=[{"name": "Pollen", "severity": "moderate"}],
        medications=[{"name": "XYZ", "dosage": "5mg", "frequency": "daily"}],
        chronic_conditions=[],
        postal_code="411001",
    )


@pytest.fixture
def patient_client(client, profile) -> Client:
    client.force_login(profile.user)
    return client


# --- the profile page ----------------------------------------------------------------------


@time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=UTC), tick=False)
def test_the_profile_page_shows_age_bmi_and_every_section(patient_client, profile):
    PatientProfile.objects.filter(pk=profile.pk).update(
        allergies=[{"name": "Peanuts", "severity": "life_threatening", "reaction": "throat swells"}],
        medical_history="Typhoid in 2010.",
        emergency_contact_name="Ravi Rao",
        emergency_contact_phone="+919812345678",
        emergency_contact_relation="husband",
        preferred_language="mr",
    )

    response = patient_client.get(PROFILE)

    assert response.status_code == 200
    content = response.content.decode()
    text = " ".join(text_of(parse_html(content)).split())
    assert "36 years" in text  # born 17 May 1990
    assert "17 May 1990" in text
    assert "22.1" in text  # 58 kg at 162 cm
    assert "162 cm · 58 kg" in text.replace("\xa0", " ")
    assert "Life-threatening" in text and "Reaction: throat swells" in text
    assert "XYZ" in text and "5mg · daily" in text
    assert "Typhoid in 2010." in text
    assert "Marathi" in text
    assert "+91 98123 45678" in text
    assert 'href="tel:+919812345678"' in content
    assert "Pune, Maharashtra 411001" in text
    assert f'href="{EDIT}"' in content
    assert 'href="/static/css/patients.css"' in content
    assert_ready_for_csp(response)


# 00:30 on 1 June in India is still 31 May in UTC, the date the model reckons age on.
@time_machine.travel(datetime(2026, 5, 31, 19, 0, tzinfo=UTC), tick=False)
def test_a_baby_born_today_in_india_is_accepted_and_shown_as_0_years_old(patient_client, profile):
    response = patient_client.post(EDIT, edit_form(patient_client, date_of_birth="2026-06-01"))

    assert response.status_code == 302
    text = " ".join(text_of(parse_html(patient_client.get(PROFILE).content.decode())).split())
    assert "0 years" in text
    assert "-1" not in text


def test_a_patient_without_a_profile_is_invited_to_fill_it_in(client):
    patient = PatientUserFactory()
    client.force_login(patient)

    response = client.get(PROFILE)

    assert response.status_code == 200
    assert "Your health profile is empty" in response.content.decode()
    assert not PatientProfile.all_objects.filter(user=patient).exists()


def test_the_profile_page_runs_a_fixed_number_of_queries(patient_client, profile, django_assert_max_num_queries):
    many = [{"name": f"Item {n}", "since": "2020", "notes": "noted"} for n in range(50)]
    PatientProfile.objects.filter(pk=profile.pk).update(
        allergies=[{"name": f"Allergen {n}", "severity": "mild"} for n in range(50)],
        medications=[{"name": f"Medicine {n}", "dosage": "5mg"} for n in range(50)],
        chronic_conditions=many,
    )
    patient_client.get(PROFILE)  # the session's first request writes its idle clock

    # 1 session, 2 user, 3 profile (the header's name reuses it), 4 unread count in the header
    with django_assert_max_num_queries(4):
        response = patient_client.get(PROFILE)
    assert "Allergen 49" in response.content.decode()


def test_the_profile_page_answers_get_only(patient_client):
    assert patient_client.post(PROFILE).status_code == 405


# --- the edit page: showing it -----------------------------------------------------------------


def test_the_edit_page_is_filled_in_with_the_saved_profile(patient_client):
    response = patient_client.get(EDIT)

    data = page_form(response)
    assert data["full_name"] == "Asha Rao"
    assert data["date_of_birth"] == "1990-05-17"
    assert data["height_cm"] == "162"
    assert data["blood_group"] == "B+"
    assert data["allergies-0-name"] == "Pollen"
    assert data["allergies-0-severity"] == "moderate"
    assert data["allergies-1-name"] == ""  # a blank row to add one without JavaScript
    assert data["allergies-TOTAL_FORMS"] == "3"
    assert data["medications-0-dosage"] == "5mg"
    assert data["conditions-TOTAL_FORMS"] == "2"
    assert data["country"] == "IN"
    content = response.content.decode()
    # The script and its hidden button, and the row template it clones.
    assert '<script type="module" src="/static/js/profile-rows.js"></script>' in content
    assert "data-rows-add hidden" in content
    assert 'name="allergies-__prefix__-name"' in content
    assert_ready_for_csp(response)


def test_the_edit_page_runs_a_fixed_number_of_queries(patient_client, django_assert_max_num_queries):
    patient_client.get(EDIT)

    # 1 session, 2 user, 3 profile, 4 unread count in the header
    with django_assert_max_num_queries(4):
        patient_client.get(EDIT)


def test_the_edit_page_answers_get_and_post_only(patient_client):
    assert patient_client.put(EDIT).status_code == 405
    assert patient_client.delete(EDIT).status_code == 405


# --- the edit page: saving -----------------------------------------------------------------------


def test_a_patient_edits_every_field(patient_client, profile):
    data = edit_form(
        patient_client,
        full_name="  Asha   R. Rao ",
        date_of_birth="1988-02-29",
        gender="other",
        height_cm="170",
        weight_kg="68.25",
        blood_group="AB-",
        medical_history="Typhoid in 2010.\nAppendix removed in 2015.",
        family_history="Diabetes (father).",
        emergency_contact_name="Ravi Rao",
        emergency_contact_phone="98123 45678",
        emergency_contact_relation="husband",
        preferred_language="ta",
        address_line1="12 Lakshmi Road",
        address_line2="Deccan Gymkhana",
        city="Pune",
        state="Maharashtra",
        postal_code="411 004",
        country="IN",
    )
    data.update(
        {
            # the saved allergy changes; a blank row becomes a second one; the other stays blank
            "allergies-0-severity": "severe",
            "allergies-0-reaction": "sneezing",
            "allergies-1-name": " House  dust ",
            "allergies-1-severity": "",
            "medications-0-frequency": "twice a day",
            "medications-1-name": "Thyroxine",
            "medications-1-dosage": "50 mcg",
            "medications-1-since": "2019",
            "medications-1-notes": "before breakfast",
            "conditions-0-name": "Hypothyroidism",
            "conditions-0-since": "2019",
        }
    )

    response = patient_client.post(EDIT, data)

    assert response.status_code == 302
    assert response.url == PROFILE
    saved = PatientProfile.objects.get(pk=profile.pk)
    assert saved.full_name == "Asha R. Rao"
    assert saved.date_of_birth.isoformat() == "1988-02-29"
    assert (saved.gender, saved.blood_group) == ("other", "AB-")
    assert (saved.height_cm, saved.weight_kg) == (Decimal("170.0"), Decimal("68.3"))
    assert saved.bmi == Decimal("23.63")
    assert saved.allergies == [
        {"name": "Pollen", "severity": "severe", "reaction": "sneezing"},
        {"name": "House dust"},
    ]
    assert saved.medications == [
        {"name": "XYZ", "dosage": "5mg", "frequency": "twice a day"},
        {"name": "Thyroxine", "dosage": "50 mcg", "since": "2019", "notes": "before breakfast"},
    ]
    assert saved.chronic_conditions == [{"name": "Hypothyroidism", "since": "2019"}]
    assert saved.medical_history == "Typhoid in 2010.\nAppendix removed in 2015."
    assert saved.family_history == "Diabetes (father)."
    assert (saved.emergency_contact_name, saved.emergency_contact_relation) == ("Ravi Rao", "husband")
    assert saved.emergency_contact_phone == "+919812345678"
    assert saved.preferred_language == "ta"
    assert (saved.address_line1, saved.address_line2, saved.city, saved.state) == (
        "12 Lakshmi Road",
        "Deccan Gymkhana",
        "Pune",
        "Maharashtra",
    )
    assert (saved.postal_code, saved.country) == ("411004", "IN")

    page = patient_client.get(response.url).content.decode()
    assert "Your profile is saved." in page
    assert "23.6" in page


def test_the_saved_profile_reads_back_unchanged_when_posted_as_is(patient_client, profile):
    before = snapshot(profile)

    response = patient_client.post(EDIT, edit_form(patient_client))

    assert response.status_code == 302
    assert snapshot(profile) == before
    assert not AdminLog.objects.filter(table_name="patient_profiles").exists()


def test_ticking_remove_takes_a_row_off(patient_client, profile):
    PatientProfile.objects.filter(pk=profile.pk).update(
        allergies=[{"name": "Pollen", "severity": "moderate"}, {"name": "Dust"}, {"name": "Cats"}]
    )

    response = patient_client.post(EDIT, edit_form(patient_client, **{"allergies-1-DELETE": "on"}))

    assert response.status_code == 302
    assert PatientProfile.objects.get(pk=profile.pk).allergies == [
        {"name": "Pollen", "severity": "moderate"},
        {"name": "Cats"},
    ]


def test_removing_every_row_empties_the_list(patient_client, profile):
    response = patient_client.post(
        EDIT, edit_form(patient_client, **{"allergies-0-DELETE": "on", "medications-0-DELETE": "on"})
    )

    assert response.status_code == 302
    saved = PatientProfile.objects.get(pk=profile.pk)
    assert (saved.allergies, saved.medications) == ([], [])


def test_a_row_ticked_for_removal_is_not_validated(patient_client, profile):
    data = edit_form(patient_client, **{"allergies-1-severity": "mild", "allergies-1-DELETE": "on"})

    response = patient_client.post(EDIT, data)

    assert response.status_code == 302
    assert PatientProfile.objects.get(pk=profile.pk).allergies == [{"name": "Pollen", "severity": "moderate"}]


def test_a_row_added_by_the_script_is_saved(patient_client, profile):
    # "Add another" clones the empty form with the next index and bumps TOTAL_FORMS.
    data = edit_form(patient_client, **{"allergies-3-name": "Peanuts", "allergies-TOTAL_FORMS": "4"})

    patient_client.post(EDIT, data)

    assert PatientProfile.objects.get(pk=profile.pk).allergies[-1] == {"name": "Peanuts"}


def test_the_save_is_written_to_the_audit_trail_without_the_medical_text(patient_client, profile):
    data = edit_form(
        patient_client,
        city="Nashik",
        medical_history="Typhoid in 2010.",
        family_history="Asthma (sister).",
        **{"allergies-1-name": "Penicillin", "allergies-1-reaction": "anaphylaxis"},
    )

    patient_client.post(EDIT, data, HTTP_USER_AGENT="pytest-browser")

    (log,) = AdminLog.objects.filter(table_name="patient_profiles", record_id=profile.pk)
    assert log.action == AuditAction.UPDATE
    assert log.user == profile.user
    assert log.old_values["city"] == "Pune" and log.new_values["city"] == "Nashik"
    assert log.new_values["medical_history"] == REDACTED
    assert log.new_values["allergies"] == REDACTED
    assert log.user_agent == "pytest-browser"
    stored = json.dumps([log.old_values, log.new_values, log.description])
    for text in ("Typhoid", "Asthma", "Penicillin", "anaphylaxis", "Pollen"):
        assert text not in stored


def test_a_patient_without_a_profile_gets_one_on_first_save(client):
    patient = PatientUserFactory()
    client.force_login(patient)

    data = edit_form(client, full_name="Asha Rao", height_cm="162", weight_kg="58", **{"allergies-0-name": "Dust"})
    assert not PatientProfile.all_objects.filter(user=patient).exists()  # the page wrote nothing
    response = client.post(EDIT, data)

    assert response.status_code == 302
    saved = PatientProfile.objects.get(user=patient)
    assert (saved.full_name, saved.bmi, saved.allergies) == ("Asha Rao", Decimal("22.10"), [{"name": "Dust"}])
    assert saved.country == "IN" and saved.preferred_language == "en"
    (log,) = AdminLog.objects.filter(table_name="patient_profiles", record_id=saved.pk)
    assert log.action == AuditAction.CREATE


def test_a_valid_save_runs_a_fixed_number_of_queries(patient_client, django_assert_max_num_queries):
    data = edit_form(patient_client, city="Nashik", **{"allergies-1-name": "Dust"})

    # 1 session, 2 user, 3 profile; in the service: 4 savepoint (the test runs in a
    # transaction), 5 lock the profile row; full_clean: 6 the user is a patient,
    # 7 user_id is unique, 8-13 the two range checks, each in its own savepoint;
    # 14 update, 15 audit row, 16 release; 17 BMI read back.
    with django_assert_max_num_queries(17):
        response = patient_client.post(EDIT, data)
    assert response.status_code == 302


# --- the edit page: refusing -----------------------------------------------------------------


def _in_two_days() -> str:
    return (timezone.localdate() + timedelta(days=2)).isoformat()


INVALID = [
    ("date-of-birth-in-the-future", {"date_of_birth": _in_two_days}, "id_date_of_birth", forms.DOB_IN_FUTURE),
    ("date-of-birth-not-a-date", {"date_of_birth": "1990-02-30"}, "id_date_of_birth", forms.DOB_INVALID),
    ("height-5-cm", {"height_cm": "5"}, "id_height_cm", forms.HEIGHT_RANGE),
    ("height-not-a-number", {"height_cm": "tall"}, "id_height_cm", forms.NUMBER_INVALID),
    ("weight-0-kg", {"weight_kg": "0"}, "id_weight_kg", forms.WEIGHT_RANGE),
    ("no-name", {"full_name": "   "}, "id_full_name", forms.FULL_NAME_REQUIRED),
    (
        "allergy-with-severity-but-no-name",
        {"allergies-1-severity": "severe"},
        "id_allergies-1-name",
        forms.ROW_NAME_REQUIRED["allergies"],
    ),
    ("allergy-severity-forged", {"allergies-0-severity": "extreme"}, "id_allergies-0-severity", forms.SEVERITY_INVALID),
    (
        "allergy-listed-twice",
        {"allergies-1-name": "pollen"},
        "id_allergies-1-name",
        forms.ROW_DUPLICATE.format(name="pollen"),
    ),
    (
        "saved-medicine-name-cleared",
        {"medications-0-name": ""},
        "id_medications-0-name",
        forms.ROW_NAME_REQUIRED["medications"],
    ),
    (
        "condition-note-too-long",
        {"conditions-0-name": "Asthma", "conditions-0-notes": "x" * 301},
        "id_conditions-0-notes",
        "at most 300 characters",
    ),
    (
        "bad-phone",
        {"emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "12345"},
        "id_emergency_contact_phone",
        "not a valid mobile number",
    ),
    (
        "contact-phone-without-a-name",
        {"emergency_contact_phone": "98123 45678"},
        "id_emergency_contact_name",
        forms.CONTACT_NAME_REQUIRED,
    ),
    ("pin-with-five-digits-in-india", {"postal_code": "12345", "country": "IN"}, "id_postal_code", forms.PIN_INVALID),
    ("pin-with-letters-in-india", {"postal_code": "41100A", "country": "IN"}, "id_postal_code", forms.PIN_INVALID),
    ("language-forged", {"preferred_language": "xx"}, "id_preferred_language", forms.CHOICE_INVALID),
    ("gender-forged", {"gender": "robot"}, "id_gender", forms.CHOICE_INVALID),
]


@pytest.mark.parametrize(
    ("changes", "input_id", "message"), [case[1:] for case in INVALID], ids=[c[0] for c in INVALID]
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(patient_client, profile, changes, input_id, message):
    changes = {key: value() if callable(value) else value for key, value in changes.items()}
    # Good changes elsewhere on the page are not saved either.
    data = edit_form(patient_client, city="Nashik", **{"allergies-2-name": "Dust"}, **changes)
    before = snapshot(profile)

    response = patient_client.post(EDIT, data)

    assert response.status_code == 200
    assert_error_beside(response, input_id, message)
    assert message in error_summary(response)
    assert "Nothing was saved" in error_summary(response)
    assert snapshot(profile) == before
    assert not AdminLog.objects.filter(table_name="patient_profiles").exists()
    # What was typed is kept, to correct rather than retype.
    assert page_form(response)["city"] == "Nashik"
    assert_ready_for_csp(response)


def test_a_postcode_outside_india_follows_its_own_rules(patient_client, profile):
    response = patient_client.post(EDIT, edit_form(patient_client, postal_code="sw1a 1aa", country="GB"))

    assert response.status_code == 302
    saved = PatientProfile.objects.get(pk=profile.pk)
    assert (saved.postal_code, saved.country) == ("SW1A 1AA", "GB")


def test_more_rows_than_a_list_holds_are_refused(patient_client, profile):
    data = edit_form(patient_client)
    for n in range(51):
        data[f"allergies-{n}-name"] = f"Allergen {n}"
    data["allergies-TOTAL_FORMS"] = "51"
    before = snapshot(profile)

    response = patient_client.post(EDIT, data)

    assert response.status_code == 200
    assert forms.ROWS_TOO_MANY % {"num": 50} in error_summary(response)
    assert snapshot(profile) == before


def test_rows_without_their_management_form_are_refused(patient_client, profile):
    data = edit_form(patient_client, **{"allergies-1-name": "Dust"})
    del data["allergies-TOTAL_FORMS"]
    before = snapshot(profile)

    response = patient_client.post(EDIT, data)

    assert response.status_code == 200
    assert forms.ROWS_TAMPERED in error_summary(response)
    assert snapshot(profile) == before


def test_an_empty_post_is_refused_not_ignored(patient_client, profile):
    before = snapshot(profile)

    response = patient_client.post(EDIT, {})

    assert response.status_code == 200
    assert "Nothing was saved" in error_summary(response)
    assert snapshot(profile) == before


def test_a_post_without_a_csrf_token_is_refused(profile):
    client = Client(enforce_csrf_checks=True)
    client.force_login(profile.user)
    data = page_form(client.get(EDIT))
    del data["csrfmiddlewaretoken"]
    data["city"] = "Nashik"
    before = snapshot(profile)

    response = client.post(EDIT, data)

    assert response.status_code == 403
    assert snapshot(profile) == before


# --- who may enter ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PROFILE, EDIT])
def test_a_visitor_is_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"


@pytest.mark.parametrize("url", [PROFILE, EDIT])
@pytest.mark.parametrize(
    "make_user", [DoctorUserFactory, lambda: StaffUserFactory(totp=False)], ids=["doctor", "staff"]
)
def test_a_doctor_or_staff_member_is_refused(client, url, make_user):
    client.force_login(make_user())

    assert client.get(url).status_code == 403
    assert client.post(url, {"full_name": "Someone"}).status_code == 403
    assert not PatientProfile.all_objects.filter(full_name="Someone").exists()


def test_a_patient_only_ever_sees_and_edits_their_own_profile(client, profile):
    other = PatientProfileFactory(full_name="Meera Iyer", city="Chennai")
    client.force_login(profile.user)

    assert "Meera Iyer" not in client.get(PROFILE).content.decode()
    client.post(EDIT, edit_form(client, city="Nashik"))

    assert PatientProfile.objects.get(pk=other.pk).city == "Chennai"
    assert PatientProfile.objects.get(pk=profile.pk).city == "Nashik"
