"""`manage.py refresh_next_slots`: recompute every verified doctor's next free slot.

`doctor_profiles.next_available_at` is stored, not computed per request, so
the directory can sort by "earliest available" and filter "available today"
with an index (see doctors.services.next_available_refresh for the why).
Schedule and booking changes refresh one doctor at once; this command moves
everyone on as time passes (a slot that went by, a notice period that now
covers the first slot). Run it from cron every 10–15 minutes:

    */10 * * * *  cd /srv/dhanwantari && .venv/bin/python manage.py refresh_next_slots

Three queries per batch of doctors, whatever the number of bookings.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from doctors.services import next_available_refresh_all


class Command(BaseCommand):
    help = "Recompute next_available_at (the first free slot in 14 days) for every verified doctor."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Doctors read and updated at a time.")

    def handle(self, *args, batch_size: int = 500, **options) -> None:
        checked, changed = next_available_refresh_all(batch_size=batch_size)
        self.stdout.write(self.style.SUCCESS(f"Next free slot: {changed} of {checked} verified doctors changed."))
