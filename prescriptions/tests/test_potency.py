"""Potency as doctors write it: one table of what parses to what, one of what is refused."""

from __future__ import annotations

import pytest

from prescriptions.potency import (
    POTENCY_INVALID,
    POTENCY_REQUIRED,
    POTENCY_ZERO,
    Potency,
    PotencyError,
    display,
    parse_potency,
)

# typed -> (value, scale, as printed)
READS = [
    ("30", 30, "C", "30C"),
    ("30C", 30, "C", "30C"),
    ("30c", 30, "C", "30C"),
    ("30CH", 30, "C", "30C"),
    ("200ch", 200, "C", "200C"),
    (" 200 C ", 200, "C", "200C"),
    ("6X", 6, "X", "6X"),
    ("6x", 6, "X", "6X"),
    ("6D", 6, "X", "6X"),
    ("12DH", 12, "X", "12X"),
    ("1M", 1000, "C", "1M"),
    ("1m", 1000, "C", "1M"),
    ("10M", 10_000, "C", "10M"),
    ("50M", 50_000, "C", "50M"),
    ("CM", 100_000, "C", "CM"),
    ("cm", 100_000, "C", "CM"),
    ("MM", 1_000_000, "C", "MM"),
    ("1000", 1000, "C", "1M"),
    ("LM1", 1, "LM", "LM1"),
    ("lm 3", 3, "LM", "LM3"),
    ("0/1", 1, "LM", "LM1"),
    ("0/12", 12, "LM", "LM12"),
    ("1LM", 1, "LM", "LM1"),
    ("Q", None, "Q", "Q"),
    ("q", None, "Q", "Q"),
    ("Ø", None, "Q", "Q"),
    ("ø", None, "Q", "Q"),
    ("MT", None, "Q", "Q"),
    ("mother tincture", None, "Q", "Q"),
    ("Mother Tincture", None, "Q", "Q"),
]

# typed -> the refusal's code
REFUSED = [
    ("abc", "invalid"),
    ("0C", "zero"),
    ("0", "zero"),
    ("0M", "zero"),
    ("30Z", "invalid"),
    ("-5", "invalid"),
    ("LM0", "zero"),
    ("0/0", "zero"),
    ("1.5C", "invalid"),
    ("30CC", "invalid"),
    ("C30", "invalid"),
    ("LM", "invalid"),
    ("LM101", "too_high"),
    ("2000X", "too_high"),
    ("2000M", "too_high"),
    ("", "required"),
    ("   ", "required"),
]


@pytest.mark.parametrize(("typed", "value", "scale", "shown"), READS)
def test_a_potency_reads_to_its_canonical_form(typed, value, scale, shown):
    potency = parse_potency(typed)

    assert potency == Potency(value, scale)
    assert potency.display == shown
    assert display(value, scale) == shown


@pytest.mark.parametrize(("typed", "code"), REFUSED)
def test_nonsense_is_refused_with_a_reason(typed, code):
    with pytest.raises(PotencyError) as refused:
        parse_potency(typed)

    assert refused.value.code == code
    assert refused.value.messages[0]


def test_the_messages_say_what_to_write():
    with pytest.raises(PotencyError) as empty:
        parse_potency("")
    with pytest.raises(PotencyError) as nonsense:
        parse_potency("abc")
    with pytest.raises(PotencyError) as zero:
        parse_potency("0C")

    assert empty.value.messages == [POTENCY_REQUIRED]
    assert nonsense.value.messages == [POTENCY_INVALID.format(text="abc")]
    assert zero.value.messages == [POTENCY_ZERO.format(text="0C")]


def test_an_empty_optional_potency_is_none():
    assert parse_potency("", required=False) is None
    assert parse_potency(None, required=False) is None
