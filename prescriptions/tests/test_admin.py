from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AdminLog
from consultations.tests.factories import ConsultationFactory
from dhanwantari.testing.admin import changelist_growth
from doctors.tests.factories import verified_doctor
from patients.tests.factories import patient_with_profile
from prescriptions.models import Prescription, Remedy
from prescriptions.tests.factories import (
    IssuedPrescriptionFactory,
    PrescriptionFactory,
    PrescriptionItemFactory,
    RemedyFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remedy_catalogue")]


def prescription_between_profiles(factory=IssuedPrescriptionFactory, **kwargs) -> Prescription:
    consultation = ConsultationFactory(patient=patient_with_profile(), doctor=verified_doctor(), status="completed")
    return factory(consultation=consultation, **kwargs)


def make_prescription(i: int) -> None:
    prescription = prescription_between_profiles(IssuedPrescriptionFactory if i % 2 else PrescriptionFactory)
    if i % 5 == 0:
        prescription.soft_delete()


ROWS = {
    "prescriptions_prescription": make_prescription,
    "prescriptions_prescriptionitem": lambda i: PrescriptionItemFactory(prescription=prescription_between_profiles()),
    "prescriptions_remedy": lambda i: RemedyFactory(),
}


@pytest.mark.parametrize("changelist_name", ROWS)
def test_the_changelist_runs_as_many_queries_for_30_rows_as_for_3(staff_client, changelist_name):
    make_row = ROWS[changelist_name]
    url = reverse(f"admin:{changelist_name}_changelist")
    (few_queries, few_rows), (many_queries, many_rows) = changelist_growth(staff_client, url, make_row)

    if changelist_name == "prescriptions_remedy":
        # The catalogue is loaded by a migration; the page shows 100 a page.
        assert many_rows - few_rows == 27
    else:
        assert (few_rows, many_rows) == (3, 30)
    assert many_queries == few_queries


def test_the_prescription_page_shows_its_remedies(staff_client):
    prescription = prescription_between_profiles()
    PrescriptionItemFactory(prescription=prescription, remedy_name="Natrum muriaticum", potency_value=200)
    PrescriptionItemFactory(prescription=prescription, remedy_name="Sulphur", potency_value=1000)

    response = staff_client.get(reverse("admin:prescriptions_prescription_change", args=[prescription.pk]))

    assert response.status_code == 200
    assert b"Natrum muriaticum" in response.content
    assert b"200C" in response.content
    assert b"1M" in response.content


def test_the_item_change_page_opens(staff_client):
    item = PrescriptionItemFactory()
    response = staff_client.get(reverse("admin:prescriptions_prescriptionitem_change", args=[item.pk]))
    assert response.status_code == 200


def test_a_soft_deleted_prescription_is_visible_to_staff(staff_client):
    prescription = prescription_between_profiles()
    prescription.soft_delete()

    response = staff_client.get(reverse("admin:prescriptions_prescription_changelist"), {"deleted": "yes"})

    assert list(response.context["cl"].result_list) == [prescription]


def test_searching_by_verification_code_finds_the_prescription(staff_client):
    wanted = prescription_between_profiles()
    prescription_between_profiles()

    response = staff_client.get(reverse("admin:prescriptions_prescription_changelist"), {"q": wanted.verification_code})

    assert list(response.context["cl"].result_list) == [wanted]


def test_the_changelist_does_not_show_the_diagnosis(staff_client):
    prescription_between_profiles(diagnosis="Chronic eczema with night itching")
    response = staff_client.get(reverse("admin:prescriptions_prescription_changelist"))
    assert b"night itching" not in response.content


@pytest.mark.parametrize("model_name", ["prescription", "prescriptionitem"])
def test_prescriptions_and_items_are_read_only(staff_client, model_name):
    item = PrescriptionItemFactory(prescription=prescription_between_profiles(PrescriptionFactory))
    obj = item.prescription if model_name == "prescription" else item

    add = staff_client.get(reverse(f"admin:prescriptions_{model_name}_add"))
    change = staff_client.post(
        reverse(f"admin:prescriptions_{model_name}_change", args=[obj.pk]),
        {"diagnosis": "rewritten", "remedy_name": "rewritten"},
    )

    assert (add.status_code, change.status_code) == (403, 403)
    item.refresh_from_db()
    assert item.remedy_name == "Belladonna"
    assert item.prescription.diagnosis != "rewritten"


def test_staff_add_a_missing_remedy_and_it_is_audited(staff_client):
    response = staff_client.post(
        reverse("admin:prescriptions_remedy_add"),
        {"name": "Ocimum canum", "abbreviation": "Oci-c.", "also_known_as": "", "active": "on"},
    )

    assert response.status_code == 302
    remedy = Remedy.objects.get(name="Ocimum canum")
    log = AdminLog.objects.get(table_name="remedies", record_id=remedy.pk)
    assert log.action == "create"


def test_remedies_are_deactivated_not_deleted(staff_client):
    remedy = Remedy.objects.get(name="Belladonna")
    response = staff_client.get(reverse("admin:prescriptions_remedy_delete", args=[remedy.pk]))
    assert response.status_code == 403


def test_the_item_page_shows_its_catalogue_entry(staff_client):
    item = PrescriptionItemFactory(remedy=Remedy.objects.get(name="Belladonna"))
    response = staff_client.get(reverse("admin:prescriptions_prescriptionitem_change", args=[item.pk]))
    assert b"Belladonna (Bell.)" in response.content


def test_the_prescription_page_links_to_the_printed_prescription(staff_client):
    prescription = prescription_between_profiles()
    response = staff_client.get(reverse("admin:prescriptions_prescription_change", args=[prescription.pk]))
    assert reverse("prescriptions:pdf", args=[prescription.pk]).encode() in response.content
