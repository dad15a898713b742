"""`manage.py seed_demo`: load the demo data set (see dhanwantari/demo.py).

Idempotent: run it as often as you like; `make run` runs it on every start.
The demo password comes from DEMO_PASSWORD, default "dhanwantari-demo".
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from dhanwantari import demo


class Command(BaseCommand):
    help = "Load the demo doctors, patients, consultations and prescriptions (safe to run again)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DEBUG is off and the database holds accounts that are not demo accounts.",
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
        try:
            logins = demo.seed(password=password, force=force)
        except demo.SeedRefused as exc:
            raise CommandError(str(exc)) from exc

        # A password from the environment is a secret: name the variable, not the value.
        shown = "$DEMO_PASSWORD" if os.environ.get("DEMO_PASSWORD") else demo.DEFAULT_PASSWORD
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded. Every demo login's password: {shown}"))
        table = [("email", "role", "id", "who"), *((x.email, x.role, x.id, x.note) for x in logins)]
        widths = [max(len(row[i]) for row in table) for i in range(4)]
        table.insert(1, tuple("-" * width for width in widths))
        for row in table:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
