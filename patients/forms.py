"""Forms for the patient's own profile: the profile fields, and one formset per
JSON list (allergies, current medications, chronic conditions).

The row editors are Django formsets so that they work without JavaScript: a
couple of blank rows at the end and a "Remove" tick on each row.
static/js/profile-rows.js only adds an "Add another" button on top of that (it
clones the formset's `empty_form` and bumps TOTAL_FORMS).

Rows come out in the shapes documented in patients/schemas.py, with empty
optional keys left out: a row typed as "Pollen" / "Moderate" / "" is stored as
{"name": "Pollen", "severity": "moderate"}.

`ProfileEditForms` bundles the form and the three formsets so a view can
validate all of them before anything is written. The forms only validate; the
write is `patients.services.patient_profile_update`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.adapters import normalise_phone
from patients import schemas
from patients.models import BloodGroup, Gender, PatientProfile

# --- choices ---------------------------------------------------------------------

# Stored as ISO 639-1 codes (patient_profiles.preferred_language, max 10 chars).
PREFERRED_LANGUAGES: list[tuple[str, str]] = [
    ("en", "English"),
    ("hi", "Hindi"),
    ("mr", "Marathi"),
    ("bn", "Bengali"),
    ("ta", "Tamil"),
    ("te", "Telugu"),
    ("kn", "Kannada"),
    ("ml", "Malayalam"),
    ("gu", "Gujarati"),
    ("pa", "Punjabi"),
    ("or", "Odia"),
    ("ur", "Urdu"),
]

# Most patients live in India; these are the countries Indian families most
# often live in besides. No maintained country list is installed, and a
# 250-name select is a poor control on a phone, so the list is short; a code
# already stored that is not in it (set by staff) is kept as a choice.
COUNTRIES: list[tuple[str, str]] = [
    ("IN", "India"),
    ("AU", "Australia"),
    ("BH", "Bahrain"),
    ("BD", "Bangladesh"),
    ("BT", "Bhutan"),
    ("CA", "Canada"),
    ("DE", "Germany"),
    ("KW", "Kuwait"),
    ("MY", "Malaysia"),
    ("MU", "Mauritius"),
    ("NP", "Nepal"),
    ("NZ", "New Zealand"),
    ("OM", "Oman"),
    ("QA", "Qatar"),
    ("SA", "Saudi Arabia"),
    ("SG", "Singapore"),
    ("ZA", "South Africa"),
    ("LK", "Sri Lanka"),
    ("AE", "United Arab Emirates"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
]

# Labels for the fixed list in patients/schemas.py, which stays the source of truth.
_SEVERITY_WORDS = {"life_threatening": "Life-threatening"}
SEVERITY_CHOICES: list[tuple[str, str]] = [
    (value, _SEVERITY_WORDS.get(value, value.replace("_", " ").capitalize())) for value in schemas.SEVERITIES
]


def language_label(code: str) -> str:
    return dict(PREFERRED_LANGUAGES).get(code, code)


def country_label(code: str) -> str:
    return dict(COUNTRIES).get(code, code)


def severity_label(value: str) -> str:
    return dict(SEVERITY_CHOICES).get(value, value)


def readable_phone(e164: str) -> str:
    """+919812345678 as people write it, +91 98123 45678; anything unparsable as it is."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- messages (tests import these) -----------------------------------------------

FULL_NAME_REQUIRED = "Enter your name as you would like doctors to see it."
DOB_IN_FUTURE = "Your date of birth cannot be in the future."
DOB_TOO_LONG_AGO = "Check the year: that date is more than 130 years ago."
DOB_INVALID = "Enter a real date of birth: day, month and year."
HEIGHT_RANGE = "Enter your height in centimetres, between 30 and 272."
WEIGHT_RANGE = "Enter your weight in kilograms, between 0.5 and 500."
NUMBER_INVALID = "Enter a number, e.g. 162 or 162.5."
PIN_INVALID = "Enter the 6-digit PIN code, e.g. 411001."
POSTAL_CODE_INVALID = "Enter a postal code of letters, digits, spaces or dashes."
CONTACT_NAME_REQUIRED = "Add the name of the person we should call."
CONTACT_PHONE_REQUIRED = "Add a number we can reach them on."
CHOICE_INVALID = "Choose one of the options in the list."
SEVERITY_INVALID = "Choose a severity from the list."
ROW_NAME_REQUIRED = {
    "allergies": "Name the allergy, or leave the whole row blank.",
    "medications": "Name the medicine, or leave the whole row blank.",
    "chronic_conditions": "Name the condition, or leave the whole row blank.",
}
ROW_DUPLICATE = "{name} is already on the list above."
ROWS_TOO_MANY = "You can list at most %(num)d. Remove some to add more."
ROWS_TAMPERED = "The rows could not be read. Reload the page and try again."

