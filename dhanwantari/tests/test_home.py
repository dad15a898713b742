import pytest
from django.urls import reverse

from doctors.tests.factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db


def test_home_lists_verified_doctors_only(client):
    DoctorProfileFactory(full_name="Dr. Asha Verified")
    DoctorProfileFactory(full_name="Dr. Pending Person", verification_status="pending")

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert b"Dr. Asha Verified" in response.content
    assert b"Dr. Pending Person" not in response.content


def test_healthz_reports_database(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
