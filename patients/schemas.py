"""Documented shapes of the patient profile's JSON columns (JSON Schema 2020-12).

allergies          [{"name": "Pollen", "severity": "moderate", "reaction": "sneezing"}]
medications        [{"name": "XYZ", "dosage": "5mg", "frequency": "daily", "since": "2024"}]
chronic_conditions [{"name": "Hypothyroidism", "since": "2019", "notes": "on thyroxine"}]

Only `name` is required in each item; other keys are optional strings, and
`severity` is one of SEVERITIES. Unknown keys are refused so typos are caught.
"""

from __future__ import annotations

SEVERITIES = ["mild", "moderate", "severe", "life_threatening"]


def _text(max_length: int) -> dict:
    return {"type": "string", "maxLength": max_length}


def _named_list(properties: dict, *, max_items: int = 50) -> dict:
    return {
        "type": "array",
        "maxItems": max_items,
        "items": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": r"\S"},
                **properties,
            },
        },
    }


ALLERGIES = _named_list(
    {
        "severity": {
            "enum": SEVERITIES,
            "errorMessage": "severity must be one of: " + ", ".join(SEVERITIES) + ".",
        },
        "reaction": _text(200),
    }
)

MEDICATIONS = _named_list(
    {
        "dosage": _text(60),
        "frequency": _text(60),
        "since": _text(40),
        "notes": _text(300),
    }
)

CHRONIC_CONDITIONS = _named_list({"since": _text(40), "notes": _text(300)})
