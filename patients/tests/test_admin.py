from __future__ import annotations

import pytest
from django.urls import reverse

from dhanwantari.testing.admin import changelist_growth
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db


def make_profile(i: int) -> None:
    profile = PatientProfileFactory()
    if i % 5 == 0:
        profile.soft_delete()


def test_the_changelist_runs_as_many_queries_for_30_rows_as_for_3(staff_client):
    url = reverse("admin:patients_patientprofile_changelist")
    (few_queries, few_rows), (many_queries, many_rows) = changelist_growth(staff_client, url, make_profile)

    assert (few_rows, many_rows) == (3, 30)
    assert many_queries == few_queries


def test_the_change_page_opens_and_shows_the_medical_history(staff_client):
    profile = PatientProfileFactory(medical_history="Childhood asthma, resolved by 12.")
    response = staff_client.get(reverse("admin:patients_patientprofile_change", args=[profile.pk]))
    assert response.status_code == 200
    assert b"Childhood asthma" in response.content


def test_the_changelist_does_not_show_clinical_free_text(staff_client):
    PatientProfileFactory(medical_history="Childhood asthma", family_history="Mother diabetic")
    response = staff_client.get(reverse("admin:patients_patientprofile_changelist"))
    assert b"Childhood asthma" not in response.content
    assert b"Mother diabetic" not in response.content


def test_a_soft_deleted_profile_is_listed_and_opens(staff_client):
    profile = PatientProfileFactory()
    profile.soft_delete()

    response = staff_client.get(reverse("admin:patients_patientprofile_changelist"), {"deleted": "yes"})

    assert list(response.context["cl"].result_list) == [profile]
    change = staff_client.get(reverse("admin:patients_patientprofile_change", args=[profile.pk]))
    assert change.status_code == 200


@pytest.mark.parametrize("term", ["Anjali Deshpande", "anjali.d@example.test"])
def test_searching_profiles_by_name_or_email_finds_that_patient(staff_client, term):
    wanted = PatientProfileFactory(full_name="Anjali Deshpande", user__email="anjali.d@example.test")
    PatientProfileFactory.create_batch(3)

    response = staff_client.get(reverse("admin:patients_patientprofile_changelist"), {"q": term})

    assert list(response.context["cl"].result_list) == [wanted]
