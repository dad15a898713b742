"""`manage.py triage`: one JSON verdict per input line, in order."""

from __future__ import annotations

import io
import json

from django.core.management import call_command

MESSAGES = [
    "I have chest pain since an hour",
    "",
    "साँस नहीं आ रही",
    "tez bukhar hai kal raat se",
    "acidity after tea",
]


def run(monkeypatch, text: str, *args: str) -> list[dict]:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    out = io.StringIO()
    call_command("triage", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_prints_one_json_line_per_message_in_order_and_skips_blank_lines(monkeypatch):
    records = run(monkeypatch, "\n".join(MESSAGES) + "\n")

    assert records == [
        {"level": "emergency", "rules": ["chest_pain"], "text": "I have chest pain since an hour"},
        {"level": "emergency", "rules": ["breathing"], "text": "साँस नहीं आ रही"},
        {"level": "urgent", "rules": ["high_fever"], "text": "tez bukhar hai kal raat se"},
        {"level": "routine", "rules": [], "text": "acidity after tea"},
    ]


def test_it_writes_devanagari_as_is(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("सीने में दर्द\n"))
    out = io.StringIO()
    call_command("triage", stdout=out)

    assert "सीने में दर्द" in out.getvalue()


def test_it_can_print_only_flagged_messages(monkeypatch):
    records = run(monkeypatch, "\n".join(MESSAGES), "--only-flagged")

    assert [record["level"] for record in records] == ["emergency", "emergency", "urgent"]


def test_it_reads_a_stream_passed_by_the_caller():
    out = io.StringIO()
    call_command("triage", stdin=io.StringIO("I want to die\n"), stdout=out)

    assert json.loads(out.getvalue()) == {"level": "emergency", "rules": ["self_harm"], "text": "I want to die"}