MAX_ROWS = 50  # maxItems in patients/schemas.py
TEXT_MAX = 5000  # medical and family history: room for a page of notes, not a book


# --- the profile's own fields -----------------------------------------------------------


def _one_decimal(value: Decimal | None) -> Decimal | None:
    # 162.55 cm is a typo's precision, not a measurement; the column keeps one decimal.
    return None if value is None else value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _plain(value: Any) -> Any:
    # 162.0 cm shows as "162" in the input; 162.5 stays as it is.
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value


def _tidy(text: str) -> str:
    return " ".join(text.split())


class ProfileForm(forms.Form):
    """Demographics, body, history, emergency contact, language and address."""

    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={"required": FULL_NAME_REQUIRED},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        error_messages={"invalid": DOB_INVALID},
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    gender = forms.ChoiceField(
        label="Gender",
        required=False,
        choices=[("", "Choose…"), *Gender.choices],
        error_messages={"invalid_choice": CHOICE_INVALID},
        widget=forms.Select(attrs={"autocomplete": "sex"}),
    )
    height_cm = forms.DecimalField(
        label="Height",
        help_text="In centimetres.",
        required=False,
        min_value=30,
        max_value=272,
        error_messages={"min_value": HEIGHT_RANGE, "max_value": HEIGHT_RANGE, "invalid": NUMBER_INVALID},
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    weight_kg = forms.DecimalField(
        label="Weight",
        help_text="In kilograms.",
        required=False,
        min_value=Decimal("0.5"),
        max_value=500,
        error_messages={"min_value": WEIGHT_RANGE, "max_value": WEIGHT_RANGE, "invalid": NUMBER_INVALID},
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    blood_group = forms.ChoiceField(
        label="Blood group",
        required=False,
        choices=[("", "Not known"), *BloodGroup.choices],
        error_messages={"invalid_choice": CHOICE_INVALID},
    )
    medical_history = forms.CharField(
        label="Past medical history",
        help_text="Illnesses, operations, hospital stays and vaccinations, with the year if you know it.",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    family_history = forms.CharField(
        label="Family history",
        help_text="Conditions that run in your family, e.g. diabetes (father), asthma (sister).",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    emergency_contact_name = forms.CharField(
        label="Name",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    emergency_contact_phone = forms.CharField(
        label="Phone number",
        help_text="Indian numbers need no +91.",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    emergency_contact_relation = forms.CharField(
        label="Relation to you",
        help_text="e.g. mother, husband, friend.",
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    preferred_language = forms.ChoiceField(
        label="Preferred language",
        help_text="For consultations and messages, where your doctor speaks it.",
        choices=PREFERRED_LANGUAGES,
        error_messages={"invalid_choice": CHOICE_INVALID},
    )
    address_line1 = forms.CharField(
        label="Address line 1",
        help_text="House or flat, building, street.",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label="Address line 2",
        help_text="Area or locality (optional).",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label="Town or city",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    state = forms.CharField(
        label="State",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    postal_code = forms.CharField(
        label="PIN or postal code",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    country = forms.ChoiceField(
        label="Country",
        choices=COUNTRIES,
        error_messages={"invalid_choice": CHOICE_INVALID},
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )

    def __init__(self, data=None, *, profile: PatientProfile, **kwargs: Any) -> None:
        initial = {name: _plain(getattr(profile, name)) for name in self.base_fields}
        initial["emergency_contact_phone"] = readable_phone(profile.emergency_contact_phone)
        super().__init__(data, initial=initial, **kwargs)
        self.fields["date_of_birth"].widget.attrs["max"] = timezone.localdate().isoformat()
        if profile.country and profile.country not in dict(COUNTRIES):
            self.fields["country"].choices = [*COUNTRIES, (profile.country, profile.country)]

    def clean_full_name(self) -> str:
        name = _tidy(self.cleaned_data["full_name"])
        if len(name) < 2:
            raise ValidationError(FULL_NAME_REQUIRED)
        return name

    def clean_date_of_birth(self) -> date | None:
        born = self.cleaned_data["date_of_birth"]
        if born is None:
            return None
        # The person's own "today" (their timezone is active for the request).
        today = timezone.localdate()
        if born > today:
            raise ValidationError(DOB_IN_FUTURE)
        if today.year - born.year > 130:
            raise ValidationError(DOB_TOO_LONG_AGO)
        return born

    def clean_height_cm(self) -> Decimal | None:
        return _one_decimal(self.cleaned_data["height_cm"])

    def clean_weight_kg(self) -> Decimal | None:
        return _one_decimal(self.cleaned_data["weight_kg"])

    def clean_emergency_contact_phone(self) -> str:
        raw = self.cleaned_data["emergency_contact_phone"]
        return normalise_phone(raw) if raw else ""

    def clean_postal_code(self) -> str:
        return " ".join(self.cleaned_data["postal_code"].upper().split())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        name = cleaned.get("emergency_contact_name")
        phone = cleaned.get("emergency_contact_phone")
        if not self.has_error("emergency_contact_phone"):
            # A contact is a name and a number: either alone cannot be used in an emergency.
            if phone and not name:
                self.add_error("emergency_contact_name", CONTACT_NAME_REQUIRED)
            elif name and not phone:
                self.add_error("emergency_contact_phone", CONTACT_PHONE_REQUIRED)

        code = cleaned.get("postal_code")
        if code and not self.has_error("country"):
            if cleaned.get("country") == "IN":
                # India Post: six digits, the first never 0. People type "411 001" too.
                digits = code.replace(" ", "")
                if len(digits) == 6 and digits.isascii() and digits.isdigit() and digits[0] != "0":
                    cleaned["postal_code"] = digits
                else:
                    self.add_error("postal_code", PIN_INVALID)
            elif not all(ch.isascii() and (ch.isalnum() or ch in " -") for ch in code):
                self.add_error("postal_code", POSTAL_CODE_INVALID)
        return cleaned


# --- rows: allergies, medications, chronic conditions ----------------------------------------


def _text(example: str) -> forms.TextInput:
    return forms.TextInput(attrs={"placeholder": example, "autocomplete": "off"})


class RowForm(forms.Form):
    """One item of a JSON list; `name` is the only required key."""

    list_name: str = ""  # the profile field the rows go to

    name = forms.CharField(label="Name", max_length=120)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = ROW_NAME_REQUIRED[self.list_name]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for key, value in cleaned.items():
            if isinstance(value, str):
                cleaned[key] = _tidy(value)
        return cleaned

    def row(self) -> dict[str, str]:
        """The item as stored: only the keys that have a value."""
        return {key: value for key, value in self.cleaned_data.items() if key != "DELETE" and value}


class AllergyForm(RowForm):
    list_name = "allergies"

    name = forms.CharField(label="Allergic to", max_length=120, widget=_text("e.g. Penicillin, peanuts"))
    severity = forms.ChoiceField(
        label="Severity",
        required=False,
        choices=[("", "Not sure"), *SEVERITY_CHOICES],
        error_messages={"invalid_choice": SEVERITY_INVALID},
    )
    reaction = forms.CharField(label="Reaction", required=False, max_length=200, widget=_text("e.g. hives"))


class MedicationForm(RowForm):
    list_name = "medications"

    name = forms.CharField(label="Name", max_length=120, widget=_text("e.g. Thyroxine"))
    dosage = forms.CharField(label="Dose", required=False, max_length=60, widget=_text("e.g. 50 mcg"))
    frequency = forms.CharField(label="How often", required=False, max_length=60, widget=_text("e.g. daily"))
    since = forms.CharField(label="Since", required=False, max_length=40, widget=_text("e.g. 2021"))
    notes = forms.CharField(label="Notes", required=False, max_length=300)


class ConditionForm(RowForm):
    list_name = "chronic_conditions"

    name = forms.CharField(label="Name", max_length=120, widget=_text("e.g. Hypothyroidism"))
    since = forms.CharField(label="Since", required=False, max_length=40, widget=_text("e.g. 2019"))
    notes = forms.CharField(label="Notes", required=False, max_length=300)


class RowFormSet(forms.BaseFormSet):
    default_error_messages = {
        "missing_management_form": ROWS_TAMPERED,
        "too_many_forms": ROWS_TOO_MANY,
    }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            name = form.cleaned_data.get("name", "")
            if not name or self._should_delete_form(form):
                continue
            if name.casefold() in seen:
                form.add_error("name", ROW_DUPLICATE.format(name=name))
            seen.add(name.casefold())

    def is_removed(self, form: forms.Form) -> bool:
        """Ticked "Remove": its errors no longer matter."""
        return self.is_bound and self.can_delete and bool(form["DELETE"].value())

    def rows(self) -> list[dict[str, str]]:
        """The list as it will be stored, in the order shown; call after is_valid()."""
        # A blank extra row was never validated: its cleaned_data is empty.
        return [row for form in self.forms if not self._should_delete_form(form) and (row := form.row())]


def _formset(form: type[RowForm]) -> type[RowFormSet]:
    return forms.formset_factory(
        form,
        formset=RowFormSet,
        extra=2,
        can_delete=True,
        max_num=MAX_ROWS,
        validate_max=True,
    )


AllergyFormSet = _formset(AllergyForm)
MedicationFormSet = _formset(MedicationForm)
ConditionFormSet = _formset(ConditionForm)


# --- everything on the edit page ------------------------------------------------------------


@dataclass(frozen=True)
class FormError:
    """One line of the error summary: what is wrong, and the input to jump to."""

    target: str  # an element id on the page
    label: str
    message: str


@dataclass(frozen=True)
class RowSection:
    list_name: str  # the profile field: allergies, medications, chronic_conditions
    prefix: str
    title: str
    singular: str
    hint: str
    formset: RowFormSet


class ProfileEditForms:
    """The profile form and its three row editors, validated together.

    Nothing is written unless every part is valid: `is_valid()` runs all of
    them (no short-circuit) so every error shows at once.
    """

    def __init__(self, data=None, *, profile: PatientProfile) -> None:
        self.profile = profile
        self.form = ProfileForm(data, profile=profile)
        self.sections = [
            RowSection(
                "allergies",
                "allergies",
                "Allergies",
                "Allergy",
                "Medicines, foods, pollen, anything your body reacts to.",
                AllergyFormSet(data, initial=profile.allergies, prefix="allergies"),
            ),
            RowSection(
                "medications",
                "medications",
                "Current medications",
                "Medicine",
                "Everything you take now, homeopathic or not, including supplements.",
                MedicationFormSet(data, initial=profile.medications, prefix="medications"),
            ),
            RowSection(
                "chronic_conditions",
                "conditions",
                "Chronic conditions",
                "Condition",
                "Long-term conditions such as diabetes, thyroid or asthma.",
                ConditionFormSet(data, initial=profile.chronic_conditions, prefix="conditions"),
            ),
        ]

    @property
    def is_bound(self) -> bool:
        return self.form.is_bound

    def is_valid(self) -> bool:
        results = [self.form.is_valid(), *(section.formset.is_valid() for section in self.sections)]
        return all(results)

    @property
    def cleaned_data(self) -> dict[str, Any]:
        """Every editable field of the profile, JSON lists in their documented shape."""
        data = dict(self.form.cleaned_data)
        for section in self.sections:
            data[section.list_name] = section.formset.rows()
        return data

    def add_error(self, error: ValidationError) -> None:
        """Show a ValidationError raised by the service (a rule only the model knows)."""
        if not hasattr(error, "error_dict"):
            self.form.add_error(None, error)
            return
        titles = {section.list_name: section.title for section in self.sections}
        for field, errors in error.error_dict.items():
            for message in ValidationError(errors).messages:
                if field in self.form.fields:
                    self.form.add_error(field, message)
                elif field in titles:
                    self.form.add_error(None, f"{titles[field]}: {message}")
                else:
                    self.form.add_error(None, message)

    def errors(self) -> list[FormError]:
        """Every error on the page, in page order, for the summary at the top."""
        if not self.is_bound:
            return []
        found = [FormError("profile-form", "", message) for message in self.form.non_field_errors()]
        found += [FormError(field.auto_id, field.label, message) for field in self.form for message in field.errors]
        for section in self.sections:
            formset = section.formset
            found += [FormError(section.list_name, section.title, message) for message in formset.non_form_errors()]
            for number, form in enumerate(formset.forms, start=1):
                if formset.is_removed(form):
                    continue
                found += [
                    FormError(field.auto_id, f"{section.singular} {number}, {field.label.lower()}", message)
                    for field in form
                    for message in field.errors
                ]
        return found

    def __iter__(self) -> Iterator[RowSection]:
        return iter(self.sections)
