"""Documented shapes of the prescription items' JSON columns (JSON Schema 2020-12).

instruction_codes   ["clean_mouth", "avoid_coffee"]
    The preset instructions ticked for a remedy, from INSTRUCTIONS (the words
    printed for each are there too). Free text goes to `instructions`.

lm_plan             {"succussions": 10, "bottle_ml": 30, "dilution_cups": 1,
                     "steps": [{"level": 1, "days": 15}, {"level": 2, "days": 15}],
                     "notes": "Stop and write to me if the old symptoms return strongly."}
    How an LM (fifty-millesimal) potency is taken: the medicine bottle of
    `bottle_ml` of water the globule is dissolved in, `succussions` firm
    strokes of the bottle before each dose, the number of dilution cups it
    passes through, and the steps: each LM level for so many days, rising one
    level at a time. Only an item whose potency scale is LM has one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

# code -> the words printed on the prescription. The order is the order shown.
INSTRUCTIONS: dict[str, str] = {
    "clean_mouth": "Nothing by mouth (food, drink, toothpaste, tobacco) for 30 minutes before and after each dose.",
    "under_tongue": "Let the medicine dissolve under the tongue; tip it into the cap, do not touch it by hand.",
    "avoid_coffee": "Avoid coffee while taking this medicine.",
    "avoid_camphor": "Avoid camphor, and balms and vapour rubs that contain it.",
    "avoid_mint": "Avoid mint and menthol, including strong mint toothpaste.",
    "avoid_strong_smells": "Keep away from strong smells: perfume, incense, onion and garlic when you take it.",
    "shake_bottle": "Shake (succuss) the bottle firmly before each dose.",
    "store_away": "Store tightly closed, away from sunlight, heat and strong smells.",
    "external_use": "For external use only. Do not swallow.",
    "stop_when_better": "Stop when you are clearly better, and tell your doctor.",
}

INSTRUCTION_CODES: dict[str, Any] = {
    "type": "array",
    "maxItems": len(INSTRUCTIONS),
    "uniqueItems": True,
    "items": {
        "enum": list(INSTRUCTIONS),
        "errorMessage": "must be one of: " + ", ".join(INSTRUCTIONS) + ".",
    },
}

LM_MAX_LEVEL = 100  # the highest LM potency prescriptions.potency accepts
LM_MAX_STEPS = 12


def _whole(minimum: int, maximum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


LM_PLAN: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["steps"],
    "properties": {
        "succussions": _whole(1, 40),
        "bottle_ml": _whole(5, 500),
        "dilution_cups": _whole(1, 4),
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": LM_MAX_STEPS,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["level", "days"],
                "properties": {"level": _whole(1, LM_MAX_LEVEL), "days": _whole(1, 365)},
            },
        },
        "notes": {"type": "string", "maxLength": 300},
    },
}


def check_lm_plan(plan: dict[str, Any]) -> None:
    """Steps climb one LM level at a time (LM1, LM2, LM3 ...), as LM potencies are given."""
    levels = [step["level"] for step in plan.get("steps", []) if isinstance(step, dict) and "level" in step]
    for before, after in zip(levels, levels[1:], strict=False):
        if after != before + 1:
            raise ValidationError("steps: each step goes up one LM level from the one before.", code="lm_steps")
