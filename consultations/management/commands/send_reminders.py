"""`manage.py send_reminders`: send the 24-hour and 1-hour consultation reminders owed now.

Each reminder goes to the patient and the doctor, in-app, by email and by SMS
where they opted in, exactly once however often or concurrently this runs
(see consultations.reminders for the rules). Run it from cron every 5 minutes:

    */5 * * * * cd /srv/dhanwantari && .venv/bin/python manage.py send_reminders

`--dry-run` lists what would be sent and changes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from consultations.reminders import reminders_due, reminders_send


class Command(BaseCommand):
    help = (
        "Send the 24-hour and 1-hour reminders of scheduled consultations that are due now, each once. "
        "Cron: */5 * * * * cd /srv/dhanwantari && .venv/bin/python manage.py send_reminders"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List the reminders due; send and mark nothing.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        if dry_run:
            due = [reminder for reminder in reminders_due() if reminder.send]
            for reminder in due:
                consultation = reminder.consultation
                self.stdout.write(
                    f"{reminder.which} reminder: {consultation.pk} at {consultation.scheduled_at:%Y-%m-%d %H:%M} UTC"
                )
            self.stdout.write(f"Would send {_reminders(len(due))}.")
            return
        sent = reminders_send()
        self.stdout.write(self.style.SUCCESS(f"Sent {_reminders(sent)}."))


def _reminders(count: int) -> str:
    return f"{count} reminder" if count == 1 else f"{count} reminders"
