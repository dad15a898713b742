"""Re-encrypt every encrypted column with the first FIELD_ENCRYPTION_KEYS key.

Rotating a key: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old
ones after it), deploy, run this command, then remove the old keys. Rows still
in plaintext (written before the columns were encrypted) are encrypted too.
Idempotent: a value the first key already made is left alone, so a second run
rewrites nothing. Safe while the site runs: each row is written only if it
still holds what was read (see dhanwantari.crypto.rewrite_columns).
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dhanwantari.crypto import DecryptionError, encrypted_fields, rewrite_columns, rotated_if_needed


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column with the first FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows read per batch (default 500).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be rewritten; write nothing.")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, batch_size: int, dry_run: bool, database: str, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        total = 0
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields or not model._meta.managed or model._meta.proxy:
                continue
            names = [field.name for field in fields]
            try:
                count = rewrite_columns(
                    model, names, rotated_if_needed, batch_size=batch_size, dry_run=dry_run, using=database
                )
            except DecryptionError as exc:
                # Nothing written for this batch (it is one transaction); earlier batches stay rotated.
                raise CommandError(f"{exc} Add the key that made it to FIELD_ENCRYPTION_KEYS and run again.") from exc
            total += count.rewritten
            line = f"{model._meta.db_table} ({', '.join(names)}): {count.rows} rows, {count.rewritten} {verb}"
            if count.skipped:
                line += f", {count.skipped} changed meanwhile (already under the current key)"
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows {verb}."))
