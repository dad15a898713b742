"""Potency: what a doctor types, the (value, scale) we store, and how it is written.

Homeopathic potencies come on four scales (prescription_items.potency_scale):

- X, decimal (1:10 steps). Also written D or DH in Europe: 6X = 6D = 6DH.
- C, centesimal (1:100 steps). A bare number means C (30 = 30C = 30CH).
  The thousands are written with M: 1M = 1000C, 10M, 50M; CM = 100 000C;
  MM = 1 000 000C. They are stored as C with the full number, shown as M.
- LM, fifty-millesimal (Hahnemann's Q potencies): LM1, LM2 ... Also written
  0/1, 0/2 in Hahnemannian notation.
- Q, mother tincture (no number): Q, Ø, MT, "mother tincture".

`parse_potency("200ch")` gives Potency(200, "C"), shown "200C"; nonsense gives
a PotencyError (a ValidationError) whose message says what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

DECIMAL = "X"
CENTESIMAL = "C"
LM = "LM"
MOTHER_TINCTURE = "Q"

# Upper bounds: beyond these a value is a typo, not a potency anyone dispenses.
MAX_VALUE = {DECIMAL: 1000, CENTESIMAL: 1_000_000, LM: 100}

POTENCY_REQUIRED = "Enter the potency, e.g. 30, 200C, 1M, 6X, LM1 or Q."
POTENCY_INVALID = "“{text}” is not a potency we know. Write it like 30, 200C, 1M, 6X, LM1 or Q (mother tincture)."
POTENCY_ZERO = "A potency starts at 1: “{text}” has none."
POTENCY_TOO_HIGH = "“{text}” is higher than any {scale} potency made. Check the number."

_MOTHER_TINCTURE_WORDS = {"q", "ø", "φ", "ϕ", "θ", "mt", "mothertincture", "tincture", "tinct", "tr"}
# number + suffix; the suffix decides the scale (and M/CM/MM multiply).
_NUMBER_SUFFIX = re.compile(r"^(?P<number>\d{1,7})(?P<suffix>|c|ch|x|d|dh|m|lm)$")
_LM_PREFIX = re.compile(r"^(?:lm|0/)(?P<number>\d{1,3})$")
_NAMED_THOUSANDS = {"cm": 100_000, "mm": 1_000_000}


class PotencyError(ValidationError):
    """A potency that could not be read; `code` is required, invalid, zero or too_high."""


@dataclass(frozen=True)
class Potency:
    value: int | None  # None only for mother tincture
    scale: str  # X, C, LM or Q

    @property
    def display(self) -> str:
        return display(self.value, self.scale)

    def __str__(self) -> str:
        return self.display


def display(value: int | None, scale: str) -> str:
    """The way a potency is written on a prescription: 6X, 30C, 1M, CM, LM1, Q."""
    if scale == MOTHER_TINCTURE:
        return "Q"
    if value is None or not scale:
        return ""
    if scale == LM:
        return f"LM{value}"
    if scale == CENTESIMAL and value >= 1000:
        if value == 1_000_000:
            return "MM"
        if value == 100_000:
            return "CM"
        if value % 1000 == 0:
            return f"{value // 1000}M"
    return f"{value}{scale}"


def parse_potency(text: str | None, *, required: bool = True) -> Potency | None:
    """Read a potency as people write it; None for an empty optional one."""
    raw = (text or "").strip()
    # "30 C", "LM 1", "1 M" and "mother tincture" are all written with spaces.
    key = re.sub(r"\s+", "", raw).casefold()
    if not key:
        if required:
            raise PotencyError(POTENCY_REQUIRED, code="required")
        return None
    shown = raw[:20]
    if key in _MOTHER_TINCTURE_WORDS:
        return Potency(None, MOTHER_TINCTURE)
    if key in _NAMED_THOUSANDS:
        return Potency(_NAMED_THOUSANDS[key], CENTESIMAL)

    lm = _LM_PREFIX.match(key)
    if lm:
        return _checked(int(lm["number"]), LM, shown)
    match = _NUMBER_SUFFIX.match(key)
    if match is None:
        raise PotencyError(POTENCY_INVALID.format(text=shown), code="invalid")
    number, suffix = int(match["number"]), match["suffix"]
    if suffix in ("x", "d", "dh"):
        return _checked(number, DECIMAL, shown)
    if suffix == "m":
        return _checked(number * 1000, CENTESIMAL, shown)
    if suffix == "lm":
        # "1LM" is sometimes written for LM1.
        return _checked(number, LM, shown)
    return _checked(number, CENTESIMAL, shown)


def _checked(value: int, scale: str, shown: str) -> Potency:
    if value == 0:
        raise PotencyError(POTENCY_ZERO.format(text=shown), code="zero")
    if value > MAX_VALUE[scale]:
        raise PotencyError(POTENCY_TOO_HIGH.format(text=shown, scale=scale), code="too_high")
    return Potency(value, scale)
