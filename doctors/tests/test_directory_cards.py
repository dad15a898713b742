"""What a directory card and a doctor's slot links show, now worked out in the
view rather than the template: the same words, links and times."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import PatientUserFactory
from doctors.availability import Slot, free_slots
from doctors.tests.factories import DoctorProfileFactory, weekday_hours

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("doctors:directory")
IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=IST)


@time_machine.travel(NOW, tick=False)
def test_a_card_shows_the_next_free_slot_in_the_viewers_words(client):
    DoctorProfileFactory(full_name="Dr. Soon", next_available_at=datetime(2026, 12, 6, 10, 0, tzinfo=IST))

    page = client.get(DIRECTORY).content.decode()

    assert '<time datetime="2026-12-06T10:00:00+05:30">Tomorrow, 10:00 AM</time>' in page


@time_machine.travel(NOW, tick=False)
def test_a_card_whose_next_slot_has_passed_says_there_is_none(client):
    DoctorProfileFactory(full_name="Dr. Stale", next_available_at=NOW - timedelta(hours=1))

    page = client.get(DIRECTORY).content.decode()

    assert "dir-card__next dir-card__next--none" in page
    assert "No free slot in the next two weeks" in page


def test_a_card_shows_its_consultation_modes_with_their_icons_and_initial_without_a_photo(client):
    doctor = DoctorProfileFactory(full_name="Dr. Mira Das", consultation_modes=["chat", "in_person"])

    page = client.get(DIRECTORY).content.decode()

    assert '<use href="/static/img/icons.svg#chat"></use></svg>Chat</li>' in page
    assert '<use href="/static/img/icons.svg#clinic"></use></svg>In person</li>' in page
    assert "Video</li>" not in page
    assert '<span class="avatar" aria-hidden="true">M</span>' in page
    assert f'href="{reverse("doctors:public_profile", args=[doctor.pk])}"' in page


@time_machine.travel(NOW, tick=False)
def test_each_slot_links_to_booking_it_in_the_viewers_zone(client):
    doctor = DoctorProfileFactory(availability=weekday_hours())
    client.force_login(PatientUserFactory(timezone="Europe/London"))

    page = client.get(reverse("doctors:public_profile", args=[doctor.pk])).content.decode()

    book = reverse("consultations:book", args=[doctor.pk])
    assert (
        f'<a class="doc-slot__link" href="{book}?slot=2026-12-07T04%3A30%3A00%2B00%3A00">'
        '<time datetime="2026-12-07T04:30:00+00:00">4:30 AM</time></a>'
    ) in page
    assert "Monday 7 December" in page


def test_free_slots_leaves_out_exactly_the_slots_a_booking_overlaps():
    def by_brute_force(slots, taken, not_before):
        return [s for s in slots if s.start >= not_before and not any(s.overlaps(a, b) for a, b in taken)]

    rng = random.Random(7)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(500):
        slots = []
        for _ in range(rng.randint(0, 25)):
            start = base + timedelta(minutes=rng.randint(0, 600))
            slots.append(Slot(start, start + timedelta(minutes=rng.choice([10, 20, 30]))))
        taken = []
        for _ in range(rng.randint(0, 12)):
            start = base + timedelta(minutes=rng.randint(-300, 700))
            taken.append((start, start + timedelta(minutes=rng.choice([0, 5, 20, 60, 240]))))
        not_before = base + timedelta(minutes=rng.randint(-10, 300))

        assert free_slots(slots, taken, not_before=not_before) == by_brute_force(slots, taken, not_before)
