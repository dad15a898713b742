"""Documented shapes of the doctor profile's JSON columns (JSON Schema 2020-12).

availability — the doctor's working hours, in the doctor's own time zone:

    {
      "timezone": "Asia/Kolkata",          # IANA name
      "slot_minutes": 20,                  # length of one consultation slot, 5–240
      "buffer_minutes": 5,                 # gap kept free after each slot, 0–120
      "weekly": {                          # weekday -> working ranges, "HH:MM" 24 h
        "mon": [{"start": "09:30", "end": "13:00"}, {"start": "17:00", "end": "20:00"}],
        "sat": [{"start": "10:00", "end": "14:00"}]
      },
      "overrides": [                       # dates that differ from the week
        {"date": "2026-12-25", "ranges": []},                              # leave day
        {"date": "2026-12-27", "ranges": [{"start": "10:00", "end": "12:00"}]}  # extra hours
      ]
    }

Ranges on one day must each end after they start and must not overlap.

qualifications — ["BHMS", "MD (Hom)"]; specializations — slugs from SPECIALIZATIONS;
languages — names such as "English", "Hindi"; consultation_modes — from MODES.
"""

from __future__ import annotations

from datetime import date, time
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

MODES = ["chat", "audio", "video", "in_person"]

# A curated list that fits homeopathic practice; slugs are stored, labels shown.
SPECIALIZATIONS = {
    "classical": "Classical homeopathy",
    "paediatrics": "Children's health",
    "womens_health": "Women's health and PCOS",
    "dermatology": "Skin and hair",
    "respiratory_allergy": "Allergies, asthma and sinus",
    "digestive": "Digestive health",
    "musculoskeletal": "Joints, back and arthritis",
    "mental_emotional": "Anxiety, stress and sleep",
    "endocrine": "Thyroid and diabetes support",
    "ent": "Ear, nose and throat",
    "infertility": "Fertility",
    "geriatrics": "Elderly care",
    "lifestyle": "Lifestyle and weight",
    "acute": "Acute and seasonal illness",
    "chronic": "Chronic and recurring illness",
}

_TIME = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "errorMessage": "times are HH:MM (24-hour)."}
_RANGE = {
    "type": "object",
    "required": ["start", "end"],
    "additionalProperties": False,
    "properties": {"start": _TIME, "end": _TIME},
}
_RANGES = {"type": "array", "items": _RANGE, "maxItems": 12}

AVAILABILITY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["slot_minutes", "weekly"],
    "properties": {
        "timezone": {"type": "string", "maxLength": 64},
        "slot_minutes": {"type": "integer", "minimum": 5, "maximum": 240},
        "buffer_minutes": {"type": "integer", "minimum": 0, "maximum": 120},
        "weekly": {
            "type": "object",
            "additionalProperties": False,
            "properties": {day: _RANGES for day in WEEKDAYS},
        },
        "overrides": {
            "type": "array",
            "maxItems": 366,
            "items": {
                "type": "object",
                "required": ["date", "ranges"],
                "additionalProperties": False,
                "properties": {
                    "date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                    "ranges": _RANGES,
                    "note": {"type": "string", "maxLength": 120},
                },
            },
        },
    },
}


def _string_list(*, enum: list[str] | None = None, max_items: int = 20) -> dict:
    item: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 80}
    if enum is not None:
        item = {"enum": enum, "errorMessage": "must be one of: " + ", ".join(enum) + "."}
    return {"type": "array", "items": item, "maxItems": max_items, "uniqueItems": True}


QUALIFICATIONS = _string_list()
LANGUAGES = _string_list()
SPECIALIZATION_LIST = _string_list(enum=list(SPECIALIZATIONS))
MODE_LIST = _string_list(enum=MODES)


def _minutes(hhmm: str) -> int:
    parsed = time.fromisoformat(hhmm)
    return parsed.hour * 60 + parsed.minute


def _check_ranges(where: str, ranges: list[dict[str, str]]) -> None:
    spans = sorted((_minutes(r["start"]), _minutes(r["end"])) for r in ranges)
    for start, end in spans:
        if end <= start:
            raise ValidationError(f"{where}: a range must end after it starts.")
    for (_, prev_end), (next_start, _) in zip(spans, spans[1:], strict=False):
        if next_start < prev_end:
            raise ValidationError(f"{where}: working ranges overlap.")


@cache
def _known_timezones() -> frozenset[str]:
    # available_timezones() rescans the zoneinfo files on every call (~50 ms).
    return frozenset(available_timezones())


def check_availability(value: dict[str, Any]) -> None:
    """Rules a JSON Schema cannot state: ranges in order, dates and zone real."""
    tz = value.get("timezone")
    if tz and tz not in _known_timezones():
        raise ValidationError(f"timezone: '{tz}' is not a known time zone.")
    for day, ranges in value.get("weekly", {}).items():
        _check_ranges(f"weekly.{day}", ranges)
    seen: set[str] = set()
    for override in value.get("overrides", []):
        day = override["date"]
        try:
            date.fromisoformat(day)
        except ValueError as exc:
            raise ValidationError(f"overrides: '{day}' is not a real date.") from exc
        if day in seen:
            raise ValidationError(f"overrides: {day} appears twice.")
        seen.add(day)
        _check_ranges(f"overrides.{day}", override["ranges"])
