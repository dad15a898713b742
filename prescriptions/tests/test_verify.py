"""The public verification page: genuine or not, by whom, when, until when; never the patient."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from prescriptions import services
from prescriptions.tests.conftest import draft, issued

pytestmark = pytest.mark.django_db


def verify(client, code: str):
    return client.get(reverse("prescriptions:verify", args=[code]))


def test_a_genuine_prescription_is_confirmed_without_patient_data(client, consultation):
    rx = issued(consultation, valid_until=timezone.localdate() + timedelta(days=30))

    response = verify(client, rx.verification_code)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-verification="valid"' in html
    for expected in ("Dr. Asha Kulkarni", "BHMS, MD (Hom)", "Reg. No. MH-HOM-24680", rx.verification_code):
        assert expected in html
    # Nothing about the patient or what they take.
    for private in ("Meera Iyer", "Sprained ankle", "Arnica", "Belladonna", "1990"):
        assert private not in html
    assert '<meta name="robots" content="noindex">' in html
    assert response["Cache-Control"] == "no-store"


def test_an_expired_prescription_is_genuine_but_not_valid(client, consultation):
    rx = issued(consultation, valid_until=timezone.localdate())
    tomorrow = timezone.now() + timedelta(days=2)

    from prescriptions import queries

    result = queries.verification(code=rx.verification_code, now=tomorrow)

    assert result.has_expired and not result.is_current


def test_a_withdrawn_prescription_says_not_to_dispense(client, consultation):
    rx = issued(consultation)
    services.prescription_correct(prescription=rx, doctor=consultation.doctor, reason="Wrong potency")

    html = verify(client, rx.verification_code).content.decode()

    assert 'data-verification="withdrawn"' in html
    assert "Do not dispense it." in html
    assert "Wrong potency" not in html  # the reason is the patient's business


def test_unknown_codes_and_drafts_are_not_found(client, consultation):
    rx = draft(consultation)

    assert verify(client, rx.verification_code).status_code == 404
    response = verify(client, "nosuchcode")
    assert response.status_code == 404
    assert 'data-verification="unknown"' in response.content.decode()


def test_the_code_is_case_sensitive(client, consultation):
    rx = issued(consultation)
    swapped = rx.verification_code.swapcase()
    if swapped == rx.verification_code:
        pytest.skip("the code has no letters")
    assert verify(client, swapped).status_code == 404


def test_a_pharmacist_can_type_the_code(client, consultation):
    rx = issued(consultation)

    form = client.get(reverse("prescriptions:verify_lookup"))
    typed = client.get(reverse("prescriptions:verify_lookup"), {"code": f"  {rx.verification_code} "})
    nonsense = client.get(reverse("prescriptions:verify_lookup"), {"code": "<script>"})

    assert form.status_code == 200
    assert typed["Location"] == reverse("prescriptions:verify", args=[rx.verification_code])
    assert nonsense.status_code == 400


def test_codes_are_unguessable():
    from prescriptions.models import new_verification_code

    codes = {new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 10 for code in codes)
