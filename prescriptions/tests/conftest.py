"""The cast of the prescription tests: Dr. Asha Kulkarni, her patient Meera Iyer
(born 17 May 1990, female), their consultation in progress, and outsiders."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from accounts.tests.factories import StaffUserFactory
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory
from prescriptions import services
from prescriptions.models import Prescription, Remedy
from prescriptions.services import HeaderData, ItemData


@pytest.fixture
def remedy_catalogue(db):
    """The catalogue as the data migration loads it.

    Transactional tests (the browser ones) empty every table after they run,
    migration data included; whichever runs after one needs this to find it again.
    """
    if not Remedy.objects.exists():
        importlib.import_module("prescriptions.migrations.0003_load_remedies").load(apps, None)


@pytest.fixture
def doctor():
    return DoctorProfileFactory(
        full_name="Dr. Asha Kulkarni",
        registration_number="MH-HOM-24680",
        registration_council="Maharashtra Council of Homoeopathy",
        qualifications=["BHMS", "MD (Hom)"],
        clinic_name="Arogya Homeopathy Clinic",
        clinic_address="12 FC Road, Shivajinagar",
        postal_code="411005",
    ).user


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


@pytest.fixture
def consultation(doctor, patient):
    return ConsultationFactory(doctor=doctor, patient=patient, status="in_progress")


@pytest.fixture
def other_doctor():
    return DoctorProfileFactory(full_name="Dr. Ravi Menon").user


@pytest.fixture
def other_patient():
    return PatientProfileFactory(full_name="Arjun Rao").user


@pytest.fixture
def staff():
    return StaffUserFactory()


ARNICA = ItemData(
    remedy_name="Arnica montana", potency_value=30, potency_scale="C", dose="4 globules", repetition="tds"
)
BELLADONNA = ItemData(
    remedy_name="Belladonna", potency_value=200, potency_scale="C", dose="4 globules", duration="3 days"
)
SULPHUR_LM = ItemData(
    remedy_name="Sulphur",
    potency_value=1,
    potency_scale="LM",
    dosage_form="dilution",
    lm_plan={"succussions": 10, "steps": [{"level": 1, "days": 15}, {"level": 2, "days": 15}]},
)


def draft(consultation, items=(ARNICA, BELLADONNA), **header) -> Prescription:
    return services.prescription_save_draft(
        consultation=consultation,
        doctor=consultation.doctor,
        header=HeaderData(diagnosis="Sprained ankle after a fall.", **header),
        items=list(items),
    )


def issued(consultation, items=(ARNICA, BELLADONNA), **header) -> Prescription:
    return services.prescription_issue(prescription=draft(consultation, items, **header), doctor=consultation.doctor)
