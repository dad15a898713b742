"""Two patients press "book" on the same slot at the same moment: one wins.

MariaDB/MySQL only: SQLite serialises every write transaction anyway, so a race
there proves nothing. Each thread has its own connection and transaction, as
two web requests would.

Why the lock in consultation_book is needed: without `select_for_update()` on
the doctor's profile, each thread runs "is there a holding consultation
overlapping this slot?" and both read "no", because neither has committed its
INSERT yet; both INSERTs then succeed (MySQL has no partial unique index to
refuse the second) and the doctor has two patients at 10:00. With the lock the
second thread blocks on the profile row until the first commits, and under
READ COMMITTED its overlap check then sees the first booking and raises
SlotTaken. (Checked by hand: with the select_for_update() removed this test
fails with more than one consultation for the slot.)
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from accounts.tests.factories import PatientUserFactory
from consultations.models import Consultation
from consultations.services import SlotTaken, consultation_book
from doctors.tests.factories import DoctorProfileFactory

NOW = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)  # Monday, 05:30 in Kolkata
TEN_AM = datetime(2030, 1, 7, 4, 30, tzinfo=UTC)  # 10:00 IST, the doctor's first slot
RACERS = 4

pytestmark = [
    pytest.mark.mysql,
    pytest.mark.skipif(connection.vendor != "mysql", reason="the race needs MySQL/MariaDB row locks"),
]


def _race(profile, patients) -> list[object]:
    barrier = threading.Barrier(len(patients))
    results: list[object] = [None] * len(patients)

    def book(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = consultation_book(
                patient=patients[index],
                doctor_profile=profile,
                mode="video",
                slot_start=TEN_AM,
                chief_complaint="Migraine",
                now=NOW,
            )
        except Exception as error:  # every outcome, expected or not, is asserted below
            results[index] = error
        finally:
            # The thread's own connection; left open it would outlive the test
            # database and block its teardown.
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(patients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_only_one_of_several_simultaneous_bookings_of_a_slot_succeeds():
    profile = DoctorProfileFactory()
    patients = [PatientUserFactory() for _ in range(RACERS)]

    results = _race(profile, patients)

    booked = [r for r in results if isinstance(r, Consultation)]
    refused = [r for r in results if isinstance(r, SlotTaken)]
    assert len(booked) == 1, results
    assert len(refused) == RACERS - 1, results
    assert all(error.next_slots and error.next_slots[0].start > TEN_AM for error in refused)
    holding = Consultation.objects.filter(doctor=profile.user, scheduled_at=TEN_AM, status="scheduled")
    assert list(holding) == booked
