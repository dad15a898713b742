"""`manage.py generate_load_data --scale N`: fill the database for load tests (see dhanwantari/loadgen.py).

A load-test tool: it refuses to run with DEBUG off unless --force, and refuses a
database that already holds generated data unless --append.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from dhanwantari import loadgen


class Command(BaseCommand):
    help = "Fill the database with generated doctors, patients, consultations, messages … for load tests."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="1 = 2,000 doctors, 50,000 patients, …")
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed, the same data shape.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5_000,
            help="Rows per INSERT (5,000 consultations: ~5 MB of SQL; MySQL's max_allowed_packet defaults to 16 MB).",
        )
        parser.add_argument("--append", action="store_true", help="Add to generated data already there.")
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")

    def handle(self, *args, scale: float, seed: int, batch_size: int, append: bool, force: bool, **options) -> None:
        if scale <= 0 or batch_size <= 0:
            raise CommandError("--scale and --batch-size must be positive.")
        planned = loadgen.plan(scale)
        self.stdout.write("Generating: " + ", ".join(f"{name} {count:,}" for name, count in planned.items()))
        started = time.monotonic()

        def log(line: str) -> None:
            self.stdout.write(f"{line}  [{time.monotonic() - started:.1f}s]")

        try:
            result = loadgen.generate(
                scale=scale, seed=seed, batch_size=batch_size, append=append, force=force, log=log
            )
        except loadgen.GenerationRefused as exc:
            raise CommandError(str(exc)) from exc

        totals = loadgen.table_counts()
        self.stdout.write(f"\n{'table':<22}{'generated':>12}{'in table':>12}")
        for table, total in totals.items():
            self.stdout.write(f"{table:<22}{result.counts.get(table, 0):>12,}{total:>12,}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {result.seconds:.1f}s. Every generated login's password: {loadgen.LOAD_PASSWORD}"
            )
        )
