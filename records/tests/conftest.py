"""The fixed cast of the records tests: a patient (Meera Iyer), her doctor (Dr.
Asha Kulkarni, through a scheduled consultation), another doctor, another
patient, staff; and a look at what is on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.tests.factories import StaffUserFactory
from consultations.tests.factories import ConsultationFactory
from doctors.tests.factories import DoctorProfileFactory
from patients.tests.factories import PatientProfileFactory


@pytest.fixture
def patient():
    return PatientProfileFactory(full_name="Meera Iyer").user


@pytest.fixture
def doctor():
    return DoctorProfileFactory(full_name="Dr. Asha Kulkarni").user


@pytest.fixture
def consultation(patient, doctor):
    return ConsultationFactory(patient=patient, doctor=doctor, status="scheduled")


@pytest.fixture
def other_doctor():
    return DoctorProfileFactory(full_name="Dr. Rohan Mehta").user


@pytest.fixture
def other_patient():
    return PatientProfileFactory(full_name="Kabir Shah").user


@pytest.fixture
def staff():
    return StaffUserFactory()


@pytest.fixture
def files_on_disk(settings):
    """Every file under MEDIA_ROOT (a fresh folder per test), as paths relative to it."""

    def listing() -> list[str]:
        root = Path(settings.MEDIA_ROOT)
        if not root.exists():
            return []
        return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())

    return listing
