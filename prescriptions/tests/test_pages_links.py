"""How people reach prescriptions: the doctor from the consultation, the patient
from the dashboard (My prescriptions in one tap, each PDF in at most two)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from consultations.tests.factories import ConsultationFactory
from prescriptions.tests.conftest import draft, issued

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("consultations:dashboard")


def section(html: str, name: str) -> str:
    found = re.search(rf'data-section="{name}".*?</section>', html, re.DOTALL)
    return found.group(0) if found else ""


def test_the_patients_dashboard_leads_to_my_prescriptions_and_each_pdf(client, consultation):
    rx = issued(consultation)
    client.force_login(consultation.patient)

    card = section(client.get(DASHBOARD).content.decode(), "prescriptions")

    assert reverse("prescriptions:mine") in card
    assert reverse("prescriptions:pdf", args=[rx.pk]) in card
    mine = client.get(reverse("prescriptions:mine")).content.decode()
    assert reverse("prescriptions:pdf", args=[rx.pk]) in mine


def test_my_prescriptions_lists_issued_ones_newest_first(client, consultation):
    older = issued(consultation)
    later = issued(ConsultationFactory(doctor=consultation.doctor, patient=consultation.patient, status="completed"))
    draft(ConsultationFactory(doctor=consultation.doctor, patient=consultation.patient, status="completed"))
    client.force_login(consultation.patient)

    page = client.get(reverse("prescriptions:mine")).context["page"]

    assert list(page.object_list) == [later, older]


def test_my_prescriptions_is_for_patients(client, doctor):
    client.force_login(doctor)
    assert client.get(reverse("prescriptions:mine")).status_code == 403


def test_the_doctor_writes_from_the_consultation_page_and_the_patient_does_not(client, consultation):
    rx = issued(consultation)
    detail = reverse("consultations:detail", args=[consultation.pk])
    write = reverse("prescriptions:write", args=[consultation.pk])

    client.force_login(consultation.doctor)
    doctor_html = section(client.get(detail).content.decode(), "prescriptions")
    client.force_login(consultation.patient)
    patient_html = section(client.get(detail).content.decode(), "prescriptions")

    assert write in doctor_html
    assert reverse("prescriptions:correct", args=[rx.pk]) in doctor_html
    assert write not in patient_html
    assert reverse("prescriptions:correct", args=[rx.pk]) not in patient_html
    assert reverse("prescriptions:pdf", args=[rx.pk]) in patient_html


def test_a_scheduled_consultation_offers_no_prescription_yet(client, doctor, patient):
    consultation = ConsultationFactory(doctor=doctor, patient=patient, status="scheduled")
    client.force_login(doctor)
    html = client.get(reverse("consultations:detail", args=[consultation.pk])).content.decode()
    assert reverse("prescriptions:write", args=[consultation.pk]) not in html
