"""Validators shared by several apps."""

from __future__ import annotations

from django.core.validators import RegexValidator

# E.164: a plus, a country code that does not start with 0, at most 15 digits.
validate_e164_phone = RegexValidator(
    regex=r"^\+[1-9]\d{6,14}$",
    message="Enter the number in international form, e.g. +919812345678.",
    code="invalid_phone",
)
