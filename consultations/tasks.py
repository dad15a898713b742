"""Background work for consultations: the reminders before each one.

`send_reminders` does what `manage.py send_reminders` does, for deployments
that schedule tasks rather than cron. Either way, run it every 5 minutes:

    */5 * * * * cd /srv/dhanwantari && .venv/bin/python manage.py send_reminders

Running it twice, or twice at once, sends nothing twice (consultations.reminders).
"""

from __future__ import annotations

from django_tasks import task

from consultations.reminders import reminders_send


@task()
def send_reminders() -> int:
    """Send the 24-hour and 1-hour reminders owed now; returns how many were sent."""
    return reminders_send()
