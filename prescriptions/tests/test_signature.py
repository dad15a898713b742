"""The doctor's signature: uploaded on the profile page like the photo (same checks),
shown back to them, and printed on their prescriptions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from doctors.models import DoctorProfile
from doctors.tests.test_profile_onboarding import form_data
from doctors.tests.test_uploads import image_bytes

pytestmark = pytest.mark.django_db

EDIT = reverse("doctors:profile_edit")
OWN = reverse("prescriptions:own_signature")


@pytest.fixture
def doctor_client(client, doctor):
    client.force_login(doctor)
    return client


def test_a_signature_is_uploaded_with_the_profile_and_shown_back(doctor_client, doctor):
    signature = SimpleUploadedFile("sig.jpg", image_bytes(size=(1200, 300)), content_type="image/jpeg")

    response = doctor_client.post(EDIT, {**form_data(), "signature": signature})

    assert response.status_code == 302
    profile = DoctorProfile.objects.get(user=doctor)
    assert profile.signature.name.startswith("doctors/signatures/") and profile.signature.name.endswith(".png")
    assert "sig" not in profile.signature.name.removeprefix("doctors/signatures/")
    page = doctor_client.get(EDIT).content.decode()
    assert OWN in page
    image = doctor_client.get(OWN)
    assert (image.status_code, image["Content-Type"]) == (200, "image/png")


def test_a_web_page_posing_as_a_signature_is_refused(doctor_client, doctor):
    fake = SimpleUploadedFile("sig.png", b"<html><script>alert(1)</script></html>", content_type="image/png")

    response = doctor_client.post(EDIT, {**form_data(), "signature": fake})

    assert response.status_code == 400
    assert "Web pages, SVG drawings and scripts cannot be uploaded" in response.context["form"].errors["signature"][0]
    assert not DoctorProfile.objects.get(user=doctor).signature


def test_the_signature_can_be_removed(doctor_client, doctor):
    doctor_client.post(EDIT, {**form_data(), "signature": SimpleUploadedFile("s.png", image_bytes("PNG"))})

    doctor_client.post(EDIT, {**form_data(), "remove_signature": "on"})

    assert not DoctorProfile.objects.get(user=doctor).signature
    assert doctor_client.get(OWN).status_code == 404


def test_a_new_signature_and_remove_together_is_an_error(doctor_client):
    signature = SimpleUploadedFile("s.png", image_bytes("PNG"))
    response = doctor_client.post(EDIT, {**form_data(), "signature": signature, "remove_signature": "on"})
    assert response.status_code == 400
    assert response.context["form"].errors["remove_signature"]


def test_only_doctors_have_an_own_signature(client, patient):
    client.force_login(patient)
    assert client.get(OWN).status_code == 403
