"""Query budgets: the pages cost the same with 2 prescriptions or remedies as with 25.

Each test makes one request first (a session's first request writes its idle
clock, which is not the page's cost), then measures small and large data.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from prescriptions.services import ItemData
from prescriptions.tests.conftest import draft, issued

pytestmark = pytest.mark.django_db


def cost(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def remedies(n: int) -> list[ItemData]:
    return [ItemData(remedy_name=f"Remedy {i}", potency_value=30, potency_scale="C") for i in range(n)]


def test_my_prescriptions_costs_the_same_for_2_as_for_25(client, patient):
    def prescriptions(n: int) -> None:
        for _ in range(n):
            doctor = DoctorProfileFactory().user
            issued(ConsultationFactory(doctor=doctor, patient=patient, status="completed"), items=remedies(3))

    url = reverse("prescriptions:mine")
    client.force_login(patient)
    client.get(url)
    prescriptions(2)
    few, small = cost(client, url)
    prescriptions(23)
    many, large = cost(client, url)

    # session, user; the count, the page (with each doctor's profile), their
    # remedies; the header's unread count and name.
    assert few == many == 7
    assert len(small.context["page"].object_list) == 2
    assert len(large.context["page"].object_list) == 20  # a page; older ones on the next


def test_the_editor_costs_the_same_for_2_remedies_as_for_20(client, consultation):
    client.force_login(consultation.doctor)
    small_rx = draft(consultation, items=remedies(2))
    other = ConsultationFactory(doctor=consultation.doctor, patient=consultation.patient, status="completed")
    large_rx = draft(other, items=remedies(20))
    client.get(reverse("prescriptions:edit", args=[small_rx.pk]))

    few, _ = cost(client, reverse("prescriptions:edit", args=[small_rx.pk]))
    many, response = cost(client, reverse("prescriptions:edit", args=[large_rx.pk]))

    # session, user; the draft (with consultation, patient and profile), its
    # remedies; the header's unread count and name.
    assert few == many == 6
    assert response.context["editor"].rows.total_form_count() == 20  # the maximum: no blank row past it


def test_a_new_prescription_page_is_cheap(client, consultation):
    url = reverse("prescriptions:write", args=[consultation.pk])
    client.force_login(consultation.doctor)
    client.get(url)

    queries, _ = cost(client, url)

    # session, user; the consultation with the patient's profile, whether it
    # has a draft; the header's unread count and name.
    assert queries == 6


def test_the_prescription_page_costs_the_same_for_2_remedies_as_for_20(client, consultation):
    small_rx = issued(consultation, items=remedies(2))
    other = ConsultationFactory(doctor=consultation.doctor, patient=consultation.patient, status="completed")
    large_rx = issued(other, items=remedies(20))
    client.force_login(consultation.patient)
    client.get(reverse("prescriptions:detail", args=[small_rx.pk]))

    few, _ = cost(client, reverse("prescriptions:detail", args=[small_rx.pk]))
    many, _ = cost(client, reverse("prescriptions:detail", args=[large_rx.pk]))

    # session, user; the prescription (profiles, predecessor, successor), its
    # remedies; the header's unread count and name.
    assert few == many == 6
