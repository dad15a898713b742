"""Forms of the prescription editor: the header, one row per remedy (a formset),
the correction reason and the public code lookup.

The rows are a Django formset so the editor works without JavaScript: blank
rows at the end, a "Remove" tick and a position number on each row.
static/js/prescription-editor.js adds on top: a remedy suggestion list,
"Add remedy", "Move up"/"Move down" (they renumber the position fields) and
"Remove" buttons (they tick the box).

Potency is typed as doctors write it and parsed here (prescriptions.potency);
a potency that cannot be read is an error next to that row's potency field.
The forms only validate; writing is prescriptions.services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from prescriptions import queries, schemas
from prescriptions.models import PILL_SIZES, DosageForm, PotencyScale, Prescription, PrescriptionType, Repetition
from prescriptions.potency import PotencyError, parse_potency
from prescriptions.services import MAX_ITEMS, REASON_MAX, HeaderData, ItemData

DEFAULT_VALID_DAYS = 90
TEXT_MAX = 5000

# --- messages (tests import these) -----------------------------------------------------

REMEDY_REQUIRED = "Name the remedy, or remove this row."
FOLLOW_UP_PAST = "The follow-up date is in the past."
VALID_UNTIL_PAST = "The prescription would already have expired: choose a date from today on."
FOLLOW_UP_AFTER_VALIDITY = "The follow-up is after the prescription expires; extend the validity or move the follow-up."
PILL_SIZE_NOT_GLOBULES = "A pill size goes with globules only."
LM_ONLY = "An LM plan goes with an LM potency (e.g. LM1)."
LM_DAYS_REQUIRED = "Say how many days each LM level is taken."
LM_TOO_HIGH = "The plan would go past LM{max}."
ROWS_TOO_MANY = f"A prescription can hold at most {MAX_ITEMS} remedies."
ROWS_TAMPERED = "The remedies could not be read. Reload the page and try again."
CODE_INVALID = "Enter the code printed at the foot of the prescription."


def _text(placeholder: str, **attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"placeholder": placeholder, "autocomplete": "off", **attrs})


def _tidy(text: str) -> str:
    return " ".join(text.split())


# --- the header -------------------------------------------------------------------------


class HeaderForm(forms.Form):
    prescription_type = forms.ChoiceField(label="Type", choices=PrescriptionType.choices)
    diagnosis = forms.CharField(
        label="Diagnosis or case notes",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Printed on the prescription.",
    )
    general_advice = forms.CharField(
        label="General advice",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Diet, lifestyle, what to avoid"}),
    )
    follow_up_date = forms.DateField(
        label="Follow-up on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    valid_until = forms.DateField(
        label="Valid until",
        required=False,
        help_text="Pharmacies dispense it until this date. Leave empty for no end date.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        for name in ("follow_up_date", "valid_until"):
            self.fields[name].widget.attrs["min"] = today.isoformat()

    def clean_diagnosis(self) -> str:
        return self.cleaned_data["diagnosis"].strip()

    def clean_general_advice(self) -> str:
        return self.cleaned_data["general_advice"].strip()

    def clean_follow_up_date(self) -> date | None:
        value = self.cleaned_data["follow_up_date"]
        if value is not None and value < self.today and value != self.initial.get("follow_up_date"):
            raise ValidationError(FOLLOW_UP_PAST, code="past")
        return value

    def clean_valid_until(self) -> date | None:
        value = self.cleaned_data["valid_until"]
        if value is not None and value < self.today:
            raise ValidationError(VALID_UNTIL_PAST, code="past")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        follow_up, valid_until = data.get("follow_up_date"), data.get("valid_until")
        if follow_up and valid_until and follow_up > valid_until:
            self.add_error("follow_up_date", FOLLOW_UP_AFTER_VALIDITY)
        return data

    def header(self) -> HeaderData:
        return HeaderData(**{name: self.cleaned_data[name] for name in HeaderData.__dataclass_fields__})


# --- one remedy ---------------------------------------------------------------------------

PILL_SIZE_CHOICES = [("", "—"), *((str(size), f"No. {size}") for size in PILL_SIZES)]
LM_FIELDS = ("lm_succussions", "lm_bottle_ml", "lm_dilution_cups", "lm_days", "lm_steps")
# What a row holds when the doctor has typed nothing: these alone do not make it a remedy.
_PASSIVE_FIELDS = frozenset({"ORDER", "DELETE", "dosage_form"})


class ItemForm(forms.Form):
    remedy_name = forms.CharField(
        label="Remedy",
        max_length=150,
        error_messages={"required": REMEDY_REQUIRED},
        widget=_text("e.g. Arnica montana or Arn.", **{"data-remedy-input": "", "autocapitalize": "words"}),
    )
    potency = forms.CharField(
        label="Potency",
        required=False,
        max_length=20,
        widget=_text("30, 200C, 1M, LM1, Q", autocapitalize="characters", spellcheck="false"),
    )
    dosage_form = forms.ChoiceField(label="Form", choices=DosageForm.choices, initial=DosageForm.GLOBULES)
    pill_size = forms.TypedChoiceField(
        label="Pill size",
        required=False,
        choices=PILL_SIZE_CHOICES,
        coerce=int,
        empty_value=None,
    )
    dose = forms.CharField(label="Dose", required=False, max_length=100, widget=_text("e.g. 4 globules"))
    repetition = forms.ChoiceField(label="Repetition", required=False, choices=[("", "Choose…"), *Repetition.choices])
    frequency = forms.CharField(
        label="Or in your words",
        required=False,
        max_length=100,
        widget=_text("e.g. after food, during an attack"),
    )
    duration = forms.CharField(label="For how long", required=False, max_length=100, widget=_text("e.g. 7 days"))
    quantity = forms.CharField(label="Quantity", required=False, max_length=50, widget=_text("e.g. 2 dram"))
    is_placebo = forms.BooleanField(label="Placebo", required=False, help_text="Not shown to the patient.")
    instruction_codes = forms.MultipleChoiceField(
        label="Instructions",
        required=False,
        choices=list(schemas.INSTRUCTIONS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    instructions = forms.CharField(
        label="Other instructions",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    lm_succussions = forms.IntegerField(
        label="Succussions before each dose",
        required=False,
        min_value=1,
        max_value=40,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 10"}),
    )
    lm_bottle_ml = forms.IntegerField(
        label="Medicine bottle (ml)",
        required=False,
        min_value=5,
        max_value=500,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 30"}),
    )
    lm_dilution_cups = forms.IntegerField(
        label="Dilution cups",
        required=False,
        min_value=1,
        max_value=4,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "1"}),
    )
    lm_days = forms.IntegerField(
        label="Days on each level",
        required=False,
        min_value=1,
        max_value=365,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 15"}),
    )
    lm_steps = forms.IntegerField(
        label="Levels, rising one at a time",
        required=False,
        min_value=1,
        max_value=schemas.LM_MAX_STEPS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 3"}),
    )

    def has_changed(self) -> bool:
        # The position number and the default form are set on blank rows too;
        # a row is a remedy only once something else is typed or ticked.
        return any(name not in _PASSIVE_FIELDS for name in self.changed_data)

    def clean_remedy_name(self) -> str:
        name = _tidy(self.cleaned_data["remedy_name"])
        if not name:
            raise ValidationError(REMEDY_REQUIRED, code="required")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("dose", "frequency", "duration", "quantity", "instructions"):
            if isinstance(data.get(name), str):
                data[name] = data[name].strip()

        placebo = bool(data.get("is_placebo"))
        form = data.get("dosage_form")
        typed = data.get("potency", "")
        if not typed and form == DosageForm.MOTHER_TINCTURE:
            typed = "Q"
        try:
            potency = parse_potency(typed, required=not placebo)
        except PotencyError as exc:
            self.add_error("potency", exc)
            potency = None
        data["potency_value"] = potency.value if potency else None
        data["potency_scale"] = potency.scale if potency else ""
        if potency is not None:
            data["potency"] = potency.display

        if data.get("pill_size") is not None and form != DosageForm.GLOBULES:
            self.add_error("pill_size", PILL_SIZE_NOT_GLOBULES)

        data["lm_plan"] = None
        given = {name: data.get(name) for name in LM_FIELDS if data.get(name) is not None}
        if given and "potency" not in self.errors:
            if data["potency_scale"] != PotencyScale.LM:
                self.add_error("lm_days", LM_ONLY)
            elif data.get("lm_days") is None:
                self.add_error("lm_days", LM_DAYS_REQUIRED)
            else:
                steps = data.get("lm_steps") or 1
                first = data["potency_value"]
                if first + steps - 1 > schemas.LM_MAX_LEVEL:
                    self.add_error("lm_steps", LM_TOO_HIGH.format(max=schemas.LM_MAX_LEVEL))
                else:
                    plan: dict[str, Any] = {
                        "steps": [{"level": first + i, "days": data["lm_days"]} for i in range(steps)]
                    }
                    for key, name in (
                        ("succussions", "lm_succussions"),
                        ("bottle_ml", "lm_bottle_ml"),
                        ("dilution_cups", "lm_dilution_cups"),
                    ):
                        if data.get(name) is not None:
                            plan[key] = data[name]
                    data["lm_plan"] = plan
        return data

    def item(self, remedy=None) -> ItemData:
        data = self.cleaned_data
        return ItemData(
            remedy_name=remedy.name if remedy is not None else data["remedy_name"],
            remedy=remedy,
            potency_value=data["potency_value"],
            potency_scale=data["potency_scale"],
            dosage_form=data["dosage_form"],
            pill_size=data.get("pill_size"),
            dose=data["dose"],
            repetition=data["repetition"],
            frequency=data["frequency"],
            duration=data["duration"],
            quantity=data["quantity"],
            lm_plan=data["lm_plan"],
            instruction_codes=list(data["instruction_codes"]),
            instructions=data["instructions"],
            is_placebo=bool(data["is_placebo"]),
        )

    @property
    def is_lm(self) -> bool:
        """Does this row hold an LM potency (for showing the LM plan open)?"""
        value = self["potency"].value() or ""
        return value.strip().upper().startswith(("LM", "0/"))


def item_initial(item) -> dict[str, Any]:
    """A saved PrescriptionItem as the row shows it."""
    plan = item.lm_plan or {}
    steps = plan.get("steps") or []
    return {
        "remedy_name": item.remedy_name,
        "potency": item.potency,
        "dosage_form": item.dosage_form,
        "pill_size": str(item.pill_size) if item.pill_size else "",
        "dose": item.dose,
        "repetition": item.repetition,
        "frequency": item.frequency,
        "duration": item.duration,
        "quantity": item.quantity,
        "is_placebo": item.is_placebo,
        "instruction_codes": list(item.instruction_codes or []),
        "instructions": item.instructions,
        "lm_succussions": plan.get("succussions"),
        "lm_bottle_ml": plan.get("bottle_ml"),
        "lm_dilution_cups": plan.get("dilution_cups"),
        "lm_days": steps[0]["days"] if steps else None,
        "lm_steps": len(steps) or None,
    }


class ItemFormSet(forms.BaseFormSet):
    default_error_messages = {
        "missing_management_form": ROWS_TAMPERED,
        "too_many_forms": ROWS_TOO_MANY,
    }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"
        if "ORDER" in form.fields:
            form.fields["ORDER"].label = "Position"
            form.fields["ORDER"].widget.attrs.update({"min": "1", "inputmode": "numeric", "data-row-order": ""})

    def is_removed(self, form: forms.Form) -> bool:
        return self.is_bound and bool(form["DELETE"].value())

    def rows(self) -> list[ItemForm]:
        """The remedy rows in the order given, without removed and blank ones; after is_valid()."""
        return list(self.ordered_forms)


ItemRows = forms.formset_factory(
    ItemForm,
    formset=ItemFormSet,
    extra=1,
    can_delete=True,
    can_order=True,
    max_num=MAX_ITEMS,
    validate_max=True,
)


# --- everything on the editor page ----------------------------------------------------------------


@dataclass(frozen=True)
class FormError:
    target: str  # an element id on the page
    label: str
    message: str


class PrescriptionEditor:
    """The header and the remedy rows, validated together; nothing is written unless all are valid."""

    NEW_ROWS = 3  # blank rows of a new prescription without JavaScript (the script keeps one)

    def __init__(
        self,
        data=None,
        *,
        prescription: Prescription | None = None,
        today: date | None = None,
        default_type: str = PrescriptionType.ACUTE,
    ) -> None:
        self.today = today or timezone.localdate()
        if prescription is not None:
            header_initial = {name: getattr(prescription, name) for name in HeaderData.__dataclass_fields__}
            rows = [item_initial(item) for item in prescription.item_list]
        else:
            header_initial = {
                "prescription_type": default_type,
                "valid_until": self.today + timedelta(days=DEFAULT_VALID_DAYS),
            }
            rows = []
        self.header_form = HeaderForm(data, initial=header_initial, today=self.today, prefix="rx")
        self.rows = ItemRows(data, initial=rows, prefix="items")
        if data is None and not rows:
            self.rows.extra = self.NEW_ROWS

    def is_valid(self) -> bool:
        results = [self.header_form.is_valid(), self.rows.is_valid()]
        return all(results)

    def header(self) -> HeaderData:
        return self.header_form.header()

    def items(self) -> list[ItemData]:
        """The remedies in order, each linked to its catalogue entry when the name is one (1 query)."""
        forms_in_order = self.rows.rows()
        catalogue = queries.remedy_lookup(form.cleaned_data["remedy_name"] for form in forms_in_order)
        return [form.item(catalogue.get(form.cleaned_data["remedy_name"])) for form in forms_in_order]

    def add_error(self, error: ValidationError) -> None:
        """Show a refusal from the service: row errors (item_<n>_<field>) on their row, others on top."""
        if not hasattr(error, "error_dict"):
            self.header_form.add_error(None, error)
            return
        live = self.rows.rows() if self.rows.is_bound and not self.rows.errors else []
        for key, errors in error.error_dict.items():
            messages = ValidationError(errors).messages
            if key.startswith("item_"):
                _, number, name = key.split("_", 2)
                index = int(number) - 1
                form = live[index] if 0 <= index < len(live) else None
                target = name if form is not None and name in form.fields else None
                for message in messages:
                    if form is not None and target:
                        form.add_error(target, message)
                    else:
                        self.header_form.add_error(None, f"Remedy {number}: {message}")
            elif key in self.header_form.fields:
                for message in messages:
                    self.header_form.add_error(key, message)
            else:
                for message in messages:
                    self.header_form.add_error(None, message)

    def errors(self) -> list[FormError]:
        """Every error on the page in page order, for the summary at the top."""
        if not self.header_form.is_bound:
            return []
        form = self.header_form
        found = [FormError("rx-editor", "", message) for message in form.non_field_errors()]
        found += [FormError(field.auto_id, field.label, message) for field in form for message in field.errors]
        found += [FormError("rx-items", "Remedies", message) for message in self.rows.non_form_errors()]
        for number, row in enumerate(self.rows.forms, start=1):
            if self.rows.is_removed(row):
                continue
            found += [FormError(f"{row.prefix}-row", f"Remedy {number}", message) for message in row.non_field_errors()]
            found += [
                FormError(field.auto_id, f"Remedy {number}, {field.label.lower()}", message)
                for field in row
                for message in field.errors
            ]
        return found


# --- correction and verification ------------------------------------------------------------------


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label="What was wrong",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. Wrong potency: Sulphur 200C, not 30C."}),
        help_text="The patient sees this. The prescription is withdrawn at once and a new version opens for you.",
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label="Verification code",
        max_length=16,
        error_messages={"required": CODE_INVALID},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.replace("-", "").replace("_", "").isalnum():
            raise ValidationError(CODE_INVALID, code="invalid")
        return code
