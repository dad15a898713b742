"""`manage.py records_ocr`: read the text of uploaded records again.

After installing Tesseract on a machine that had none, or switching OCR on,
the files uploaded meanwhile say "OCR engine not installed"; this queues them:

    python manage.py records_ocr                     # unavailable ones (the default)
    python manage.py records_ocr --status failed --status unavailable

With TASKS_BACKEND=database, `manage.py db_worker` does the reading.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from records import ocr, services
from records.models import OcrStatus

REQUEUEABLE = (OcrStatus.UNAVAILABLE, OcrStatus.FAILED, OcrStatus.PENDING)


class Command(BaseCommand):
    help = "Queue OCR again for uploaded records in the given states (default: unavailable)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--status",
            action="append",
            choices=[str(status) for status in REQUEUEABLE],
            help="OCR state to read again; repeat for several. Default: unavailable.",
        )

    def handle(self, *args, status: list[str] | None = None, **options) -> None:
        statuses = status or [OcrStatus.UNAVAILABLE]
        engine = ocr.engine_status()
        if engine != "available":
            raise CommandError(f"{engine} Install it first (scripts/sysdeps.sh), then run this again.")
        queued = services.file_ocr_requeue(statuses=statuses)
        self.stdout.write(self.style.SUCCESS(f"Queued {queued} file{'s' if queued != 1 else ''} for OCR."))
