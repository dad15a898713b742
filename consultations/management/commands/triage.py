"""`manage.py triage`: run the red-flag guard over messages, one per line.

Reads UTF-8 text on standard input and prints, for each non-blank line, one JSON
object: {"level": "emergency", "rules": ["chest_pain"], "text": "<the line>"}.
Blank lines are skipped (they print nothing). Useful to check the guard
(consultations.intake.guard) against a file of real messages:

    .venv/bin/python manage.py triage < messages.txt
    .venv/bin/python manage.py triage --only-flagged < messages.txt
"""

from __future__ import annotations

import io
import json
import sys

from django.core.management.base import BaseCommand

from consultations.intake.guard import ROUTINE, assess


class Command(BaseCommand):
    help = (
        "Read patient messages from standard input, one per line (UTF-8), and print for each a JSON line "
        '{"level": ..., "rules": [...], "text": ...} with the red-flag guard\'s verdict. Blank lines are skipped.'
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--only-flagged", action="store_true", help="Print only the messages that are urgent or an emergency."
        )

    def handle(self, *args, only_flagged: bool = False, stdin=None, **options) -> None:
        # `stdin` lets call_command pass a stream; otherwise read the process's standard input as UTF-8.
        source = stdin if stdin is not None else _utf8(sys.stdin)
        for line in source:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            verdict = assess(text)
            if only_flagged and verdict.level == ROUTINE:
                continue
            record = {"level": verdict.level, "rules": list(verdict.rules), "text": text}
            self.stdout.write(json.dumps(record, ensure_ascii=False))


def _utf8(stream):
    buffer = getattr(stream, "buffer", None)
    return io.TextIOWrapper(buffer, encoding="utf-8", errors="replace") if buffer is not None else stream
