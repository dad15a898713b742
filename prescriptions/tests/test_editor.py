"""The doctor's editor: starting, saving, reordering, potency errors, preview, issue, correct."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.tests.factories import ConsultationFactory
from prescriptions import forms as rx_forms
from prescriptions import views
from prescriptions.models import Prescription
from prescriptions.potency import POTENCY_INVALID, POTENCY_REQUIRED
from prescriptions.tests.conftest import draft, issued

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remedy_catalogue")]


def write_url(consultation) -> str:
    return reverse("prescriptions:write", args=[consultation.pk])


def rows_data(rows: list[dict], *, prefix="items", initial=0, **header) -> dict:
    """The POST of the editor: header fields and the remedy rows (a formset)."""
    data = {
        "rx-prescription_type": header.pop("prescription_type", "acute"),
        "rx-diagnosis": header.pop("diagnosis", "Sprained ankle"),
        "rx-general_advice": header.pop("general_advice", "Rest the foot."),
        "rx-follow_up_date": header.pop("follow_up_date", ""),
        "rx-valid_until": header.pop("valid_until", ""),
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "20",
        "action": header.pop("action", "save"),
    }
    for index, row in enumerate(rows):
        defaults = {"dosage_form": "globules"}
        for key, value in {**defaults, **row}.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


THREE = [
    {"remedy_name": "arn", "potency": "30", "dose": "4 globules", "repetition": "tds", "duration": "5 days"},
    {"remedy_name": "Bryonia alba", "potency": "200ch", "dose": "4 globules", "repetition": "bd"},
    {"remedy_name": "Calc phos", "potency": "6x", "dosage_form": "biochemic", "dose": "4 tablets", "repetition": "tds"},
]


@pytest.fixture
def doctor_client(client, doctor):
    client.force_login(doctor)
    return client


def test_the_doctor_opens_a_blank_editor_from_the_consultation(doctor_client, consultation):
    page = doctor_client.get(reverse("consultations:detail", args=[consultation.pk])).content.decode()
    assert write_url(consultation) in page

    response = doctor_client.get(write_url(consultation))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Meera Iyer" in html
    # Three blank rows without JavaScript (the script keeps one and offers "Add remedy").
    assert len(re.findall(r'<li class="rx-row" id="items-\d-row" data-row', html)) == 3
    assert 'name="items-TOTAL_FORMS" value="3"' in html
    assert reverse("prescriptions:remedy_search") in html


def test_a_three_remedy_prescription_is_saved_in_one_post(doctor_client, consultation):
    response = doctor_client.post(write_url(consultation), rows_data(THREE))

    rx = Prescription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("prescriptions:edit", args=[rx.pk])
    items = list(rx.items.order_by("position"))
    # Abbreviations and other names are written out in full, and linked to the catalogue.
    assert [(i.remedy_name, i.potency, i.repetition) for i in items] == [
        ("Arnica montana", "30C", "tds"),
        ("Bryonia alba", "200C", "bd"),
        ("Calcarea phosphorica", "6X", "tds"),
    ]
    assert all(item.remedy_id for item in items)


def test_a_remedy_not_in_the_catalogue_is_kept_as_typed(doctor_client, consultation):
    doctor_client.post(write_url(consultation), rows_data([{"remedy_name": "Ocimum canum", "potency": "30"}]))

    item = Prescription.objects.get().items.get()
    assert (item.remedy_name, item.remedy_id) == ("Ocimum canum", None)


@pytest.mark.parametrize(
    ("potency", "message"),
    [("abc", POTENCY_INVALID.format(text="abc")), ("", POTENCY_REQUIRED), ("30Z", POTENCY_INVALID.format(text="30Z"))],
)
def test_a_potency_that_cannot_be_read_is_an_error_next_to_its_field(doctor_client, consultation, potency, message):
    rows = [THREE[0], {"remedy_name": "Belladonna", "potency": potency}]

    response = doctor_client.post(write_url(consultation), rows_data(rows))

    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(r'id="id_items-1-potency_error">(.*?)</div>', html, re.DOTALL)
    assert error is not None and message in error.group(1)
    assert "Remedy 2, potency" in html  # the summary at the top links to it
    assert not Prescription.objects.exists()


def test_blank_rows_are_skipped_and_removed_rows_dropped(doctor_client, consultation):
    rows = [THREE[0], {"remedy_name": "Belladonna", "potency": "30", "DELETE": "on"}, {}, THREE[1]]

    doctor_client.post(write_url(consultation), rows_data(rows))

    assert [i.remedy_name for i in Prescription.objects.get().items.order_by("position")] == [
        "Arnica montana",
        "Bryonia alba",
    ]


def test_rows_are_reordered_by_their_position(doctor_client, consultation):
    rx = draft(consultation)
    edit = reverse("prescriptions:edit", args=[rx.pk])
    rows = [
        {"remedy_name": "Arnica montana", "potency": "30C", "ORDER": "2"},
        {"remedy_name": "Belladonna", "potency": "200C", "ORDER": "1"},
    ]

    doctor_client.post(edit, rows_data(rows, initial=2))

    assert [i.remedy_name for i in rx.items.order_by("position")] == ["Belladonna", "Arnica montana"]


def test_the_editor_shows_a_drafts_rows_and_lm_plan(doctor_client, consultation):
    rows = [
        {
            "remedy_name": "Sulphur",
            "potency": "LM1",
            "dosage_form": "dilution",
            "lm_days": "15",
            "lm_steps": "3",
            "lm_succussions": "10",
        }
    ]
    doctor_client.post(write_url(consultation), rows_data(rows))
    rx = Prescription.objects.get()
    item = rx.items.get()
    assert item.lm_plan == {
        "succussions": 10,
        "steps": [{"level": 1, "days": 15}, {"level": 2, "days": 15}, {"level": 3, "days": 15}],
    }

    html = doctor_client.get(reverse("prescriptions:edit", args=[rx.pk])).content.decode()

    assert 'value="LM1"' in html
    assert 'name="items-0-lm_steps" value="3"' in html


def test_an_lm_plan_on_a_centesimal_potency_is_an_error(doctor_client, consultation):
    rows = [{"remedy_name": "Sulphur", "potency": "30C", "lm_days": "15"}]
    response = doctor_client.post(write_url(consultation), rows_data(rows))
    assert response.status_code == 400
    assert rx_forms.LM_ONLY in response.content.decode()


def test_a_follow_up_in_the_past_is_refused(doctor_client, consultation):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = doctor_client.post(write_url(consultation), rows_data(THREE, follow_up_date=yesterday))
    assert response.status_code == 400
    assert rx_forms.FOLLOW_UP_PAST in response.content.decode()


def test_preview_saves_and_shows_the_prescription_with_issue(doctor_client, consultation):
    response = doctor_client.post(write_url(consultation), rows_data(THREE, action="preview"), follow=True)

    rx = Prescription.objects.get()
    assert response.redirect_chain[-1][0] == reverse("prescriptions:detail", args=[rx.pk])
    html = response.content.decode()
    assert "Check, then issue" in html
    assert reverse("prescriptions:issue", args=[rx.pk]) in html
    assert views.CHECK_THEN_ISSUE in html


def test_issuing_from_the_preview(doctor_client, consultation):
    rx = draft(consultation)

    response = doctor_client.post(reverse("prescriptions:issue", args=[rx.pk]), follow=True)

    rx.refresh_from_db()
    assert rx.status == "issued"
    assert "Prescription issued. Meera Iyer has been notified" in response.content.decode()
    assert reverse("prescriptions:pdf", args=[rx.pk]) in response.content.decode()


def test_issue_is_a_post(doctor_client, consultation):
    rx = draft(consultation)
    assert doctor_client.get(reverse("prescriptions:issue", args=[rx.pk])).status_code == 405


def test_an_issued_prescription_is_not_editable(doctor_client, consultation):
    rx = issued(consultation)
    edit = reverse("prescriptions:edit", args=[rx.pk])

    assert doctor_client.get(edit)["Location"] == reverse("prescriptions:detail", args=[rx.pk])
    doctor_client.post(edit, rows_data([{"remedy_name": "Sulphur", "potency": "30"}], initial=2))

    assert [i.remedy_name for i in rx.items.order_by("position")] == ["Arnica montana", "Belladonna"]


def test_write_continues_the_consultations_draft(doctor_client, consultation):
    rx = draft(consultation)
    assert doctor_client.get(write_url(consultation))["Location"] == reverse("prescriptions:edit", args=[rx.pk])


def test_before_the_consultation_starts_the_doctor_is_told_to_wait(doctor_client, doctor, patient):
    consultation = ConsultationFactory(doctor=doctor, patient=patient, status="scheduled")
    response = doctor_client.get(write_url(consultation), follow=True)
    assert views.CANNOT_WRITE_YET in response.content.decode()


def test_another_doctor_gets_404_everywhere(client, consultation, other_doctor):
    rx = draft(consultation)
    client.force_login(other_doctor)

    assert client.get(write_url(consultation)).status_code == 404
    assert client.get(reverse("prescriptions:edit", args=[rx.pk])).status_code == 404
    assert client.post(reverse("prescriptions:issue", args=[rx.pk])).status_code == 404
    assert client.get(reverse("prescriptions:correct", args=[rx.pk])).status_code == 404


def test_a_patient_cannot_open_the_editor(client, consultation):
    client.force_login(consultation.patient)
    assert client.get(write_url(consultation)).status_code == 403


def test_correcting_from_the_page(doctor_client, consultation):
    rx = issued(consultation)
    url = reverse("prescriptions:correct", args=[rx.pk])
    assert doctor_client.get(url).status_code == 200

    empty = doctor_client.post(url, {"reason": ""})
    response = doctor_client.post(url, {"reason": "Belladonna should be 30C."})

    assert empty.status_code == 400
    new = Prescription.objects.get(supersedes=rx)
    assert response["Location"] == reverse("prescriptions:edit", args=[new.pk])
    html = doctor_client.get(response["Location"]).content.decode()
    assert "Belladonna should be 30C." in html
    assert "version 2" in html.lower()
